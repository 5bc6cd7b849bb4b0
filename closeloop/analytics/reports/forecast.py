"""Forecast: the open deals of a pipeline by the month they are expected to close, weighted two
ways.

- By stage probability: value × the stage's win probability (what the board shows).
- By win chance from history: value × the share of won deals among the pipeline's closed deals
  that reached the deal's stage (reached as in the funnel: a deal that skipped a required stage
  still passed it, and every won deal passed every required stage). The history is the closed
  deals of the pipeline the viewer can see, closed in the last 12 months (recent selling says
  more about today's deals than old), whatever the other filters — so the chance does not swing
  with a narrow filter. It is used only from `MIN_CLOSED` closed deals on; with fewer the stage
  probabilities are used, and the page says why.

Open deals are never filtered by when they were opened. The period picks the close months shown:
the default period (last 12 months) and periods that are over show the next six months; other
periods show their months from today on. Deals expected before today are "overdue" and deals
without a date "no date"; both are always shown, since they are open deals that need a date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import BooleanField, Case, Count, DateField, F, Q, Sum, Value, When
from django.utils import timezone

from closeloop.core.money import base_currency
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Stage
from closeloop.pipeline.rollups.models import ClosedCell

from ..cells import deals, report_rows
from ..charts import column_chart
from ..choices import PeriodPreset
from ..filters import DEFAULT_PRESET, Period, ReportFilters, month_start, period_of, report_facts
from ..results import ReportKind, ReportResult, Section, Table, report_register
from ..stats import Rate
from .funnel import stage_masks

MIN_CLOSED = 30  # closed deals needed before the win chance from history is trusted
FORECAST_MONTHS = 6  # months shown when the period does not say which
CENT = Decimal("0.01")
OVERDUE, NO_DATE = "Overdue", "No date"


@dataclass(frozen=True)
class Window:
    """The expected close days the month rows cover: [first, last], last None for no end."""

    first: dt.date
    last: dt.date | None
    default: bool  # True when the period said nothing about the future: the next six months


def forecast_window(period: Period, today: dt.date) -> Window:
    """Which close months a period shows: the next six months for the default period and for
    periods already over, otherwise the period's days from today on."""
    if period.preset == PeriodPreset.ALL:
        return Window(today, None, False)
    if period.preset == DEFAULT_PRESET or (period.last is not None and period.last < today):
        return Window(today, month_start(today, FORECAST_MONTHS) - dt.timedelta(days=1), True)
    first = max(period.first or today, today)
    return Window(first, period.last, False)


@dataclass
class Bucket:
    """Open deals of one row (a close month, overdue, no date, or a stage) and their weights."""

    label: str
    deals: int = 0
    value: Decimal = Decimal("0")
    by_probability: Decimal = Decimal("0")
    by_chance: Decimal = Decimal("0")

    def add(self, other: Bucket) -> None:
        self.deals += other.deals
        self.value += other.value
        self.by_probability += other.by_probability
        self.by_chance += other.by_chance


@dataclass
class StageChance:
    """A stage, its configured probability, and what the closed deals that reached it did."""

    stage: Stage
    rate: Rate  # won (k) of closed deals that reached the stage (n)

    @property
    def chance(self) -> Decimal:
        """The fraction used for the empirical weight; the stage probability when no closed
        deal reached the stage (nothing to learn from)."""
        if self.rate.n:
            return Decimal(self.rate.k) / Decimal(self.rate.n)
        return Decimal(self.stage.probability) / 100


@dataclass
class Forecast:
    """The whole forecast for one viewer and set of filters."""

    window: Window
    currency: str
    closed: int  # closed deals behind the win chances
    basis: Period  # when those deals closed
    chances: list[StageChance]
    months: list[Bucket]  # overdue, each month of the window, no date
    stages: dict[int, Bucket] = field(default_factory=dict)
    other_currency: int = 0  # open deals shown whose value is not in the base currency

    @property
    def empirical(self) -> bool:
        """Whether the win chances from history are used (enough closed deals)."""
        return self.closed >= MIN_CLOSED

    @property
    def total(self) -> Bucket:
        total = Bucket("Total")
        for bucket in self.months:
            total.add(bucket)
        return total

    def used(self, bucket: Bucket) -> Decimal:
        return bucket.by_chance if self.empirical else bucket.by_probability


def win_chances(
    *, user: Any, pipeline_id: int, stages: list[Stage], today: dt.date
) -> tuple[int, Period, list[StageChance]]:
    """Closed deals of the pipeline visible to `user` that closed in the last 12 months, and per
    stage how many of those that reached it were won (one query)."""
    basis = period_of(PeriodPreset.LAST_12_MONTHS, today)
    closed = report_rows(
        ClosedCell, user=user, filters=ReportFilters(pipeline_id=pipeline_id, period=basis)
    )
    masks = stage_masks(stages)
    won = Q(status=DealStatus.WON)
    aggregates: dict[str, Any] = {"closed": deals()}
    for pk in masks:
        reached = ~Q(**{f"b{pk}": 0})
        aggregates[f"n{pk}"] = deals(reached)
        aggregates[f"k{pk}"] = deals(reached & won)
    counts = closed.annotate(
        **{f"b{pk}": F("reached_mask").bitand(mask) for pk, mask in masks.items()}
    ).aggregate(**aggregates)
    chances = [StageChance(s, Rate(counts[f"k{s.pk}"], counts[f"n{s.pk}"])) for s in stages]
    return counts["closed"], basis, chances


def _weigh(value: Decimal, fraction: Decimal) -> Decimal:
    return (value * fraction).quantize(CENT, rounding=ROUND_HALF_UP)


def forecast_build(*, user: Any, filters: ReportFilters, today: dt.date | None = None) -> Forecast:
    """The open deals visible to `user` matching the filters (whenever opened), grouped by close
    month and by stage, with both weightings; values in the base currency only."""
    today = today or timezone.localdate()
    window = forecast_window(filters.period, today)
    currency = base_currency()
    stages = list(
        Stage.objects.filter(pipeline_id=filters.pipeline_id or 0).order_by("position", "pk")
    )
    closed, basis, chances = (
        win_chances(user=user, pipeline_id=filters.pipeline_id, stages=stages, today=today)
        if filters.pipeline_id
        else (0, period_of(PeriodPreset.LAST_12_MONTHS, today), [])
    )
    by_stage = {c.stage.pk: c for c in chances}
    in_window = Q(expected_close_date__gte=window.first)
    if window.last is not None:
        in_window &= Q(expected_close_date__lte=window.last)
    shown = report_facts(user=user, filters=filters, date_field=None).filter(
        Q(expected_close_date__isnull=True) | Q(expected_close_date__lt=today) | in_window,
        status=DealStatus.OPEN,
        stage_id__in=list(by_stage),
    )
    base = Q(currency=currency)
    late = Q(expected_close_date__lt=today)
    # grouped by day, not month: truncating to months is a Python function on SQLite and
    # costs more than the few hundred extra rows; overdue deals fold into one row per stage
    groups = (
        shown.annotate(
            late=Case(
                When(late, then=Value(True)), default=Value(False), output_field=BooleanField()
            ),
            day=Case(
                When(late, then=Value(None)),
                default=F("expected_close_date"),
                output_field=DateField(),
            ),
        )
        .values("late", "day", "stage_id")
        .annotate(
            deals=Count("pk"),
            summed=Count("pk", filter=base),
            value=Sum("value", filter=base),
        )
    )
    buckets: dict[str, Bucket] = {OVERDUE: Bucket(OVERDUE)}
    stage_buckets = {c.stage.pk: Bucket(c.stage.name) for c in chances}
    other = 0
    latest = window.last or window.first  # an open-ended window runs to the latest deal
    for row in groups:
        chance = by_stage[row["stage_id"]]
        value = row["value"] or Decimal("0")
        part = Bucket(
            "",
            row["deals"],
            value,
            _weigh(value, Decimal(chance.stage.probability) / 100),
            _weigh(value, chance.chance),
        )
        other += row["deals"] - row["summed"]
        if row["late"]:
            key = OVERDUE
        elif row["day"] is None:
            key = NO_DATE
        else:
            key = row["day"].strftime("%Y-%m")
            latest = max(latest, row["day"])
        buckets.setdefault(key, Bucket(key)).add(part)
        stage_buckets[row["stage_id"]].add(part)
    ordered = [buckets[OVERDUE]]
    month = month_start(window.first)
    while month <= latest:
        label = month.strftime("%Y-%m")
        ordered.append(buckets.get(label) or Bucket(label))
        month = month_start(month, 1)
    ordered.append(buckets.get(NO_DATE) or Bucket(NO_DATE))
    return Forecast(window, currency, closed, basis, chances, ordered, stage_buckets, other)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def forecast_notes(forecast: Forecast) -> list[str]:
    """What the page says once, above the sections: which weighting is used and why."""
    basis = (
        f"of this pipeline that you can see closed in the last 12 months ({forecast.basis.label})"
    )
    if forecast.empirical:
        used = (
            f"Weighted value uses the win chance from history: {forecast.closed} deals "
            f"{basis} (at least {MIN_CLOSED} are needed). A deal's chance is the share of won "
            "deals among the closed deals that reached its stage."
        )
    else:
        used = (
            f"Weighted value uses the stages' win probabilities: only {forecast.closed} deals "
            f"{basis}, and the win chance from history needs at least {MIN_CLOSED} to mean "
            "something. It is shown for comparison."
        )
    window = forecast.window
    if window.last is None:
        months = f"every expected close month from {window.first:%-d %b %Y} on"
    else:
        months = f"expected close dates {window.first:%-d %b %Y} – {window.last:%-d %b %Y}"
    if window.default:
        months += " (the next six months; choose a period ahead, such as This year, for others)"
    notes = [
        used,
        f"Open deals, whenever they were opened, by {months}. Overdue deals (expected before "
        "today) and deals without an expected close date are always shown.",
    ]
    if forecast.other_currency:
        notes.append(
            f"{forecast.other_currency} open deal(s) in other currencies are counted but their "
            f"values are left out: values are in {forecast.currency} only."
        )
    return notes


def forecast_report(*, user: Any, filters: ReportFilters) -> ReportResult:
    forecast = forecast_build(user=user, filters=filters)
    cur = forecast.currency
    used = "win chance" if forecast.empirical else "stage probability"
    rows = [*forecast.months, forecast.total]
    months = Table(
        "months",
        "Forecast by expected close month",
        [
            "Expected close",
            "Deals",
            f"Value ({cur})",
            f"Weighted by stage probability ({cur})",
            f"Weighted by win chance ({cur})",
        ],
        [
            [b.label, b.deals, _money(b.value), _money(b.by_probability), _money(b.by_chance)]
            for b in rows
        ],
    )
    chart = column_chart(
        "Value and weighted value by expected close month",
        [b.label for b in forecast.months],
        [
            ("Value", [float(b.value) for b in forecast.months]),
            (f"Weighted ({used})", [float(forecast.used(b)) for b in forecast.months]),
        ],
    )
    stages = Table(
        "stages",
        "Forecast by stage",
        [
            "Stage",
            "Deals",
            f"Value ({cur})",
            "Probability %",
            "Win chance %",
            "Won",
            "Closed",
            f"Weighted ({cur})",
        ],
        [
            [
                c.stage.name,
                forecast.stages[c.stage.pk].deals,
                _money(forecast.stages[c.stage.pk].value),
                c.stage.probability,
                c.rate.value,
                c.rate.k,
                c.rate.n,
                _money(forecast.used(forecast.stages[c.stage.pk])),
            ]
            for c in forecast.chances
        ],
    )
    return ReportResult(
        notes=forecast_notes(forecast),
        sections=[
            Section(
                "By expected close month",
                f"The open deals expected to close each month, their value in {cur}, and that "
                "value weighted by the chance of winning — by the stage probability and by the "
                "win chance from history. The chart shows the value and the weighting used.",
                chart,
                months,
            ),
            Section(
                "By stage",
                "The same open deals by their stage. Closed: the deals closed in the last 12 "
                "months that reached the stage; Won: how many of them were won; Win chance: "
                f"the share won. Weighted: by the {used}, as said at the top.",
                None,
                stages,
                notes=[
                    "A stage no closed deal has reached has no win chance; its probability is "
                    "used in its place."
                ],
            ),
        ],
    )


report_register(
    ReportKind(
        key="forecast",
        title="Forecast",
        summary="What the open deals are worth, by the month they should close, weighted by "
        "their chance of winning.",
        build=forecast_report,
        position=60,
        date_basis="open deals by expected close date (the default shows the next six months)",
    )
)
