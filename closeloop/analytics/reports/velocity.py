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

from django.db.models import Q, Sum
from django.utils import timezone

from closeloop.core.money import base_currency
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.rollups.models import ClosedCell, OpenedCell

from ..cells import deals, report_rows
from ..charts import line_chart
from ..choices import PeriodPreset
from ..filters import Period, ReportFilters, month_start, report_facts
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


def _open_at_ends(
    ends: list[dt.datetime], *, user: Any, filters: ReportFilters, now: dt.datetime
) -> dict[dt.datetime, int]:
    """Deals open at each of `ends`: opened before it less closed before it (a deal closes
    after it opens), read from the cells' monthly totals for an end at the start of a month,
    from the open deals for an end at `now` (nothing closes in the future)."""
    found: dict[dt.datetime, int] = {}
    if any(end >= now for end in ends):
        open_now = report_facts(user=user, filters=filters, date_field=None).filter(
            status=DealStatus.OPEN, created_at__lt=now
        )
        found[now] = open_now.count()
    past = sorted({end for end in ends if end < now})
    if not past:
        return found
    every = Period(PeriodPreset.ALL, None, None)
    totals: dict[dt.date, int] = {}
    for model, sign in ((OpenedCell, 1), (ClosedCell, -1)):
        rows = report_rows(model, user=user, filters=filters, period=every, monthly=True)
        for row in rows.by_month(n=deals()):
            totals[row["month"]] = totals.get(row["month"], 0) + sign * row["n"]
    for end in past:
        local = timezone.localtime(end)
        if local.day == 1 and local.time() == dt.time.min:
            found[end] = sum(n for month, n in totals.items() if month < local.date())
            continue
        # an end inside a month (a custom period): count up to it directly
        before = Period(PeriodPreset.CUSTOM, None, local.date() - dt.timedelta(days=1))
        found[end] = sum(
            sign
            * report_rows(model, user=user, filters=filters, period=before).aggregate(n=deals())[
                "n"
            ]
            for model, sign in ((OpenedCell, 1), (ClosedCell, -1))
        )
    return found


def velocities(
    *,
    user: Any,
    filters: ReportFilters,
    spans: list[tuple[Period, str]],
    now: dt.datetime,
    currency: str | None = None,
) -> list[Velocity]:
    """Velocity inputs for each (period, label) over the deals visible to `user` matching the
    other filters: closed in the period, and open at its end (or at `now`)."""
    currency = currency or base_currency()
    ends = [min(period.end, now) if period.end else now for period, _ in spans]
    open_at = _open_at_ends(ends, user=user, filters=filters, now=now)
    won = Q(status=DealStatus.WON)
    base = Q(currency=currency)
    result = []
    for (period, label), end in zip(spans, ends, strict=True):
        counts = report_rows(ClosedCell, user=user, filters=filters, period=period).aggregate(
            won=deals(won),
            lost=deals(Q(status=DealStatus.LOST)),
            won_summed=deals(won & base),
            won_value_sum=Sum("value", filter=won & base),
            cycle_tenths_sum=Sum("cycle_tenths", filter=won),
        )
        result.append(
            Velocity(
                label=label or period.label,
                open_deals=open_at[end],
                won=counts["won"],
                lost=counts["lost"],
                won_summed=counts["won_summed"],
                won_value_sum=counts["won_value_sum"] or Decimal("0"),
                cycle_tenths_sum=counts["cycle_tenths_sum"] or 0,
            )
        )
    return result


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
