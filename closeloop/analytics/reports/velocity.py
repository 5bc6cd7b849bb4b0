"""Pipeline velocity: how much value the pipeline turns into won business per day.

velocity = open deals × win rate × average won value ÷ average cycle length (days)

- Open deals: deals open at the end of the period (or now, if it has not ended): opened before
  then and not closed before then. Every currency counts.
- Win rate: won ÷ (won + lost) of the deals closed in the period.
- Average won value: of the deals won in the period, in the base currency only (others have no
  common unit).
- Average cycle length: days from opening to winning, of the deals won in the period — the
  time it takes to turn a deal into revenue, which is what velocity measures.

With no deal closed there is no win rate and no velocity; with deals closed but none won the
velocity is 0. The trend repeats the figures for each of the six months up to the end of the
period (all in one query).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Func, Max, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from closeloop.core.money import base_currency
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.rollups.models import ClosedCell, OpenedCell

from ..cells import cells_usable
from ..charts import line_chart
from ..choices import PeriodPreset
from ..filters import Period, ReportFilters, month_start, report_facts, report_narrowed
from ..results import ReportKind, ReportResult, Section, Table, report_register
from ..stats import Rate

TREND_MONTHS = 6
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Velocity:
    """The four inputs of pipeline velocity for one span of time, and the result."""

    label: str
    open_deals: int
    won: int
    lost: int
    won_summed: int  # won deals in the base currency, behind `won_value`
    won_value_sum: Decimal
    cycle_tenths_sum: int  # of all won deals

    @property
    def win_rate(self) -> Rate:
        return Rate(self.won, self.won + self.lost)

    @property
    def average_won_value(self) -> Decimal | None:
        if not self.won_summed:
            return None
        return (self.won_value_sum / self.won_summed).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def average_cycle_days(self) -> Decimal | None:
        if not self.won:
            return None
        return (Decimal(self.cycle_tenths_sum or 0) / 10 / self.won).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    @property
    def per_day(self) -> Decimal | None:
        """Value per day, from the unrounded averages; None when nothing closed."""
        closed = self.won + self.lost
        if not closed:
            return None
        if not self.won or not self.won_summed or not self.cycle_tenths_sum:
            return Decimal("0.00")
        average_value = self.won_value_sum / self.won_summed
        average_days = Decimal(self.cycle_tenths_sum) / 10 / self.won
        result = self.open_deals * Decimal(self.won) / closed * average_value / average_days
        return result.quantize(CENT, rounding=ROUND_HALF_UP)


def _aggregates(period: Period, now: dt.datetime, currency: str, n: int) -> dict[str, Any]:
    """The six figures of one span from the facts, suffixed with `n` so that many spans share
    one query (for filters and periods the cells cannot answer)."""
    end = min(period.end, now) if period.end else now
    in_period = period.q("closed_at")
    won = in_period & Q(status=DealStatus.WON)
    base = Q(currency=currency)
    still_open = Q(status=DealStatus.OPEN) | Q(closed_at__gte=end)
    return {
        f"open_deals_{n}": Count("pk", filter=Q(created_at__lt=end) & still_open),
        f"won_{n}": Count("pk", filter=won),
        f"lost_{n}": Count("pk", filter=in_period & Q(status=DealStatus.LOST)),
        f"won_summed_{n}": Count("pk", filter=won & base),
        f"won_value_sum_{n}": Sum("value", filter=won & base),
        f"cycle_tenths_sum_{n}": Sum("cycle_tenths", filter=won),
    }


def _month_of(moment: dt.datetime | None) -> dt.date | None:
    """The cells' month starting at `moment` (None when it is not a month's start there)."""
    if moment is None:
        return None
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return local.date() if local.day == 1 and local.time() == dt.time.min else None


def _total(cells: QuerySet, field: str, condition: Q) -> Max:
    """A sum over other cells, as one column of the outer aggregate: the subquery does not
    depend on the outer rows, so the database computes it once."""
    summed = cells.filter(condition).annotate(total=Func(F(field), function="SUM"))
    return Max(Subquery(summed.values("total")[:1]))


def _cell_aggregates(
    period: Period, now: dt.datetime, currency: str, n: int, closed: QuerySet
) -> dict[str, Any] | None:
    """The same figures from the cells (an aggregate over the opened cells, the closed ones
    as subqueries), or None when the span does not start and end on the cells' months."""
    first, last = _month_of(period.start), _month_of(period.end)
    if (period.start and first is None) or (period.end and last is None):
        return None
    at_end = Q() if not period.end or period.end >= now else Q(month__lt=last)
    in_period = Q(**({"month__gte": first} if first else {})) & Q(
        **({"month__lt": last} if last else {})
    )
    won = in_period & Q(status=DealStatus.WON)
    base = Q(currency=currency)
    return {
        f"opened_before_{n}": Sum("deals", filter=at_end, default=0),
        f"closed_before_{n}": _total(closed, "deals", at_end),
        f"won_{n}": _total(closed, "deals", won),
        f"lost_{n}": _total(closed, "deals", in_period & Q(status=DealStatus.LOST)),
        f"won_summed_{n}": _total(closed, "deals", won & base),
        f"won_value_sum_{n}": _total(closed, "value", won & base),
        f"cycle_tenths_sum_{n}": _total(closed, "cycle_tenths", won),
    }


def _span_counts(
    *,
    user: Any,
    filters: ReportFilters,
    spans: list[tuple[Period, str]],
    now: dt.datetime,
    currency: str,
) -> dict[str, Any]:
    """Every span's figures in one query: from the cells where each span covers whole months
    of them (deals open at a span's end = opened before it less closed before it, since a
    deal closes after it opens), otherwise from the facts."""
    if cells_usable(ClosedCell, user=user, filters=filters):
        closed = report_narrowed(ClosedCell.objects.all(), user, filters, deal_field="")
        aggregates: dict[str, Any] = {}
        for n, (period, _) in enumerate(spans):
            found = _cell_aggregates(period, now, currency, n, closed)
            if found is None:
                break
            aggregates |= found
        else:
            opened = report_narrowed(OpenedCell.objects.all(), user, filters, deal_field="")
            counts = opened.aggregate(**aggregates)
            for n in range(len(spans)):
                counts[f"open_deals_{n}"] = counts.pop(f"opened_before_{n}") - (
                    counts.pop(f"closed_before_{n}") or 0
                )
                for key in ("won", "lost", "won_summed"):
                    counts[f"{key}_{n}"] = counts[f"{key}_{n}"] or 0
            return counts
    facts = report_facts(user=user, filters=filters, date_field=None)
    starts = [p.start for p, _ in spans]
    if spans and all(starts):
        # only deals open now or closed since the first start can count: keeps the query on
        # the recent rows of a large pipeline (open at a past end = closed after it or open)
        facts = facts.filter(
            Q(status=DealStatus.OPEN) | Q(closed_at__gte=min(s for s in starts if s is not None))
        )
    aggregates = {}
    for n, (period, _) in enumerate(spans):
        aggregates.update(_aggregates(period, now, currency, n))
    return facts.aggregate(**aggregates)


def velocities(
    *,
    user: Any,
    filters: ReportFilters,
    spans: list[tuple[Period, str]],
    now: dt.datetime,
    currency: str | None = None,
) -> list[Velocity]:
    """Velocity inputs for each (period, label) over the deals visible to `user` matching the
    other filters, in one query: closed in the period, and open at its end (or at `now`)."""
    currency = currency or base_currency()
    counts = _span_counts(user=user, filters=filters, spans=spans, now=now, currency=currency)
    return [
        Velocity(
            label=label or period.label,
            open_deals=counts[f"open_deals_{n}"],
            won=counts[f"won_{n}"],
            lost=counts[f"lost_{n}"],
            won_summed=counts[f"won_summed_{n}"],
            won_value_sum=counts[f"won_value_sum_{n}"] or Decimal("0"),
            cycle_tenths_sum=counts[f"cycle_tenths_sum_{n}"] or 0,
        )
        for n, (period, label) in enumerate(spans)
    ]


def velocity_of(
    *,
    user: Any,
    filters: ReportFilters,
    period: Period,
    now: dt.datetime,
    currency: str | None = None,
) -> Velocity:
    """Velocity inputs for one period (one query)."""
    spans = [(period, "")]
    return velocities(user=user, filters=filters, spans=spans, now=now, currency=currency)[0]


def trend_months(period: Period, today: dt.date) -> list[Period]:
    """The six calendar months up to the period's last month (at the latest this month)."""
    last = min(period.last, today) if period.last else today
    first = month_start(last, 1 - TREND_MONTHS)
    return [
        Period(
            PeriodPreset.CUSTOM,
            month_start(first, i),
            month_start(first, i + 1) - dt.timedelta(days=1),
        )
        for i in range(TREND_MONTHS)
    ]


def velocity_trend(
    *, user: Any, filters: ReportFilters, now: dt.datetime | None = None
) -> list[Velocity]:
    """Velocity for each of the six months up to the end of the period (one query)."""
    now = now or timezone.now()
    spans = [
        (m, m.first.strftime("%Y-%m") if m.first else "")
        for m in trend_months(filters.period, timezone.localdate(now))
    ]
    return velocities(user=user, filters=filters, spans=spans, now=now)


def velocity_report(*, user: Any, filters: ReportFilters) -> ReportResult:
    now = timezone.now()
    cur = base_currency()
    v = velocity_of(user=user, filters=filters, period=filters.period, now=now, currency=cur)
    rate = v.win_rate
    inputs = Table(
        "velocity",
        "Pipeline velocity",
        ["Figure", "Value", "On which deals"],
        [
            ["Open deals", v.open_deals, "open at the end of the period (or now)"],
            [
                "Win rate %",
                rate.value,
                f"{v.won} won of {rate.n} closed in the period",
            ],
            [
                f"Average won value ({cur})",
                v.average_won_value,
                f"{v.won_summed} deal(s) won in the period in {cur}",
            ],
            [
                "Average cycle (days)",
                v.average_cycle_days,
                f"opening to winning, {v.won} deal(s) won in the period",
            ],
            [f"Velocity ({cur} per day)", v.per_day, "open deals × win rate × value ÷ cycle"],
        ],
    )
    trend = velocity_trend(user=user, filters=filters, now=now)
    table = Table(
        "trend",
        "Velocity month by month",
        [
            "Month",
            "Open deals at month end",
            "Won",
            "Lost",
            "Win rate %",
            f"Average won value ({cur})",
            "Average cycle (days)",
            f"Velocity ({cur} per day)",
        ],
        [
            [
                m.label,
                m.open_deals,
                m.won,
                m.lost,
                m.win_rate.value,
                m.average_won_value,
                m.average_cycle_days,
                m.per_day,
            ]
            for m in trend
        ],
    )
    chart = line_chart(
        f"Velocity ({cur} per day) by month",
        [m.label for m in trend],
        [("Velocity", [None if m.per_day is None else float(m.per_day) for m in trend])],
    )
    return ReportResult(
        sections=[
            Section(
                "Velocity in the period",
                "How much value the pipeline wins per day at its current pace: open deals × "
                "win rate × average won value ÷ average days to win. Win rate, value and days "
                "come from the deals closed in the period; the open deals are those open at "
                "its end (or now, if it has not ended).",
                None,
                inputs,
                notes=[
                    f"Values are in {cur}; deals won in other currencies count in the win rate "
                    "and the cycle but not in the average value. No deal closed: no velocity; "
                    "deals closed but none won: 0."
                ],
            ),
            Section(
                "Trend",
                "The same figures for each of the six months up to the end of the period; the "
                "open deals are those open at the end of each month (this month: now).",
                chart,
                table,
            ),
        ]
    )


report_register(
    ReportKind(
        key="velocity",
        title="Pipeline velocity",
        summary="How much value the pipeline wins per day, and the four figures behind it.",
        build=velocity_report,
        position=70,
        date_basis="deals closed in the period; open deals counted at its end",
    )
)
