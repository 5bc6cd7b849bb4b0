"""Proposal reports: win rate by template, discounts given, time to acceptance, versions needed.

Everything is computed from the sent versions and the customers' answers (nothing is stored
twice), over the proposals the person may see (reps their own, managers their teams', admins
all) whose first version was sent in the chosen period. Three queries, whatever the size.

- Win rate: proposals accepted ÷ proposals sent, per template.
- Discount: from each proposal's accepted version, else its last sent one: the snapshot's
  discount ÷ subtotal. Per rep, the average of their proposals' percentages; per product, the
  average of its lines' percentages (each line: its discount ÷ its amount). Percentages are
  averaged, not money, so proposals in different currencies can be compared.
- Days from the first send to the acceptance: median and 75th percentile.
- Versions before acceptance: the number of the version accepted (1: the first offer was taken).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Prefetch

from closeloop.leads.reports import ReportRows

from .choices import ResponseKind
from .models import Proposal, ProposalResponse, ProposalVersion
from .selectors import proposal_list

HUNDRED = Decimal(100)
TENTH = Decimal("0.1")


def _round(value: Decimal) -> Decimal:
    return value.quantize(TENTH, rounding=ROUND_HALF_UP)


def _percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return _round(HUNDRED * Decimal(part) / Decimal(whole)) if whole else None


def _mean(values: list[Decimal]) -> Decimal | None:
    return _round(sum(values, Decimal(0)) / len(values)) if values else None


def quantile(values: list[Decimal], q: Decimal) -> Decimal | None:
    """The q-quantile (0..1) of the values, interpolating between the two nearest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def _rounded_quantile(values: list[Decimal], q: Decimal) -> Decimal | None:
    value = quantile(values, q)
    return None if value is None else _round(value)


@dataclass(frozen=True)
class ReportPeriod:
    """Proposals first sent from `start` to `end` (inclusive; either may be open)."""

    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class WinRateRow:
    template: str
    sent: int
    accepted: int

    @property
    def rate(self) -> Decimal | None:
        return _percent(self.accepted, self.sent)


@dataclass(frozen=True)
class DiscountRow:
    """The average discount one rep gave, or one product was given, and over how many."""

    name: str
    count: int
    average_percent: Decimal | None


@dataclass(frozen=True)
class VersionsRow:
    versions: int
    accepted: int


@dataclass
class ProposalReport:
    """Every table of the proposal reports page, for one person and one period."""

    period: ReportPeriod
    sent: int
    win_rates: list[WinRateRow]
    discount_by_rep: list[DiscountRow]
    discount_by_product: list[DiscountRow]
    accepted: int
    days_median: Decimal | None
    days_p75: Decimal | None
    versions_average: Decimal | None
    versions_distribution: list[VersionsRow]


def report_proposals(*, user: Any, period: ReportPeriod) -> list[Proposal]:
    """The visible proposals first sent in the period, with their versions and answers."""
    qs = proposal_list(user=user).filter(version_count__gte=1)
    first_sent: dict[str, dt.date] = {}
    if period.start:
        first_sent["versions__created_at__date__gte"] = period.start
    if period.end:
        first_sent["versions__created_at__date__lte"] = period.end
    if first_sent:
        # one filter call: both bounds apply to the same (first) version
        qs = qs.filter(versions__number=1, **first_sent)  # type: ignore[arg-type]
    accepted = ProposalResponse.objects.filter(kind=ResponseKind.ACCEPTED).order_by("created_at")
    versions = ProposalVersion.objects.order_by("number").prefetch_related(
        Prefetch("responses", queryset=accepted, to_attr="acceptances")
    )
    return list(
        qs.select_related("deal__owner")
        .prefetch_related(Prefetch("versions", queryset=versions, to_attr="sent_versions"))
        .order_by("pk")
    )


def _accepted(proposal: Any) -> tuple[ProposalVersion, ProposalResponse] | None:
    for version in proposal.sent_versions:
        if version.acceptances:
            return version, version.acceptances[0]
    return None


def _snapshot_percent(snapshot: dict[str, Any]) -> Decimal | None:
    groups = snapshot.get("totals", {}).get("by_billing", [])
    subtotal = sum((Decimal(g["subtotal"]) for g in groups), Decimal(0))
    discount = sum((Decimal(g["discount"]) for g in groups), Decimal(0))
    return HUNDRED * discount / subtotal if subtotal else None


def proposal_report(*, user: Any, period: ReportPeriod) -> ProposalReport:
    """The proposal reports over what `user` may see, first sent in `period`."""
    proposals: list[Any] = report_proposals(user=user, period=period)
    sent: Counter[str] = Counter()
    won: Counter[str] = Counter()
    by_rep: dict[str, list[Decimal]] = defaultdict(list)
    by_product: dict[Any, list[Decimal]] = defaultdict(list)
    product_names: dict[Any, str] = {}
    days: list[Decimal] = []
    versions_needed: list[int] = []
    for proposal in proposals:
        template = proposal.template.name if proposal.template else "(no template)"
        sent[template] += 1
        acceptance = _accepted(proposal)
        if acceptance is not None:
            version, response = acceptance
            won[template] += 1
            first_sent = proposal.sent_versions[0].created_at
            seconds = max((response.created_at - first_sent).total_seconds(), 0)
            days.append(Decimal(str(seconds)) / Decimal(86400))
            versions_needed.append(version.number)
        else:
            version = proposal.sent_versions[-1]
        snapshot = version.snapshot
        percent = _snapshot_percent(snapshot)
        if percent is not None:
            by_rep[str(proposal.deal.owner)].append(percent)
        for line in snapshot.get("lines", []):
            amount = Decimal(line.get("amount") or 0)
            if not amount:
                continue
            key = line.get("product_id") or f"name:{line.get('name', '')}"
            product_names.setdefault(key, line.get("name", ""))
            by_product[key].append(HUNDRED * Decimal(line.get("discount") or 0) / amount)

    def discount_rows(groups: dict[Any, list[Decimal]], name: Any) -> list[DiscountRow]:
        rows = [
            DiscountRow(name(key), len(values), _mean(values)) for key, values in groups.items()
        ]
        return sorted(rows, key=lambda r: (-(r.average_percent or 0), r.name))

    spread = Counter(versions_needed)
    return ProposalReport(
        period=period,
        sent=len(proposals),
        win_rates=sorted(
            (WinRateRow(name, n, won[name]) for name, n in sent.items()),
            key=lambda r: (-(r.rate or 0), -r.sent, r.template),
        ),
        discount_by_rep=discount_rows(by_rep, lambda key: key),
        discount_by_product=discount_rows(by_product, lambda key: product_names[key]),
        accepted=len(days),
        days_median=_rounded_quantile(days, Decimal("0.5")),
        days_p75=_rounded_quantile(days, Decimal("0.75")),
        versions_average=_mean([Decimal(n) for n in versions_needed]),
        versions_distribution=[VersionsRow(n, spread[n]) for n in sorted(spread)],
    )


def _show(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def report_table(report: ProposalReport, table: str) -> tuple[ReportRows, list[tuple[str, Any]]]:
    """Rows and columns of one report table for CSV export; KeyError for an unknown table."""
    discount = [
        ("Proposals or lines", lambda r: r.count),
        ("Average discount %", lambda r: _show(r.average_percent)),
    ]
    tables: dict[str, tuple[list[Any], list[tuple[str, Any]]]] = {
        "templates": (
            report.win_rates,
            [
                ("Template", lambda r: r.template),
                ("Sent", lambda r: r.sent),
                ("Accepted", lambda r: r.accepted),
                ("Win rate %", lambda r: _show(r.rate)),
            ],
        ),
        "reps": (report.discount_by_rep, [("Rep", lambda r: r.name), *discount]),
        "products": (report.discount_by_product, [("Product", lambda r: r.name), *discount]),
        "acceptance": (
            [report],
            [
                ("Accepted", lambda r: r.accepted),
                ("Median days to accept", lambda r: _show(r.days_median)),
                ("75th percentile days", lambda r: _show(r.days_p75)),
                ("Average versions", lambda r: _show(r.versions_average)),
            ],
        ),
        "versions": (
            report.versions_distribution,
            [("Versions", lambda r: r.versions), ("Accepted proposals", lambda r: r.accepted)],
        ),
    }
    rows, columns = tables[table]
    return ReportRows(rows), columns
