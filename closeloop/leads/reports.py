"""Lead reports: conversion by source and campaign, time to outcome, reasons, nurture returns.

Every figure starts from `lead_queryset(user=...)`, so each person sees the report of the leads
they may see (reps their own, managers their teams', admins all). Counts are database aggregates;
only the medians and 75th percentiles are computed in Python over one list of durations.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower, Trim

from closeloop.core.http import query_date, query_int
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal

from .choices import OPEN_LEAD_STATUSES, LeadStatus
from .models import Lead
from .selectors import lead_queryset

OUTCOMES = (LeadStatus.QUALIFIED, LeadStatus.NURTURING, LeadStatus.DISQUALIFIED)


@dataclass(frozen=True)
class ReportFilters:
    """Which leads a report covers: created in a date range, from a source/campaign, an owner."""

    created_from: dt.date | None = None
    created_to: dt.date | None = None
    source_id: int | None = None
    campaign_id: int | None = None
    owner_id: int | None = None

    @classmethod
    def from_query(cls, params: Any) -> ReportFilters:

        return cls(
            created_from=query_date(params, "from"),
            created_to=query_date(params, "to"),
            source_id=query_int(params, "source"),
            campaign_id=query_int(params, "campaign"),
            owner_id=query_int(params, "owner"),
        )


def report_leads(*, user: Any, filters: ReportFilters) -> QuerySet[Lead]:
    """The visible leads a report counts, each marked `has_won` if a deal from it was won."""
    qs = lead_queryset(user=user).order_by()
    if filters.created_from:
        qs = qs.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__date__lte=filters.created_to)
    if filters.source_id:
        qs = qs.filter(source_id=filters.source_id)
    if filters.campaign_id:
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    won = Deal.objects.filter(lead=OuterRef("pk"), status=DealStatus.WON)
    return qs.annotate(has_won=Exists(won))


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ConversionRow:
    """Leads from one source or campaign and how many became qualified and won."""

    name: str
    leads: int
    qualified: int
    won: int

    @property
    def qualified_rate(self) -> Decimal | None:
        return _percent(self.qualified, self.leads)

    @property
    def won_rate(self) -> Decimal | None:
        return _percent(self.won, self.leads)


def conversion_by(leads: QuerySet[Lead], field: str) -> list[ConversionRow]:
    """Per source or campaign (`field`): leads, qualified, leads with a won deal. One query."""
    rows = (
        leads.values(f"{field}__name")
        .annotate(
            n=Count("pk"),
            qualified=Count("pk", filter=Q(status=LeadStatus.QUALIFIED)),
            won=Count("pk", filter=Q(has_won=True)),
        )
        .order_by("-n", f"{field}__name")
    )
    return [
        ConversionRow(r[f"{field}__name"] or "(none)", r["n"], r["qualified"], r["won"])
        for r in rows
    ]


@dataclass(frozen=True)
class DurationRow:
    """How long leads took from creation to one outcome, in days."""

    outcome: str
    label: str
    leads: int
    median_days: Decimal | None
    p75_days: Decimal | None


def _days(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def time_to_outcome(leads: QuerySet[Lead]) -> list[DurationRow]:
    """Median and 75th percentile days from creation to each outcome (one query)."""
    durations: dict[str, list[float]] = {o: [] for o in OUTCOMES}
    rows = leads.filter(status__in=OUTCOMES, outcome_at__isnull=False).values_list(
        "status", "created_at", "outcome_at"
    )
    for status, created, outcome_at in rows:
        if outcome_at is not None:
            durations[status].append(max((outcome_at - created).total_seconds(), 0) / 86400)
    result = []
    for outcome in OUTCOMES:
        days = sorted(durations[outcome])
        p75 = None
        if len(days) == 1:
            p75 = days[0]
        elif days:
            p75 = statistics.quantiles(days, n=4, method="inclusive")[2]
        result.append(
            DurationRow(
                outcome,
                outcome.label,
                len(days),
                _days(statistics.median(days)) if days else None,
                _days(p75) if p75 is not None else None,
            )
        )
    return result


@dataclass(frozen=True)
class ReasonRow:
    outcome: str
    reason: str
    leads: int


def outcomes_by_reason(leads: QuerySet[Lead]) -> list[ReasonRow]:
    """Discarded leads per disqualify reason, nurtured ones per nurture reason (case ignored)."""
    discarded = (
        leads.filter(status=LeadStatus.DISQUALIFIED)
        .values_list("disqualify_reason__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "disqualify_reason__name")
    )
    nurturing = (
        leads.filter(status=LeadStatus.NURTURING)
        .annotate(reason=Lower(Trim("nurture_reason")))
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason")
    )
    return [ReasonRow("Discarded", name or "(no reason)", n) for name, n in discarded] + [
        ReasonRow("Nurturing", (reason or "(no reason)").capitalize(), n) for reason, n in nurturing
    ]


@dataclass(frozen=True)
class NurtureReturns:
    """Leads that were ever nurtured: still nurturing, back (open or qualified), and converted."""

    nurtured: int
    still_nurturing: int
    came_back: int
    qualified: int
    won: int

    @property
    def came_back_rate(self) -> Decimal | None:
        return _percent(self.came_back, self.nurtured)

    @property
    def qualified_rate(self) -> Decimal | None:
        return _percent(self.qualified, self.came_back)


def nurture_returns(leads: QuerySet[Lead]) -> NurtureReturns:
    """Of the leads nurtured at least once, how many came back and converted (one query)."""
    back = Q(status__in=(*OPEN_LEAD_STATUSES, LeadStatus.QUALIFIED))
    figures = leads.filter(nurture_count__gt=0).aggregate(
        nurtured=Count("pk"),
        still=Count("pk", filter=Q(status=LeadStatus.NURTURING)),
        back=Count("pk", filter=back),
        qualified=Count("pk", filter=Q(status=LeadStatus.QUALIFIED)),
        won=Count("pk", filter=back & Q(has_won=True)),
    )
    return NurtureReturns(
        figures["nurtured"], figures["still"], figures["back"], figures["qualified"], figures["won"]
    )


@dataclass
class LeadReport:
    """Every table of the lead reports page, for one person and one set of filters."""

    total: int
    by_source: list[ConversionRow]
    by_campaign: list[ConversionRow]
    durations: list[DurationRow]
    reasons: list[ReasonRow]
    nurture: NurtureReturns

    @property
    def widest_source(self) -> int:
        return max((r.leads for r in self.by_source), default=0)

    @property
    def widest_campaign(self) -> int:
        return max((r.leads for r in self.by_campaign), default=0)


def lead_report(*, user: Any, filters: ReportFilters) -> LeadReport:
    """The lead reports for what `user` may see, narrowed by `filters` (six queries)."""
    leads = report_leads(user=user, filters=filters)
    return LeadReport(
        total=leads.count(),
        by_source=conversion_by(leads, "source"),
        by_campaign=conversion_by(leads, "campaign"),
        durations=time_to_outcome(leads),
        reasons=outcomes_by_reason(leads),
        nurture=nurture_returns(leads),
    )


class ReportRows(list):  # type: ignore[type-arg]
    """A computed table handed to `csv_download`, which streams rows through `.iterator()`."""

    def iterator(self, chunk_size: int = 2000) -> Any:
        return iter(self)


def _pct(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def report_table(report: LeadReport, table: str) -> tuple[ReportRows, list[tuple[str, Any]]]:
    """Rows and columns of one report table for CSV export; KeyError for an unknown table."""
    conversion = [
        ("Leads", lambda r: r.leads),
        ("Qualified", lambda r: r.qualified),
        ("Qualified %", lambda r: _pct(r.qualified_rate)),
        ("Won", lambda r: r.won),
        ("Won %", lambda r: _pct(r.won_rate)),
    ]
    tables: dict[str, tuple[list[Any], list[tuple[str, Any]]]] = {
        "sources": (report.by_source, [("Source", lambda r: r.name), *conversion]),
        "campaigns": (report.by_campaign, [("Campaign", lambda r: r.name), *conversion]),
        "durations": (
            report.durations,
            [
                ("Outcome", lambda r: r.label),
                ("Leads", lambda r: r.leads),
                ("Median days", lambda r: _pct(r.median_days)),
                ("75th percentile days", lambda r: _pct(r.p75_days)),
            ],
        ),
        "reasons": (
            report.reasons,
            [
                ("Outcome", lambda r: r.outcome),
                ("Reason", lambda r: r.reason),
                ("Leads", lambda r: r.leads),
            ],
        ),
        "nurture": (
            [report.nurture],
            [
                ("Nurtured", lambda r: r.nurtured),
                ("Still nurturing", lambda r: r.still_nurturing),
                ("Came back", lambda r: r.came_back),
                ("Came back %", lambda r: _pct(r.came_back_rate)),
                ("Qualified", lambda r: r.qualified),
                ("Won", lambda r: r.won),
            ],
        ),
    }
    rows, columns = tables[table]
    return ReportRows(rows), columns
