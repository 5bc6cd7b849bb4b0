"""Lost at stage × reason: where the deals lost in the period dropped out, why, for whom, and to
which competitors.

A lost deal keeps the stage where it was lost (`DealFacts.stage`), so "lost at a stage" needs no
history scan. The loss rate at a stage compares the deals lost there with the deals closed (won
or lost) in the same period that reached it, with the funnel's meaning of "reached" (a required
stage is reached by every deal that got to it or beyond; an optional one only by deals that were
in it). Values are added up only for deals in the base currency; the others are still counted.

Every figure comes from four GROUP BY queries over the facts of the period's closed deals; the
groups (stages × reasons, reps × stages, competitor spellings × reasons) are few, so Python only
arranges them into rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, Sum
from django.db.models.functions import Lower, Trim

from closeloop.core.money import CENT, base_currency
from closeloop.pipeline.models import LostReason, Stage
from closeloop.pipeline.rollups.models import ClosedCell, CompetitorCell, LostCell

from ..cells import deals, report_rows
from ..charts import Chart, hbar_chart
from ..filters import ReportFilters
from ..results import ReportKind, ReportResult, Section, Table, report_register
from ..stacked import count_top, stacked_hbar_chart
from ..stats import percent
from .funnel import reached_counts

NO_REASON = "No reason given"
NO_COMPETITOR = "none named"
OTHER_REASONS = "Other reasons"
CHART_SERIES = 5  # the stylesheet colours five series; more reasons fold into "Other reasons"
CHART_ROWS = 20  # bars in the per-rep and competitor charts (the tables list every row)
ZERO = Decimal("0")


@dataclass
class Cell:
    """Lost deals and their base-currency value in one group."""

    n: int = 0
    value: Decimal = ZERO

    def __post_init__(self) -> None:
        # SQLite sums decimals without their scale; two places on every database
        self.value = (self.value or ZERO).quantize(CENT)

    def add(self, n: int, value: Decimal | None) -> None:
        self.n += n
        self.value = (self.value + (value or ZERO)).quantize(CENT)


@dataclass
class Losses:
    """The lost deals of the period grouped every way the report shows them."""

    stages: list[Stage]
    base: str
    closed: int = 0  # deals closed in the period (the loss rate's base for all stages)
    reached: dict[int, int] = field(default_factory=dict)  # stage pk → closed deals reaching it
    by_stage_reason: dict[tuple[int, int | None], Cell] = field(default_factory=dict)
    by_owner_stage: dict[tuple[int, int], Cell] = field(default_factory=dict)
    other_currency: int = 0  # lost deals whose value is not in the base currency

    @property
    def total(self) -> Cell:
        cell = Cell()
        for c in self.by_stage_reason.values():
            cell.add(c.n, c.value)
        return cell

    def stage_cell(self, stage_id: int) -> Cell:
        cell = Cell()
        for (s, _), c in self.by_stage_reason.items():
            if s == stage_id:
                cell.add(c.n, c.value)
        return cell


def _value(base: str) -> Sum:
    return Sum("value", filter=Q(currency=base), default=ZERO)


def losses(*, user: Any, filters: ReportFilters) -> Losses:
    """Lost deals by stage × reason and by rep × stage, and how many closed deals reached each
    stage."""
    stages = list(
        Stage.objects.filter(pipeline_id=filters.pipeline_id or 0).order_by("position", "pk")
    )
    result = Losses(stages, base_currency())
    closed = report_rows(ClosedCell, user=user, filters=filters)
    counts = reached_counts(closed, stages)
    result.closed = counts["deals"]
    result.reached = {s.pk: counts[f"s{s.pk}"] for s in stages}
    lost = report_rows(LostCell, user=user, filters=filters)
    value = _value(result.base)
    for row in lost.group(
        "stage_id",
        "lost_reason_id",
        n=deals(),
        value_sum=value,
        foreign=deals(~Q(currency=result.base)),
    ):
        key = (row["stage_id"], row["lost_reason_id"])
        result.by_stage_reason[key] = Cell(row["n"], row["value_sum"])
        result.other_currency += row["foreign"]
    for row in lost.group("owner_id", "stage_id", n=deals(), value_sum=value):
        cell = Cell(row["n"], row["value_sum"])
        result.by_owner_stage[(row["owner_id"], row["stage_id"])] = cell
    return result


def reason_names() -> dict[int | None, str]:
    """Every lost reason (a short configurable list) in its list order, then "no reason"."""
    names: dict[int | None, str] = dict(
        LostReason.objects.order_by("position", "name").values_list("pk", "name")
    )
    names[None] = NO_REASON
    return names


def stage_rows(data: Losses) -> list[list[Any]]:
    """Per stage: lost, value, share of all losses, closed deals that reached it, loss rate."""
    total = data.total
    rows: list[list[Any]] = []
    for stage in data.stages:
        cell = data.stage_cell(stage.pk)
        reached = data.reached[stage.pk]
        name = f"{stage.name} (optional)" if stage.is_optional else stage.name
        rows.append(
            [name, cell.n, cell.value, percent(cell.n, total.n), reached, percent(cell.n, reached)]
        )
    rows.append(
        [
            "All stages",
            total.n,
            total.value,
            percent(total.n, total.n),
            data.closed,
            percent(total.n, data.closed),
        ]
    )
    return rows


def reason_columns(data: Losses, names: dict[int | None, str]) -> list[int | None]:
    """The reasons given in the period, most frequent first, ties in list order (none last)."""
    per_reason: Counter[int | None] = Counter()
    for (_, reason), cell in data.by_stage_reason.items():
        per_reason[reason] += cell.n
    order = {r: i for i, r in enumerate(names)}
    return sorted(per_reason, key=lambda r: (r is None, -per_reason[r], order.get(r, 0)))


def matrix_rows(data: Losses, reasons: list[int | None]) -> list[list[Any]]:
    """Per stage: lost deals for each reason, all lost, their value; then the column totals."""
    rows: list[list[Any]] = []
    for stage in data.stages:
        cells = [data.by_stage_reason.get((stage.pk, r), Cell()).n for r in reasons]
        cell = data.stage_cell(stage.pk)
        rows.append([stage.name, *cells, cell.n, cell.value])
    totals = [sum(row[1 + i] for row in rows) for i in range(len(reasons))]
    rows.append(["All stages", *totals, data.total.n, data.total.value])
    return rows


def reason_chart(data: Losses, reasons: list[int | None], names: dict[int | None, str]) -> Chart:
    """Stages × reasons, stacked; past five reasons the rarer ones share one segment."""
    shown = reasons if len(reasons) <= CHART_SERIES else reasons[: CHART_SERIES - 1]
    folded = reasons[len(shown) :]
    series = [names.get(r, NO_REASON) for r in shown] + ([OTHER_REASONS] if folded else [])
    rows = []
    for stage in data.stages:
        get = data.by_stage_reason.get
        values = [get((stage.pk, r), Cell()).n for r in shown]
        if folded:
            values.append(sum(get((stage.pk, r), Cell()).n for r in folded))
        rows.append((stage.name, values))
    return stacked_hbar_chart("Deals lost at each stage, by reason", rows, series)


def rep_rows(data: Losses) -> list[list[Any]]:
    """Per rep with a loss (most losses first): lost at each stage, all lost, their value."""
    per_owner: dict[int, Cell] = defaultdict(Cell)
    for (owner, _), cell in data.by_owner_stage.items():
        per_owner[owner].add(cell.n, cell.value)
    users = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=list(per_owner))}
    owners = sorted(per_owner, key=lambda o: (-per_owner[o].n, -per_owner[o].value, users[o]))
    rows: list[list[Any]] = []
    for owner in owners:
        cells = [data.by_owner_stage.get((owner, s.pk), Cell()).n for s in data.stages]
        rows.append([users[owner], *cells, per_owner[owner].n, per_owner[owner].value])
    if rows:
        totals = [sum(row[1 + i] for row in rows) for i in range(len(data.stages))]
        rows.append(["All reps", *totals, data.total.n, data.total.value])
    return rows


@dataclass
class Competitor:
    """The losses to one competitor, however its name was spelt."""

    cell: Cell = field(default_factory=Cell)
    spellings: Counter[str] = field(default_factory=Counter)
    reasons: dict[int | None, Cell] = field(default_factory=lambda: defaultdict(Cell))

    @property
    def top_reason(self) -> int | None:
        # most deals, then most value; max keeps the first of exact ties
        best = max(self.reasons.items(), key=lambda kv: (kv[1].n, kv[1].value), default=None)
        return best[0] if best else None


def competitor_rows(
    *, user: Any, filters: ReportFilters, base: str, total: int, names: dict[int | None, str]
) -> list[list[Any]]:
    """Per competitor (names grouped ignoring case and spaces around them): lost deals, share of
    all losses, value and the most frequent reason; deals naming none come last."""
    groups: dict[str, Competitor] = defaultdict(Competitor)
    rows_in = (
        report_rows(CompetitorCell, user=user, filters=filters)
        .annotate(spelt_as=Lower(Trim("competitor")))
        .group("spelt_as", "competitor", "lost_reason_id", n=deals(), value_sum=_value(base))
    )
    order = {r: i for i, r in enumerate(names)}
    # in list order, so that `top_reason` settles an exact tie by the reason list
    for row in sorted(rows_in, key=lambda r: order.get(r["lost_reason_id"], 0)):
        group = groups[row["spelt_as"] or ""]
        group.cell.add(row["n"], row["value_sum"])
        group.spellings[row["competitor"].strip()] += row["n"]
        group.reasons[row["lost_reason_id"]].add(row["n"], row["value_sum"])

    def label(key: str) -> str:
        # the spelling used most often (alphabetical on a tie) names the group
        spellings = groups[key].spellings
        return min(spellings, key=lambda s: (-spellings[s], s)) if key else NO_COMPETITOR

    keys = sorted(groups, key=lambda k: (not k, -groups[k].cell.n, -groups[k].cell.value, k))
    return [
        [
            label(k),
            groups[k].cell.n,
            percent(groups[k].cell.n, total),
            groups[k].cell.value,
            names.get(groups[k].top_reason, NO_REASON),
        ]
        for k in keys
    ]


def lost_report(*, user: Any, filters: ReportFilters) -> ReportResult:
    """The four sections: at each stage, stage × reason, per rep, competitors."""
    data = losses(user=user, filters=filters)
    base, total = data.base, data.total
    names = reason_names()
    reasons = reason_columns(data, names)
    value = f"Value ({base})"
    by_stage = stage_rows(data)
    stage_chart = hbar_chart(
        "Deals lost at each stage",
        [(row[0], [row[1]]) for row in by_stage[:-1]],
        ["Lost deals"],
        texts=[
            [f"{row[1]:,}" + (f" ({row[5]} %)" if row[5] is not None else "")]
            for row in by_stage[:-1]
        ],
        top=count_top(max((row[1] for row in by_stage[:-1]), default=0)),
    )
    stage_names = [s.name for s in data.stages]
    reps = rep_rows(data)
    rep_chart = stacked_hbar_chart(
        "Deals lost by each rep, by stage",
        [(row[0], row[1 : 1 + len(stage_names)]) for row in reps[:-1][:CHART_ROWS]],
        stage_names,
    )
    competitors = competitor_rows(user=user, filters=filters, base=base, total=total.n, names=names)
    competitor_chart = hbar_chart(
        "Deals lost to each competitor",
        [(row[0], [row[1]]) for row in competitors[:CHART_ROWS]],
        ["Lost deals"],
        top=count_top(max((row[1] for row in competitors), default=0)),
    )
    note = (
        f"Values add up only the deals in {base}, the base currency; deals in other currencies "
        "are counted but their value is left out"
    )
    if data.other_currency:
        note += f" ({data.other_currency:,} such lost deal(s) here)"
    chart_note = []
    if len(reps) - 1 > CHART_ROWS or len(competitors) > CHART_ROWS:
        chart_note.append(f"The charts show the first {CHART_ROWS} rows; the tables list all.")
    return ReportResult(
        notes=[note + "."],
        sections=[
            Section(
                "Lost at each stage",
                "How many deals lost in the period were lost at each stage (the stage a deal "
                "was in when it was marked lost), their value and their share of all losses. "
                "The loss rate divides them by the deals closed (won or lost) in the period "
                "that reached the stage (in brackets on the chart); on the last row, by all "
                "deals closed in the period.",
                stage_chart,
                Table(
                    "stages",
                    "Lost at each stage",
                    [
                        "Stage",
                        "Lost deals",
                        value,
                        "Share of losses %",
                        "Reached it",
                        "Loss rate %",
                    ],
                    by_stage,
                ),
                notes=[
                    "Reached it: the deals closed in the period that reached the stage. A deal "
                    "reached a required stage if it was in it or any later stage, or was won; it "
                    "reached an optional stage only if it was in it."
                ],
            ),
            Section(
                "Stage × reason",
                "The deals lost in the period by the stage they were lost at and the reason "
                "given, most frequent reason first.",
                reason_chart(data, reasons, names),
                Table(
                    "reasons",
                    "Lost deals by stage and reason",
                    ["Stage", *(names.get(r, NO_REASON) for r in reasons), "Lost deals", value],
                    matrix_rows(data, reasons),
                ),
            ),
            Section(
                "Per rep",
                "The deals each rep lost in the period, by the stage they were lost at; reps "
                "with the most losses first.",
                rep_chart,
                Table(
                    "reps",
                    "Lost deals by rep and stage",
                    ["Rep", *stage_names, "Lost deals", value],
                    reps,
                ),
                notes=chart_note,
            ),
            Section(
                "Competitors we lose to",
                "The competitor named when a deal was marked lost (spellings that differ only "
                "in capitals are counted together), with the reason given most often.",
                competitor_chart,
                Table(
                    "competitors",
                    "Competitors we lose to",
                    ["Competitor", "Lost deals", "Share of losses %", value, "Top reason"],
                    competitors,
                ),
                notes=chart_note,
            ),
        ],
    )


report_register(
    ReportKind(
        key="lost",
        title="Lost at stage × reason",
        summary="Where the lost deals dropped out of the pipeline, why, for whom and to whom.",
        build=lost_report,
        position=20,
        date_basis="deals lost in the period (loss rates: all deals closed in the period)",
    )
)
