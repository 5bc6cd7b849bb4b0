"""Funnel: leads → qualified → each deal stage → won, for the cohort that entered in the period.

Lead steps count leads created in the period (the pipeline and product filters do not apply to
leads). Deal steps count deals opened in the period. A deal has *reached* a stage when its
history shows it in that stage or any later one (or won), so a deal that jumped a stage still
counts as having passed it and the funnel only narrows. An optional stage counts only the deals
that were actually in it, and the step after it is compared with the step before it, so skipping
an optional stage is never a drop-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q

from closeloop.leads.choices import LeadStatus
from closeloop.leads.selectors import lead_queryset
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import DealFacts, Stage
from closeloop.pipeline.rollups.models import OpenedCell

from ..cells import Rows, deals, report_rows
from ..charts import hbar_chart
from ..filters import ReportFilters
from ..results import ReportKind, ReportResult, Section, Table, report_register
from ..stats import percent


@dataclass
class Step:
    """One step of the funnel and how it compares with the step it follows."""

    name: str
    kind: str  # "lead", "deal", "stage", "won"
    count: int
    optional: bool = False
    base: int | None = None  # the count of the step it is compared with
    first: int | None = None  # the count of the first step of its kind (leads or deals)

    @property
    def conversion(self) -> Any:
        return percent(self.count, self.base) if self.base is not None else None

    @property
    def drop_off(self) -> int | None:
        """How many of the step before did not get this far (none for an optional stage:
        going around it is allowed)."""
        if self.base is None or self.optional:
            return None
        return self.base - self.count

    @property
    def of_first(self) -> Any:
        return percent(self.count, self.first) if self.first is not None else None


def stage_masks(stages: list[Stage]) -> dict[int, int]:
    """For each stage, the bits meaning "reached it": its own slot, for a required stage also
    every later stage's slot and the won bit."""
    masks: dict[int, int] = {}
    for i, stage in enumerate(stages):
        if stage.is_optional:
            masks[stage.pk] = 1 << stage.slot
        else:
            later = 0
            for other in stages[i:]:
                later |= 1 << other.slot
            masks[stage.pk] = later | DealFacts.WON_BIT
    return masks


def reached_counts(rows: Rows, stages: list[Stage]) -> dict[str, int]:
    """One pass: deals in `rows`, won, lost, and how many reached each stage (key "s<pk>")."""
    masks = stage_masks(stages)
    annotations = {f"b{pk}": F("reached_mask").bitand(mask) for pk, mask in masks.items()}
    counts = {f"s{pk}": deals(~Q(**{f"b{pk}": 0})) for pk in masks}
    found = rows.annotate(**annotations).aggregate(
        n=deals(),
        won=deals(Q(status=DealStatus.WON)),
        lost=deals(Q(status=DealStatus.LOST)),
        **counts,
    )
    found["deals"] = found.pop("n")
    return found


def funnel_steps(*, user: Any, filters: ReportFilters) -> list[Step]:
    """The funnel for these filters: two lead steps, deals opened, each stage, won."""
    leads = lead_queryset(user=user).order_by().filter(filters.period.q("created_at"))
    if filters.team_id:
        leads = leads.filter(owner__teams=filters.team_id)
    for name in ("owner", "source", "campaign"):
        value = getattr(filters, f"{name}_id")
        if value:
            leads = leads.filter(**{f"{name}_id": value})
    lead_counts = leads.aggregate(
        n=Count("pk"), qualified=Count("pk", filter=Q(status=LeadStatus.QUALIFIED))
    )
    steps = [
        Step("Leads created", "lead", lead_counts["n"]),
        Step(
            "Sales-qualified",
            "lead",
            lead_counts["qualified"],
            base=lead_counts["n"],
            first=lead_counts["n"],
        ),
    ]
    stages = list(
        Stage.objects.filter(pipeline_id=filters.pipeline_id or 0).order_by("position", "pk")
    )
    counts = reached_counts(report_rows(OpenedCell, user=user, filters=filters), stages)
    opened = counts["deals"]
    steps.append(Step("Deals opened", "deal", opened))
    previous = opened
    for stage in stages:
        n = counts[f"s{stage.pk}"]
        steps.append(Step(stage.name, "stage", n, stage.is_optional, base=previous, first=opened))
        if not stage.is_optional:
            previous = n
    steps.append(Step("Won", "won", counts["won"], base=previous, first=opened))
    return steps


def cohort_rows(*, user: Any, filters: ReportFilters) -> list[list[Any]]:
    """Per month of opening: deals opened, still open, won, lost and the win rate so far."""
    months = report_rows(OpenedCell, user=user, filters=filters, monthly=True).by_month(
        n=deals(),
        open=deals(Q(status=DealStatus.OPEN)),
        won=deals(Q(status=DealStatus.WON)),
        lost=deals(Q(status=DealStatus.LOST)),
    )
    return [
        [
            month.strftime("%Y-%m"),
            r["n"],
            r["open"],
            r["won"],
            r["lost"],
            percent(r["won"], r["won"] + r["lost"]),
        ]
        for r in months
        for month in [r["month"]]
        if r["n"]
    ]


def funnel_report(*, user: Any, filters: ReportFilters) -> ReportResult:
    steps = funnel_steps(user=user, filters=filters)
    table = Table(
        "funnel",
        "Funnel",
        ["Step", "Count", "Conversion from previous step %", "Drop-off", "Of first step %"],
        [
            [
                f"{s.name} (optional)" if s.optional else s.name,
                s.count,
                s.conversion,
                s.drop_off,
                s.of_first,
            ]
            for s in steps
        ],
    )
    chart = hbar_chart(
        "Leads and deals at each step",
        [(s.name, [s.count]) for s in steps],
        ["Count"],
        texts=[
            [f"{s.count:,}" + (f" ({s.conversion} %)" if s.conversion is not None else "")]
            for s in steps
        ],
    )
    cohorts = Table(
        "cohorts",
        "Cohorts by month opened",
        ["Month opened", "Deals", "Still open", "Won", "Lost", "Win rate of closed %"],
        cohort_rows(user=user, filters=filters),
    )
    return ReportResult(
        sections=[
            Section(
                "Funnel",
                "Each step counts the leads or deals of the period that got at least that far; "
                "the conversion compares a step with the one before it (an optional stage is "
                "skipped in that comparison, so leaving it out is not counted as a drop-off).",
                chart,
                table,
                notes=[
                    "Lead steps count leads created in the period; deal steps count deals opened "
                    "in the period, with or without a lead. Pipeline and product filters apply to "
                    "deals only."
                ],
            ),
            Section(
                "Cohorts",
                "The deals opened each month and where they stand today.",
                None,
                cohorts,
            ),
        ]
    )


report_register(
    ReportKind(
        key="funnel",
        title="Funnel",
        summary="How far the leads and deals of a period got, and where they dropped off.",
        build=funnel_report,
        position=10,
        date_basis="leads created and deals opened in the period",
    )
)
