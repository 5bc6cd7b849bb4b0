"""Team effectiveness: per rep what they opened, did, won and converted, against their targets.

Which deals each figure counts:
- *Deals created* and *conversion at each stage*: deals opened in the period (the cohort).
  Conversion at a stage is the share of the deals that reached it which also reached the next
  required stage (or were won, after the last one), read from `reached_mask` as the funnel does.
- *Won*, *lost*, *won value*, *win rate*, *average won value*, *median cycle*: deals closed in
  the period. Values add up only deals in the base currency.
- *Activities*: notes, calls, meetings, demos, tasks and emails (not the automatic change
  entries), counted for their owner (who does the work) or, without one, the person who logged
  them, once each. Planned work (it has a due time) counts when it was done in the period;
  cancelled or still open work does not count. Unplanned entries count when created in the
  period. Activities are not narrowed by pipeline, source, campaign or product.
- *Targets*: the monthly targets of every month the period touches, added up in full.

The rows are the people who own deals matching the filters, plus those with a target in the
period, as far as the viewer may see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan

from closeloop.accounts.models import User
from closeloop.accounts.visibility import owner_filter
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.core.money import base_currency
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import DealFacts, Stage
from closeloop.pipeline.rollups.models import ClosedCell, OpenedCell

from ..cells import Rows, deals, percentile_rows, report_rows
from ..charts import Chart, hbar_chart
from ..choices import TargetMetric
from ..filters import Period, ReportFilters, report_facts
from ..models import SalesTarget
from ..results import ReportKind, ReportResult, Section, Table, report_register
from ..selectors import month_start, sales_target_totals
from ..stats import Rate, days, percent
from .cycle import cycle_by_outcome
from .funnel import stage_masks

ACTIVITY_KINDS = (
    ActivityKind.NOTE,
    ActivityKind.CALL,
    ActivityKind.MEETING,
    ActivityKind.DEMO,
    ActivityKind.TASK,
    ActivityKind.EMAIL,
)
CENT = Decimal("0.01")


@dataclass
class RepFigures:
    """One rep's figures for the period (or everyone's added up, for the total row)."""

    user_id: int | None
    name: str
    created: int = 0
    activities: int = 0
    won: int = 0
    lost: int = 0
    won_value: Decimal = Decimal(0)
    won_base: int = 0  # won deals in the base currency, the ones in won_value
    median_cycle_tenths: int | None = None  # of the won deals (the database works it out)
    reached: dict[int, int] = field(default_factory=dict)  # stage pk → deals that reached it
    passed: dict[int, int] = field(default_factory=dict)  # … and also reached the next one
    targets: dict[str, Decimal] = field(default_factory=dict)

    @property
    def rate(self) -> Rate:
        return Rate(self.won, self.won + self.lost)

    @property
    def average_won_value(self) -> Decimal | None:
        if not self.won_base:
            return None
        return (self.won_value / self.won_base).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def median_cycle(self) -> Decimal | None:
        return days(self.median_cycle_tenths)

    def conversion(self, stage: Stage) -> Decimal | None:
        return percent(self.passed.get(stage.pk, 0), self.reached.get(stage.pk, 0))

    def actual(self, metric: str) -> Decimal | int:
        figures: dict[TargetMetric, Decimal | int] = {
            TargetMetric.WON_VALUE: self.won_value,
            TargetMetric.WON_DEALS: self.won,
            TargetMetric.NEW_DEALS: self.created,
        }
        return figures[TargetMetric(metric)]

    def attainment(self, metric: str) -> Decimal | None:
        return percent(self.actual(metric), self.targets.get(metric) or 0)

    def add(self, other: RepFigures) -> None:
        """Add another rep's figures in (for the total row; a median does not add up, so the
        total's median cycle is set from its own query)."""
        self.created += other.created
        self.activities += other.activities
        self.won += other.won
        self.lost += other.lost
        self.won_value += other.won_value
        self.won_base += other.won_base
        for pk, n in other.reached.items():
            self.reached[pk] = self.reached.get(pk, 0) + n
        for pk, n in other.passed.items():
            self.passed[pk] = self.passed.get(pk, 0) + n
        for metric, amount in other.targets.items():
            self.targets[metric] = self.targets.get(metric, Decimal(0)) + amount


def _next_masks(stages: list[Stage]) -> dict[int, int]:
    """For each stage, the mask meaning "reached the next required stage" (won after the last)."""
    masks = stage_masks(stages)
    following: dict[int, int] = {}
    for i, stage in enumerate(stages):
        later = [s for s in stages[i + 1 :] if not s.is_optional]
        following[stage.pk] = masks[later[0].pk] if later else DealFacts.WON_BIT
    return following


def _reached(mask: int) -> GreaterThan:
    # masks never reach the sign bit, so "some bit of the mask is set" is "bitand > 0"
    return GreaterThan(F("reached_mask").bitand(mask), 0)


def _cohort_counts(opened: Rows, stages: list[Stage]) -> dict[int, dict[str, int]]:
    """One grouped scan of the deals opened in the period: per owner, how many, and per stage
    how many reached it and how many of those reached the next required stage."""
    masks, following = stage_masks(stages), _next_masks(stages)
    counts: dict[str, Any] = {"created": deals()}
    for stage in stages:
        here = Q(_reached(masks[stage.pk]))
        counts[f"r{stage.pk}"] = deals(here)
        counts[f"p{stage.pk}"] = deals(here & Q(_reached(following[stage.pk])))
    return {row.pop("owner_id"): row for row in opened.group("owner_id", **counts)}


def _closed_counts(closed: Rows) -> dict[int, dict[str, Any]]:
    """One grouped pass over the deals closed in the period: won, lost and won value per
    owner."""
    won = Q(status=DealStatus.WON)
    base = won & Q(currency=base_currency())
    rows = closed.group(
        "owner_id",
        won=deals(won),
        lost=deals(Q(status=DealStatus.LOST)),
        won_value=Sum("value", filter=base, default=Decimal(0)),
        won_base=deals(base),
    )
    return {row.pop("owner_id"): row for row in rows}


def _cycle_medians(facts: Any) -> dict[int, int]:
    """The median cycle (tenths of a day) of the won deals per owner: the database counts the
    deals per cycle length and walks the counts (`percentile_rows`), so a year of a million
    deals never comes into Python."""
    won = facts.filter(status=DealStatus.WON, cycle_tenths__isnull=False)
    per_owner = won.values("owner_id", "cycle_tenths").annotate(n=Count("pk")).order_by()
    return {
        row["owner_id"]: row["cycle_tenths"]
        for row in percentile_rows(per_owner, ("owner_id",), "cycle_tenths", (50,))
    }


def activity_counts(*, user_ids: list[int], period: Period) -> dict[int, int]:
    """Per person, the activities that count for them in the period (see the module text)."""
    planned_done = Q(due_at__isnull=False, done_at__isnull=False) & period.q("done_at")
    unplanned = Q(due_at__isnull=True) & period.q("created_at")
    rows = (
        Activity.objects.filter(kind__in=ACTIVITY_KINDS)
        .filter(planned_done | unplanned)
        .annotate(person=Coalesce("owner_id", "actor_id"))
        .filter(person__in=user_ids)
        .values("person")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["person"]: row["n"] for row in rows}


def _target_holders(*, user: Any, filters: ReportFilters) -> list[int]:
    """People with a target in the period that the viewer may see and the filters select."""
    qs = SalesTarget.objects.all()
    condition = owner_filter(user, "user")
    if condition is not None:
        qs = qs.filter(condition)
    period = filters.period
    if period.first:
        qs = qs.filter(month__gte=month_start(period.first))
    if period.last:
        qs = qs.filter(month__lte=period.last)
    if filters.team_id:
        qs = qs.filter(user__teams=filters.team_id)
    if filters.owner_id:
        qs = qs.filter(user_id=filters.owner_id)
    return list(qs.order_by().values_list("user_id", flat=True).distinct())


def team_figures(
    *, user: Any, filters: ReportFilters
) -> tuple[list[Stage], list[RepFigures], RepFigures]:
    """The stages, one row of figures per rep (by name) and the total of those rows."""
    stages = list(
        Stage.objects.filter(pipeline_id=filters.pipeline_id or 0).order_by("position", "pk")
    )
    cohort = _cohort_counts(report_rows(OpenedCell, user=user, filters=filters), stages)
    closed = _closed_counts(report_rows(ClosedCell, user=user, filters=filters))
    # per owner and cycle length nothing adds up in cells: the facts' own index answers
    cycles = _cycle_medians(report_facts(user=user, filters=filters, date_field="closed_at"))
    ids = set(cohort) | set(closed) | set(_target_holders(user=user, filters=filters))
    period = filters.period
    activities = activity_counts(user_ids=list(ids), period=period)
    targets = sales_target_totals(user_ids=list(ids), first=period.first, last=period.last)
    people = User.objects.filter(pk__in=ids).order_by()
    names = {pk: name or email.split("@")[0] for pk, name, email in people.values_list(
        "pk", "full_name", "email")}  # fmt: skip
    rows = []
    for pk in ids:
        row = RepFigures(pk, names[pk])
        c = cohort.get(pk, {})
        row.created = c.get("created", 0)
        row.reached = {s.pk: c.get(f"r{s.pk}", 0) for s in stages}
        row.passed = {s.pk: c.get(f"p{s.pk}", 0) for s in stages}
        row.won = closed.get(pk, {}).get("won", 0)
        row.lost = closed.get(pk, {}).get("lost", 0)
        row.won_value = closed.get(pk, {}).get("won_value", Decimal(0)).quantize(CENT)
        row.won_base = closed.get(pk, {}).get("won_base", 0)
        row.median_cycle_tenths = cycles.get(pk)
        row.activities = activities.get(pk, 0)
        row.targets = targets.get(pk, {})
        rows.append(row)
    rows.sort(key=lambda r: (r.name.lower(), r.user_id))
    total = RepFigures(None, "Everyone shown")
    for row in rows:
        total.add(row)
    # everyone's median from the cycle report's own figures (the rollup cells where they can)
    total.median_cycle_tenths = cycle_by_outcome(user=user, filters=filters)[
        DealStatus.WON
    ].median_tenths
    return stages, rows, total


def figures_table(stages: list[Stage], rows: list[RepFigures], total: RepFigures) -> Table:
    """Every figure per rep, with the total row last."""
    currency = base_currency()
    headers = [
        "Rep",
        "Deals created",
        "Activities",
        "Deals won",
        "Deals lost",
        f"Won value ({currency})",
        "Win rate %",
        "Win rate low %",
        "Win rate high %",
        f"Average won value ({currency})",
        "Median cycle of won deals (days)",
    ] + [f"Conversion at {s.name}{' (optional)' if s.is_optional else ''} %" for s in stages]
    body = [
        [
            r.name,
            r.created,
            r.activities,
            r.won,
            r.lost,
            r.won_value,
            r.rate.value,
            r.rate.low,
            r.rate.high,
            r.average_won_value,
            r.median_cycle,
        ]
        + [r.conversion(s) for s in stages]
        for r in [*rows, total]
    ]
    return Table("reps", "Figures per rep", headers, body)


def targets_table(rows: list[RepFigures], total: RepFigures) -> Table:
    """Target, actual and attainment of each metric per rep, with the total row last."""
    headers = ["Rep"]
    for metric in TargetMetric:
        headers += [f"{metric.label} target", metric.label, f"{metric.label} attainment %"]
    body = []
    for r in [*rows, total]:
        line: list[Any] = [r.name]
        for metric in TargetMetric:
            target: Decimal | int | None = r.targets.get(metric)
            if target is not None and metric != TargetMetric.WON_VALUE:
                target = int(target)  # a number of deals
            line += [target, r.actual(metric), r.attainment(metric)]
        body.append(line)
    return Table("targets", "Targets and attainment", headers, body)


def target_chart(rows: list[RepFigures]) -> Chart:
    """Won value against the won-value target, one pair of bars per rep."""
    bars, texts = [], []
    for r in rows:
        target = r.targets.get(TargetMetric.WON_VALUE)
        attained = r.attainment(TargetMetric.WON_VALUE)
        bars.append((r.name, [float(r.won_value), float(target) if target is not None else None]))
        texts.append(
            [
                f"{r.won_value:,.0f}" + (f" ({attained} %)" if attained is not None else ""),
                f"{target:,.0f}" if target is not None else "no target",
            ]
        )
    return hbar_chart("Won value against target", bars, ["Won value", "Target"], texts=texts)


def team_report(*, user: Any, filters: ReportFilters) -> ReportResult:
    stages, rows, total = team_figures(user=user, filters=filters)
    currency = base_currency()
    notes = []
    other_currency = total.won - total.won_base
    if other_currency:
        notes.append(
            f"{other_currency} won deal(s) in other currencies than {currency} count as deals "
            "won but are not in the won value or the average."
        )
    return ReportResult(
        sections=[
            Section(
                "Targets",
                f"Won value in {currency} of the deals each rep won in the period, against the "
                "targets set for the months the period touches. Attainment is the actual as a "
                "share of the target.",
                target_chart(rows),
                targets_table(rows, total),
                notes=[
                    "A month's target counts in full as soon as the period touches the month, "
                    "so a period that ends today compares a part of the month with all of it.",
                    "Targets apply to all pipelines; the actual figures follow the filters above.",
                    "Managers set targets for the reps of their teams on Analytics → Targets "
                    "(/analytics/targets/).",
                ],
            ),
            Section(
                "Figures per rep",
                "Deals created and the conversion at each stage count the deals opened in the "
                "period; deals won and lost, won value, win rate (won of closed, with its 95 % "
                "Wilson interval), average won value and the median cycle count the deals "
                "closed in the period.",
                None,
                figures_table(stages, rows, total),
                notes=[
                    "Conversion at a stage: of the deals that reached the stage, the share that "
                    "also reached the next required stage (or was won, after the last stage). A "
                    "deal that skipped a required stage counts as having passed it.",
                    "Activities: notes, calls, meetings, demos, tasks and emails, counted for "
                    "their owner (or whoever logged them, when they have no owner). Planned work "
                    "counts when it was done in the period, other entries when they were "
                    "written. Cancelled and still open work is left out, and so are the "
                    "automatic change entries. The pipeline, source, campaign and product "
                    "filters do not apply to activities.",
                ],
            ),
        ],
        notes=notes,
    )


report_register(
    ReportKind(
        key="team",
        title="Team effectiveness",
        summary="Per rep: deals created, activities, wins, win rate, cycle, stage conversion "
        "and targets.",
        build=team_report,
        position=50,
        date_basis="deals opened or closed in the period, as each column says",
    )
)
