"""What a report covers: one pipeline, a period, and optionally a team, owner, source, campaign
or product. Every report and dashboard reads its deals through `report_facts`, which applies
the visibility rules first, so a rep's report counts only what the rep may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.http import urlencode

from closeloop.accounts.visibility import owner_filter
from closeloop.core.http import query_date, query_int
from closeloop.pipeline.models import DealFacts, Pipeline, Stage, StageStay

from .choices import PeriodPreset

DEFAULT_PRESET = PeriodPreset.LAST_12_MONTHS


def month_start(day: dt.date, ahead: int = 0) -> dt.date:
    """The first day of the month `ahead` months after `day`'s month (negative: before)."""
    index = day.year * 12 + day.month - 1 + ahead
    return dt.date(index // 12, index % 12 + 1, 1)


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of a local day, as an aware datetime."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class Period:
    """A span of local days [first, last]; None ends mean open-ended ("all time")."""

    preset: str
    first: dt.date | None
    last: dt.date | None

    @property
    def start(self) -> dt.datetime | None:
        return day_start(self.first) if self.first else None

    @property
    def end(self) -> dt.datetime | None:
        """The first moment after the period."""
        return day_start(self.last + dt.timedelta(days=1)) if self.last else None

    @property
    def label(self) -> str:
        if self.preset == PeriodPreset.ALL:
            return "All time"
        first = self.first.strftime("%-d %b %Y") if self.first else "the beginning"
        last = self.last.strftime("%-d %b %Y") if self.last else "today"
        return f"{first} – {last}"

    def q(self, field: str) -> Q:
        """Rows whose `field` (a datetime) falls in the period."""
        condition = Q()
        if self.start:
            condition &= Q(**{f"{field}__gte": self.start})
        if self.end:
            condition &= Q(**{f"{field}__lt": self.end})
        return condition

    def previous(self) -> Period | None:
        """The period just before, as long as this one (the calendar period for presets)."""
        if self.first is None or self.last is None:
            return None
        if self.preset in (PeriodPreset.THIS_MONTH, PeriodPreset.LAST_MONTH):
            first = month_start(self.first, -1)
            return Period(PeriodPreset.CUSTOM, first, self.first - dt.timedelta(days=1))
        months = {
            PeriodPreset.THIS_QUARTER: 3,
            PeriodPreset.LAST_QUARTER: 3,
            PeriodPreset.THIS_YEAR: 12,
            PeriodPreset.LAST_12_MONTHS: 12,
        }.get(self.preset)  # type: ignore[call-overload]
        if months:
            first = month_start(self.first, -months)
            return Period(PeriodPreset.CUSTOM, first, self.first - dt.timedelta(days=1))
        days = (self.last - self.first).days + 1
        return Period(
            PeriodPreset.CUSTOM,
            self.first - dt.timedelta(days=days),
            self.first - dt.timedelta(days=1),
        )


def period_of(preset: str, today: dt.date | None = None, **custom: dt.date | None) -> Period:
    """The period a preset names, counted in local days up to today (unknown: the default)."""
    today = today or timezone.localdate()
    month = month_start(today)
    quarter = month_start(today, -((today.month - 1) % 3))
    if preset == PeriodPreset.CUSTOM:
        first, last = custom.get("first"), custom.get("last")
        if first and last and first > last:
            first, last = last, first
        return Period(preset, first, last)
    if preset == PeriodPreset.ALL:
        return Period(preset, None, None)
    spans = {
        PeriodPreset.THIS_MONTH: (month, month_start(today, 1)),
        PeriodPreset.LAST_MONTH: (month_start(today, -1), month),
        PeriodPreset.THIS_QUARTER: (quarter, month_start(quarter, 3)),
        PeriodPreset.LAST_QUARTER: (month_start(quarter, -3), quarter),
        PeriodPreset.THIS_YEAR: (dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)),
        PeriodPreset.LAST_12_MONTHS: (month_start(today, -11), month_start(today, 1)),
    }
    key = preset if preset in spans else DEFAULT_PRESET
    first, after = spans[PeriodPreset(key)]
    return Period(key, first, after - dt.timedelta(days=1))


@dataclass(frozen=True)
class ReportFilters:
    """The choices on top of every report page (ids; None means all)."""

    pipeline_id: int | None
    period: Period
    team_id: int | None = None
    owner_id: int | None = None
    source_id: int | None = None
    campaign_id: int | None = None
    product_id: int | None = None

    @classmethod
    def from_query(cls, params: Any, *, default_pipeline: int | None = None) -> ReportFilters:
        preset = params.get("period") or DEFAULT_PRESET
        first, last = query_date(params, "from"), query_date(params, "to")
        if (first or last) and preset == DEFAULT_PRESET and "period" not in params:
            preset = PeriodPreset.CUSTOM
        return cls(
            pipeline_id=query_int(params, "pipeline") or default_pipeline,
            period=period_of(preset, first=first, last=last),
            team_id=query_int(params, "team"),
            owner_id=query_int(params, "owner"),
            source_id=query_int(params, "source"),
            campaign_id=query_int(params, "campaign"),
            product_id=query_int(params, "product"),
        )

    def with_period(self, period: Period) -> ReportFilters:
        return replace(self, period=period)

    def query(self, **extra: Any) -> str:
        """The query string that reproduces these filters (plus `extra`), for links."""
        params: dict[str, Any] = {
            "pipeline": self.pipeline_id,
            "period": self.period.preset,
            "team": self.team_id,
            "owner": self.owner_id,
            "source": self.source_id,
            "campaign": self.campaign_id,
            "product": self.product_id,
        }
        if self.period.preset == PeriodPreset.CUSTOM:
            params["from"] = self.period.first.isoformat() if self.period.first else None
            params["to"] = self.period.last.isoformat() if self.period.last else None
        params.update(extra)
        return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def default_pipeline_id() -> int | None:
    pipeline = Pipeline.objects.order_by("-is_default", "position", "pk").first()
    return pipeline.pk if pipeline else None


def report_narrowed(
    qs: QuerySet, user: Any, filters: ReportFilters, *, deal_field: str
) -> QuerySet:
    """`qs` (facts, stays or rollup cells) limited to what `user` may see and the filters
    other than the period."""
    # every fact, stay and cell has an owner: no "or unowned", which keeps the owner indexes
    # usable (SQLite reads "owner = me OR owner IN (team)" as one IN list)
    condition = owner_filter(user, "owner", nullable=False)
    if condition is not None:
        qs = qs.filter(condition)
    if filters.pipeline_id:
        qs = qs.filter(pipeline_id=filters.pipeline_id)
    if filters.team_id:
        qs = qs.filter(owner__teams=filters.team_id)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.source_id:
        qs = qs.filter(source_id=filters.source_id)
    if filters.campaign_id:
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.product_id:
        from closeloop.proposals.models import LineItem

        lines = LineItem.objects.filter(
            proposal__deal_id=OuterRef(deal_field), product_id=filters.product_id
        )
        qs = qs.filter(Exists(lines))
    return qs.order_by()


def report_facts(
    *, user: Any, filters: ReportFilters, date_field: str | None = "created_at"
) -> QuerySet[DealFacts]:
    """The facts of the deals a report counts: visible to `user`, matching the filters, and with
    `date_field` (created_at: the cohort; closed_at: closed in the period) in the period."""
    qs = report_narrowed(DealFacts.objects.all(), user, filters, deal_field="deal_id")
    if date_field:
        qs = qs.filter(filters.period.q(date_field))
    return qs


def report_stays(*, user: Any, filters: ReportFilters) -> QuerySet[StageStay]:
    """Time-in-stage rows of the deals closed (won or lost) in the period, filtered alike."""
    qs = report_narrowed(StageStay.objects.all(), user, filters, deal_field="deal_id")
    return qs.filter(filters.period.q("closed_at"), closed_at__isnull=False)


def report_stages(filters: ReportFilters) -> list[Stage]:
    """The stages of the report's pipeline in their order (none without a pipeline)."""
    return list(
        Stage.objects.filter(pipeline_id=filters.pipeline_id or 0).order_by("position", "pk")
    )
