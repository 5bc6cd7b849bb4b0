"""Cycle and time in stage: how long the deals closed in the period took, won against lost.

Every figure is on deals closed (won or lost) in the period; open deals have no cycle yet. The
cycle runs from the deal entering its first stage to it being won or lost
(`DealFacts.cycle_tenths`); time in a stage is every visit to that stage added up
(`StageStay.tenths`). The database counts how many deals share each duration (in tenths of a
day) and reads medians and 75th percentiles from those counts by nearest rank, with window
functions (`Rows.percentiles`), and averages from their sums: neither a deal nor a histogram
comes into Python (unless a period's edges add the facts' histograms to the cells').
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Stage
from closeloop.pipeline.rollups.models import CycleCell, StayCell

from ..cells import Spread, deals, report_rows
from ..charts import Chart, hbar_chart, line_chart
from ..filters import ReportFilters
from ..months import months_between
from ..results import ReportKind, ReportResult, Section, Table, report_register
from ..stats import days

OUTCOMES = [(DealStatus.WON, "Won"), (DealStatus.LOST, "Lost")]
METHOD = (
    "Medians and 75th percentiles use the nearest-rank method: the smallest duration with at "
    "least half (or, for the 75th percentile or p75, three quarters) of the deals at or below "
    "it, so with two deals the median is the shorter one. Durations are counted in tenths of a "
    "day."
)


@dataclass(frozen=True)
class Durations:
    """How many deals, their durations added up (tenths of a day) and the median and 75th
    percentile of those durations, as the database worked them out (`Rows.percentiles`)."""

    deals: int = 0
    sum_tenths: int = 0
    median_tenths: int | None = None
    p75_tenths: int | None = None

    @classmethod
    def of(cls, spread: Spread | None) -> Durations:
        if spread is None:
            return cls()
        return cls(spread.count, spread.total, spread.values.get(50), spread.values.get(75))

    @property
    def median(self) -> Decimal | None:
        return _days(self.median_tenths)

    @property
    def p75(self) -> Decimal | None:
        return _days(self.p75_tenths)

    @property
    def average(self) -> Decimal | None:
        """The mean in days with one decimal, half rounded up (from the exact sum of tenths)."""
        if not self.deals:
            return None
        return (Decimal(self.sum_tenths) / self.deals / 10).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _days(tenths: int | None) -> Decimal | None:
    # always one decimal ("20.0", not "20"), the same on the page and in the CSV
    value = days(tenths)
    return None if value is None else value.quantize(Decimal("0.1"))


def cycle_by_outcome(*, user: Any, filters: ReportFilters) -> dict[str, Durations]:
    """Cycle lengths of the deals won and lost in the period, keyed by status."""
    found = report_rows(CycleCell, user=user, filters=filters).percentiles(
        ("status",), "cycle_tenths", deals(), (50, 75)
    )
    return {status: Durations.of(found.get((status,))) for status, _ in OUTCOMES}


def stage_times(*, user: Any, filters: ReportFilters) -> list[tuple[Stage, dict[str, Durations]]]:
    """Per stage of the pipeline, in pipeline order: time spent in it by the won and lost deals."""
    stages = list(
        Stage.objects.filter(pipeline_id=filters.pipeline_id or 0).order_by("position", "pk")
    )
    found = report_rows(StayCell, user=user, filters=filters).percentiles(
        ("stage_id", "status"), "tenths", deals(), (50, 75)
    )
    return [
        (stage, {status: Durations.of(found.get((stage.pk, status))) for status, _ in OUTCOMES})
        for stage in stages
    ]


@dataclass(frozen=True)
class MonthCycles:
    """One month's won (or lost) deals: how many, and their median cycle, which the database
    works out (`Rows.monthly_percentiles`): all time is a histogram per month."""

    deals: int = 0
    median_tenths: int | None = None

    @property
    def median(self) -> Decimal | None:
        return _days(self.median_tenths)


def cycle_by_month(
    *, user: Any, filters: ReportFilters
) -> list[tuple[dt.date, dict[str, MonthCycles]]]:
    """Per month closed (local time), the cycles of the deals won and lost in it; every month of
    the period is listed, so a month without closes shows as a gap rather than disappearing."""
    rows = report_rows(CycleCell, user=user, filters=filters, monthly=True)
    found = {
        (month, status): MonthCycles(total, values.get(50))
        for (month, status), (total, values) in rows.monthly_percentiles(
            "status", "cycle_tenths", deals(), (50,)
        ).items()
    }
    seen = sorted({month for month, _ in found})
    first = filters.period.first or (seen[0] if seen else None)
    # months after today cannot have closes yet; "this year" stops at the current month
    last = min(filters.period.last or timezone.localdate(), timezone.localdate())
    if seen:
        last = max(last, seen[-1])
    if first is None:
        return []
    return [
        (month, {status: found.get((month, status), MonthCycles()) for status, _ in OUTCOMES})
        for month in months_between(first, last)
    ]


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _texts(values: list[list[Decimal | None]]) -> list[list[str]]:
    return [[f"{v} d" if v is not None else "" for v in row] for row in values]


def _outcome_chart(cycles: dict[str, Durations]) -> Chart:
    won, lost = cycles[DealStatus.WON], cycles[DealStatus.LOST]
    values = [[won.median, lost.median], [won.p75, lost.p75]]
    return hbar_chart(
        "Days from creation to close",
        [
            (label, [_float(v) for v in row])
            for label, row in zip(["Median", "75th percentile"], values, strict=True)
        ],
        ["Won", "Lost"],
        texts=_texts(values),
    )


def _stage_chart(stays: list[tuple[Stage, dict[str, Durations]]]) -> Chart:
    values = [[d[DealStatus.WON].median, d[DealStatus.LOST].median] for _, d in stays]
    return hbar_chart(
        "Median days in each stage",
        [
            (stage.name, [_float(v) for v in row])
            for (stage, _), row in zip(stays, values, strict=True)
        ],
        ["Won", "Lost"],
        texts=_texts(values),
    )


def cycle_report(*, user: Any, filters: ReportFilters) -> ReportResult:
    """The three sections: cycle by outcome, time in each stage, cycle by month closed."""
    cycles = cycle_by_outcome(user=user, filters=filters)
    outcome_table = Table(
        "cycle",
        "Cycle length",
        ["Outcome", "Deals", "Median days", "75th percentile days", "Average days"],
        [
            [label, d.deals, d.median, d.p75, d.average]
            for status, label in OUTCOMES
            for d in [cycles[status]]
        ],
    )
    stays = stage_times(user=user, filters=filters)
    stage_table = Table(
        "stages",
        "Time in each stage",
        [
            "Stage",
            "Won deals in it",
            "Won median days",
            "Won p75 days",
            "Lost deals in it",
            "Lost median days",
            "Lost p75 days",
        ],
        [
            [
                f"{stage.name} (optional)" if stage.is_optional else stage.name,
                *[
                    x
                    for status, _ in OUTCOMES
                    for x in (d[status].deals, d[status].median, d[status].p75)
                ],
            ]
            for stage, d in stays
        ],
    )
    months = cycle_by_month(user=user, filters=filters)
    month_table = Table(
        "months",
        "Cycle by month closed",
        ["Month closed", "Won deals", "Median won days", "Lost deals", "Median lost days"],
        [
            [
                month.strftime("%Y-%m"),
                d[DealStatus.WON].deals,
                d[DealStatus.WON].median,
                d[DealStatus.LOST].deals,
                d[DealStatus.LOST].median,
            ]
            for month, d in months
        ],
    )
    trend = line_chart(
        "Median days to win, by month closed",
        [month.strftime("%b %Y") for month, _ in months],
        [("Won", [_float(d[DealStatus.WON].median) for _, d in months])],
    )
    return ReportResult(
        notes=[
            "Every figure counts only the deals won or lost in the period (open deals have no "
            "cycle yet). " + METHOD
        ],
        sections=[
            Section(
                "Cycle length",
                "How many days the deals took from entering their first stage to being won or "
                "lost: half of them took the median or less, three quarters the 75th percentile "
                "or less. A long tail of slow deals raises the average above the median.",
                _outcome_chart(cycles),
                outcome_table,
            ),
            Section(
                "Time in each stage",
                "How many days the won and the lost deals spent in each stage of the pipeline "
                "(all their visits to it added up). A stage where lost deals linger much longer "
                "than won ones is a sign to act on a deal sooner.",
                _stage_chart(stays),
                stage_table,
                notes=[
                    "“Deals in it” counts the deals that were ever in the stage; a deal that "
                    "skipped a stage does not count there."
                ],
            ),
            Section(
                "Cycle by month closed",
                "The median days to win of the deals won each month, to see whether deals are "
                "closing faster or slower; the lost deals are beside them in the table.",
                trend,
                month_table,
                notes=["A month without a won deal has no point on the line."],
            ),
        ],
    )


report_register(
    ReportKind(
        key="cycle",
        title="Cycle and time in stage",
        summary="How long won and lost deals take, and where they spend that time.",
        build=cycle_report,
        position=40,
        date_basis="deals won or lost in the period",
    )
)
