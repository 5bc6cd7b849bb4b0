"""The key figures of the dashboards: a period against the one before, each linking to its report.

Both the manager dashboard (`/analytics/`) and the "My figures" block on the home page are
drawn from `key_figures`, so the two always agree. All deal figures come from one aggregate over
`DealFacts` (conditional counts and sums for both periods and the open pipeline), activities
from one count, and the per-rep table from one GROUP BY: the number of queries does not grow
with the number of deals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.urls import reverse

from closeloop.activities.choices import ActivityKind
from closeloop.activities.selectors import activity_visible_to
from closeloop.core.money import base_currency, format_money
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.rollups.models import ClosedCell, OpenedCell

from .cells import deals, report_rows
from .choices import PeriodPreset
from .filters import Period, ReportFilters, period_of, report_facts
from .stats import percent

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Figure:
    """One key figure: its value now and in the previous period (None: not compared)."""

    key: str
    label: str
    kind: str  # "count", "money", "percent", "days"
    value: Any
    previous: Any
    url: str
    note: str = ""
    compared: bool = True  # False for snapshots (the open pipeline is "now", not a period)
    currency: str = ""

    @property
    def shown(self) -> str:
        return _shown(self.kind, self.value, self.currency)

    @property
    def shown_previous(self) -> str:
        return _shown(self.kind, self.previous, self.currency)

    @property
    def change(self) -> Any:
        """How much the figure moved since the previous period (None when not comparable)."""
        if not self.compared or self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def trend(self) -> str:
        """ "up", "down" or "same" (empty when not comparable), for the arrow on the page."""
        change = self.change
        if change is None:
            return ""
        return "up" if change > 0 else "down" if change < 0 else "same"


def _shown(kind: str, value: Any, currency: str) -> str:
    """A figure as the page shows it ("–" when there is nothing to show)."""
    if value is None:
        return "–"
    if kind == "money":
        return format_money(value, currency)
    if kind == "percent":
        return f"{value} %"
    if kind == "days":
        return f"{value} days"
    return f"{value:,}"


@dataclass(frozen=True)
class RepRow:
    """One owner's deals closed in the period: won value (base currency) and win rate."""

    owner_id: int
    name: str
    won: int
    lost: int
    won_value: Decimal
    url: str

    @property
    def win_rate(self) -> Decimal | None:
        return percent(self.won, self.won + self.lost)


def _period_sums(
    prefix: str, period: Period, currency: str, *, user: Any, filters: ReportFilters
) -> dict[str, Any]:
    """Deals opened, won and lost in `period` and their sums (keys start with `prefix`)."""
    won = Q(status=DealStatus.WON)
    row = report_rows(OpenedCell, user=user, filters=filters, period=period).aggregate(
        opened=deals()
    )
    row |= report_rows(ClosedCell, user=user, filters=filters, period=period).aggregate(
        won=deals(won),
        lost=deals(Q(status=DealStatus.LOST)),
        won_value=Sum("value", filter=won & Q(currency=currency)),
        won_other=deals(won & ~Q(currency=currency)),
        cycle_sum=Sum("cycle_tenths", filter=won),
    )
    return {f"{prefix}{name}": value for name, value in row.items()}


def _activities(
    *, user: Any, filters: ReportFilters, period: Period, previous: Period | None
) -> tuple[int, int | None]:
    """Activities people logged in the period and in the previous one (automatic change
    entries do not count), by the owners the filters select: one query."""
    qs = activity_visible_to(user).exclude(kind=ActivityKind.CHANGE)
    if filters.owner_id:
        qs = qs.filter(actor_id=filters.owner_id)
    if filters.team_id:
        qs = qs.filter(actor__teams=filters.team_id)
    counts = {"now": Count("pk", filter=period.q("created_at"))}
    if previous is not None:
        counts["before"] = Count("pk", filter=previous.q("created_at"))
    row = qs.order_by().aggregate(**counts)
    return row["now"], row.get("before")


def _average_days(total_tenths: int | None, count: int) -> Decimal | None:
    if not count or total_tenths is None:
        return None
    return (Decimal(total_tenths) / 10 / count).quantize(Decimal("0.1"))


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(CENTS)


def _period_values(row: dict[str, Any], prefix: str, activities: int | None) -> dict[str, Any]:
    """The figures of one period from the aggregate row (its keys start with `prefix`)."""
    won, lost = row[f"{prefix}won"], row[f"{prefix}lost"]
    return {
        "opened": row[f"{prefix}opened"],
        "won": won,
        "won_value": _money(row[f"{prefix}won_value"]),
        "win_rate": percent(won, won + lost),
        "cycle": _average_days(row[f"{prefix}cycle_sum"], won),
        "acts": activities,
    }


def report_url(key: str, filters: ReportFilters) -> str:
    """The address of a report with these filters."""
    return f"{reverse('analytics:report', args=[key])}?{filters.query()}"


def key_figures(*, user: Any, filters: ReportFilters) -> list[Figure]:
    """Deals opened, won, won value, win rate, average cycle, activities logged, open and
    weighted pipeline: for the filters' period against the previous one, as `user` sees them."""
    period, previous = filters.period, filters.period.previous()
    currency = base_currency()
    row = _period_sums("", period, currency, user=user, filters=filters)
    if previous is not None:
        row |= _period_sums("prev_", previous, currency, user=user, filters=filters)
    open_base = Q(status=DealStatus.OPEN, currency=currency)
    weighted = ExpressionWrapper(
        F("value") * F("stage__probability"), output_field=DecimalField(max_digits=20)
    )
    # the open deals are few next to the closed ones, read from the open-deal index alone
    row |= (
        report_facts(user=user, filters=filters, date_field=None)
        .filter(status=DealStatus.OPEN)
        .aggregate(
            open_value=Sum("value", filter=open_base),
            open_weighted=Sum(weighted, filter=open_base),
            open_deals=Count("pk"),
            open_other=Count("pk", filter=~Q(currency=currency)),
        )
    )
    acts = _activities(user=user, filters=filters, period=period, previous=previous)
    now = _period_values(row, "", acts[0])
    before = _period_values(row, "prev_", acts[1]) if previous is not None else {}
    won_other = row["won_other"]
    weighted_value = (row["open_weighted"] or Decimal(0)) / 100
    link = {
        key: report_url(key, filters)
        for key in ("funnel", "win-rates", "team", "cycle", "forecast")
    }
    other_note = (
        f"{won_other} won deal{'s' if won_other != 1 else ''} in other currencies not added."
        if won_other
        else ""
    )
    open_note = (
        f"{row['open_other']} open deal{'s' if row['open_other'] != 1 else ''} in other "
        "currencies not added."
        if row["open_other"]
        else ""
    )
    return [
        Figure(
            "opened", "Deals opened", "count", now["opened"], before.get("opened"), link["funnel"]
        ),
        Figure("won", "Deals won", "count", now["won"], before.get("won"), link["win-rates"]),
        Figure(
            "won_value",
            f"Won value ({currency})",
            "money",
            now["won_value"],
            before.get("won_value"),
            link["team"],
            other_note,
            currency=currency,
        ),
        Figure(
            "win_rate",
            "Win rate",
            "percent",
            now["win_rate"],
            before.get("win_rate"),
            link["win-rates"],
            "won ÷ (won + lost), deals closed in the period",
        ),
        Figure(
            "cycle",
            "Average cycle",
            "days",
            now["cycle"],
            before.get("cycle"),
            link["cycle"],
            "days from opening to winning, deals won in the period",
        ),
        Figure(
            "activities",
            "Activities logged",
            "count",
            now["acts"],
            before.get("acts"),
            link["team"],
        ),
        Figure(
            "open_value",
            f"Open pipeline ({currency})",
            "money",
            _money(row["open_value"]),
            None,
            link["forecast"],
            " ".join(
                part
                for part in (
                    f"{row['open_deals']} open deal{'s' if row['open_deals'] != 1 else ''} today.",
                    open_note,
                )
                if part
            ),
            compared=False,
            currency=currency,
        ),
        Figure(
            "weighted_value",
            f"Weighted pipeline ({currency})",
            "money",
            weighted_value.quantize(CENTS),
            None,
            link["forecast"],
            "each open deal's value × its stage's win probability",
            compared=False,
            currency=currency,
        ),
    ]


def rep_rows(*, user: Any, filters: ReportFilters) -> list[RepRow]:
    """Per owner, the deals closed in the period: won, lost, won value (base currency); the
    owners with the highest won value first."""
    currency = base_currency()
    rows = report_rows(ClosedCell, user=user, filters=filters).group(
        "owner_id",
        "owner__full_name",
        "owner__email",
        won=deals(Q(status=DealStatus.WON)),
        lost=deals(Q(status=DealStatus.LOST)),
        won_value=Sum("value", filter=Q(status=DealStatus.WON, currency=currency)),
    )
    result = [
        RepRow(
            owner_id=r["owner_id"],
            name=r["owner__full_name"] or r["owner__email"],
            won=r["won"],
            lost=r["lost"],
            won_value=(r["won_value"] or Decimal(0)).quantize(CENTS),
            url=report_url("win-rates", _with_owner(filters, r["owner_id"])),
        )
        for r in rows
    ]
    return sorted(result, key=lambda r: (-r.won_value, -r.won, r.name))


def _with_owner(filters: ReportFilters, owner_id: int) -> ReportFilters:
    return replace(filters, owner_id=owner_id)


@dataclass
class Dashboard:
    """What a dashboard shows: the key figures, the top insights, the per-owner table."""

    filters: ReportFilters
    currency: str
    figures: list[Figure]
    insights: list[Any]
    insights_url: str
    reps: list[RepRow]


def dashboard_build(*, user: Any, filters: ReportFilters, insights: int = 3) -> Dashboard:
    """The manager dashboard for these filters (as `user` sees the deals)."""
    from .reports.insights import insights_find

    return Dashboard(
        filters=filters,
        currency=base_currency(),
        figures=key_figures(user=user, filters=filters),
        insights=insights_find(user=user, filters=filters).findings[:insights],
        insights_url=report_url("insights", filters),
        reps=rep_rows(user=user, filters=filters),
    )


@dataclass
class MyFigures:
    """A user's own key figures (deals they own), this month against last month."""

    filters: ReportFilters
    figures: list[Figure]


def my_figures(*, user: Any, pipeline_id: int | None, today: dt.date | None = None) -> MyFigures:
    """The key figures of `user`'s own deals in a pipeline, this month against last month."""
    filters = ReportFilters(
        pipeline_id=pipeline_id,
        period=period_of(PeriodPreset.THIS_MONTH, today),
        owner_id=user.pk,
    )
    return MyFigures(filters=filters, figures=key_figures(user=user, filters=filters))
