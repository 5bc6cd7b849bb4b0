"""Insights: findings in plain words, each with the numbers behind it, and none without the data.

Three kinds of finding, on the deals closed in the period (so every outcome is known):

- a stage whose loss share is significantly above the rest of the pipeline's: losses at the
  stage ÷ deals that reached it, against losses at all other stages ÷ deals that reached them
  (pooled), with the one-sided two-proportion z-test of `stats.significantly_above` (5 %, at
  least `MIN_SAMPLE` deals on both sides); it comes with the stage's top loss reason and the
  advice the `ADVICE` table gives for that reason at that kind of stage;
- an owner whose conversion at a stage (deals that went past it ÷ deals that reached it) is
  significantly below everyone else's, with the same test;
- open deals rotting, by stage (today, whatever the period), linking to the deal list.

Where a test cannot be run for lack of deals, the page says so instead of guessing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db.models import F, Q
from django.urls import reverse
from django.utils.http import urlencode

from closeloop.activities.services.planning import deal_demo_stage
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.deal_marks import rotting_counts
from closeloop.pipeline.models import DealFacts, Pipeline, Stage
from closeloop.pipeline.rollups.models import ClosedCell, LostCell

from ..cells import Rows, deals, report_rows
from ..filters import ReportFilters, report_narrowed
from ..results import Link, ReportKind, ReportResult, Section, Table, report_register
from ..stats import MIN_SAMPLE, Rate, significantly_above
from .funnel import stage_masks

# (keyword in the loss reason's name, stage role, advice): the first row that matches wins.
# Roles: "proposal" and "negotiation" are the pipeline's proposal and negotiation stages,
# "demo" its demo stage; "*" is any stage; an empty keyword is any reason.
ADVICE: list[tuple[str, str, str]] = [
    ("price", "negotiation", "Revisit the offer and its pricing (discount limits, payment terms)."),
    ("price", "proposal", "Revisit the offer and its pricing (discount limits, payment terms)."),
    ("price", "*", "Talk about price earlier, so a proposal is not the first time it comes up."),
    ("budget", "*", "Qualify budget earlier (BANT): ask who pays and how much before the demo."),
    (
        "competitor",
        "*",
        "Prepare a comparison with the competitors you lose to and show it before the "
        "customer asks; note the competitor on every lost deal.",
    ),
    ("feature", "*", "Share these lost deals with the product team; qualify must-haves earlier."),
    ("decision", "*", "Find the decision-maker earlier and bring them into the demo."),
    ("unresponsive", "*", "Agree a next step at every contact and follow up within days."),
    ("timing", "*", "Ask about timing when qualifying, and nurture deals that are too early."),
    ("fit", "*", "Review qualification: deals that do not fit get too far."),
    ("", "demo", "Review qualification: deals reach the demo that should not."),
    ("", "*", "Read the notes on these lost deals and look for what they have in common."),
]

SEVERITY_LABELS = {3: "High", 2: "Medium", 1: "Low"}


@dataclass
class Finding:
    """One insight: a title, what the numbers say, what to do, and where to look."""

    kind: str  # "stage_loss", "rep_conversion", "rotting"
    severity: int  # 3 high, 2 medium, 1 low
    title: str
    text: str
    advice: str = ""
    url: str = ""
    z: float | None = None
    rank: float = 0.0  # ordering within a severity: bigger first

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]


@dataclass
class Insights:
    """The findings, most severe first, and what could not be checked for lack of deals."""

    findings: list[Finding] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)


def stage_roles(pipeline: Pipeline, stages: list[Stage]) -> dict[int, str]:
    """Stage id → role ("demo", "proposal", "negotiation") for the stages that have one."""
    roles: dict[int, str] = {}
    demo = deal_demo_stage(SimpleNamespace(pipeline=pipeline))
    if demo is None:
        demo = next((s for s in stages if s.is_optional), None)
    if demo is not None:
        roles[demo.pk] = "demo"
    if pipeline.proposal_stage_id:
        roles[pipeline.proposal_stage_id] = "proposal"
    if pipeline.negotiation_stage_id:
        roles[pipeline.negotiation_stage_id] = "negotiation"
    return roles


def advice_for(reason: str, role: str) -> str:
    """The advice for losing for `reason` at a stage with `role` (first matching ADVICE row)."""
    name = reason.lower()
    for keyword, rule_role, advice in ADVICE:
        if keyword in name and rule_role in ("*", role):
            return advice
    return ADVICE[-1][2]


def _next_masks(stages: list[Stage], masks: dict[int, int]) -> dict[int, int]:
    """For each stage, the bits meaning "went past it": the next required stage, or won."""
    result: dict[int, int] = {}
    for i, stage in enumerate(stages):
        later = next((s for s in stages[i + 1 :] if not s.is_optional), None)
        result[stage.pk] = masks[later.pk] if later else DealFacts.WON_BIT
    return result


def _z(z: float) -> str:
    return f"{z:.2f}"


def _rate(rate: Rate) -> str:
    return f"{rate.k} of {rate.n} ({rate.value} %)"


def _stage_losses(
    closed: Rows,
    lost: Rows,
    stages: list[Stage],
    roles: dict[int, str],
    filters: ReportFilters,
    out: Insights,
) -> None:
    masks = stage_masks(stages)
    annotations = {f"b{pk}": F("reached_mask").bitand(mask) for pk, mask in masks.items()}
    counts: dict[str, Any] = {}
    for stage in stages:
        counts[f"r{stage.pk}"] = deals(~Q(**{f"b{stage.pk}": 0}))
        counts[f"l{stage.pk}"] = deals(Q(status=DealStatus.LOST, stage_id=stage.pk))
    row = closed.annotate(**annotations).aggregate(**counts)
    reasons: dict[int, list[tuple[str, int]]] = defaultdict(list)
    by_reason = lost.group("stage_id", "lost_reason__name", n=deals())
    for r in sorted(
        by_reason, key=lambda r: (r["stage_id"], -r["n"], r["lost_reason__name"] or "")
    ):
        reasons[r["stage_id"]].append((r["lost_reason__name"] or "No reason given", r["n"]))
    reached_all = sum(row[f"r{s.pk}"] for s in stages)
    lost_all = sum(row[f"l{s.pk}"] for s in stages)
    for stage in stages:
        here = Rate(row[f"l{stage.pk}"], row[f"r{stage.pk}"])
        rest = Rate(lost_all - here.k, reached_all - here.n)
        if here.n < MIN_SAMPLE or rest.n < MIN_SAMPLE:
            out.missing.append(
                f"the loss share at {stage.name}: {here.n} closed deals reached it and "
                f"{rest.n} reached the other stages; the test needs at least {MIN_SAMPLE} on "
                "each side."
            )
            continue
        out.checked.append(f"loss share at {stage.name}")
        z = significantly_above(here.k, here.n, rest.k, rest.n)
        if z is None:
            continue
        role = roles.get(stage.pk, "")
        top = reasons[stage.pk][0] if reasons[stage.pk] else ("No reason given", 0)
        out.findings.append(
            Finding(
                kind="stage_loss",
                severity=3,
                title=f"Many deals are lost at {stage.name}",
                text=(
                    f"Of the deals closed in the period that reached {stage.name}, "
                    f"{_rate(here)} were lost there, against {_rate(rest)} at the other stages "
                    f"taken together. A one-sided two-proportion z-test at the 5 % level says "
                    f"the difference is not chance (z = {_z(z)}). The top reason there is "
                    f"{top[0]} ({top[1]} of {here.k} losses)."
                ),
                advice=advice_for(top[0], role),
                url=f"{reverse('analytics:report', args=['lost'])}?{filters.query()}",
                z=z,
                rank=z,
            )
        )


def _rep_conversion(
    closed: Rows, stages: list[Stage], filters: ReportFilters, out: Insights
) -> None:
    masks = stage_masks(stages)
    after = _next_masks(stages, masks)
    annotations: dict[str, Any] = {}
    counts: dict[str, Any] = {}
    for stage in stages:
        annotations[f"b{stage.pk}"] = F("reached_mask").bitand(masks[stage.pk])
        annotations[f"a{stage.pk}"] = F("reached_mask").bitand(after[stage.pk])
        reached = ~Q(**{f"b{stage.pk}": 0})
        counts[f"r{stage.pk}"] = deals(reached)
        counts[f"p{stage.pk}"] = deals(reached & ~Q(**{f"a{stage.pk}": 0}))
    rows = closed.annotate(**annotations).group(
        "owner_id", "owner__full_name", "owner__email", **counts
    )
    for stage in stages:
        total_n = sum(r[f"r{stage.pk}"] for r in rows)
        total_k = sum(r[f"p{stage.pk}"] for r in rows)
        short: list[str] = []
        for r in sorted(rows, key=lambda r: r["owner__full_name"] or r["owner__email"]):
            name = r["owner__full_name"] or r["owner__email"]
            mine = Rate(r[f"p{stage.pk}"], r[f"r{stage.pk}"])
            rest = Rate(total_k - mine.k, total_n - mine.n)
            if not mine.n:
                continue
            if mine.n < MIN_SAMPLE or rest.n < MIN_SAMPLE:
                short.append(f"{name} {mine.n} against {rest.n} for everyone else")
                continue
            out.checked.append(f"{name} at {stage.name}")
            z = significantly_above(rest.k, rest.n, mine.k, mine.n)
            if z is None:
                continue
            owner_filters = ReportFilters(
                pipeline_id=filters.pipeline_id, period=filters.period, owner_id=r["owner_id"]
            )
            out.findings.append(
                Finding(
                    kind="rep_conversion",
                    severity=2,
                    title=f"{name} converts fewer deals at {stage.name}",
                    text=(
                        f"Of {name}'s deals closed in the period that reached {stage.name}, "
                        f"{_rate(mine)} went on past it, against {_rate(rest)} for everyone "
                        f"else. A one-sided two-proportion z-test at the 5 % level says the "
                        f"difference is not chance (z = {_z(z)})."
                    ),
                    advice="Go through these deals together: coaching on this stage, or a "
                    "look at how they were qualified, usually helps.",
                    url=f"{reverse('analytics:report', args=['funnel'])}?{owner_filters.query()}",
                    z=z,
                    rank=z,
                )
            )
        if short:
            out.missing.append(
                f"conversion at {stage.name} by owner: of the closed deals that reached it, "
                f"{'; '.join(short)}; the test needs at least {MIN_SAMPLE} on each side."
            )


def rotting_by_stage(
    *, user: Any, filters: ReportFilters, stages: list[Stage]
) -> list[tuple[Stage, int]]:
    """Open deals rotting today in each stage of the pipeline, as the deal list counts them
    (same visibility, owner and team; period, source, campaign and product do not apply)."""
    chosen = ReportFilters(
        pipeline_id=filters.pipeline_id,
        period=filters.period,
        owner_id=filters.owner_id,
        team_id=filters.team_id,
    )
    counts = rotting_counts(
        report_narrowed(DealFacts.objects.all(), user, chosen, deal_field="deal_id")
    )
    return [(s, counts[s.pk]) for s in stages if counts.get(s.pk)]


def _deal_list_url(filters: ReportFilters, stage: Stage) -> str:
    params = {
        "pipeline": filters.pipeline_id,
        "stage": stage.pk,
        "owner": filters.owner_id,
        "team": filters.team_id,
        "status": DealStatus.OPEN,
        "mark": "rotting",
    }
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{reverse('pipeline:deal_list')}?{query}"


def _rotting(rows: list[tuple[Stage, int]], filters: ReportFilters, out: Insights) -> None:
    for stage, n in rows:
        out.findings.append(
            Finding(
                kind="rotting",
                severity=1,
                title=f"{n} open deal{'s' if n != 1 else ''} rotting in {stage.name}",
                text=(
                    f"{n} open deal{'s are' if n != 1 else ' is'} in {stage.name} with nothing "
                    f"done on {'them' if n != 1 else 'it'} for more than {stage.rot_days} days "
                    f"(the stage's days to rot): no activity and no stage change."
                ),
                advice="Give each a next step, or close the ones that are gone.",
                url=_deal_list_url(filters, stage),
                rank=n,
            )
        )


def insights_find(*, user: Any, filters: ReportFilters) -> Insights:
    """All findings for these filters, most severe first (a bounded number of queries)."""
    out = Insights()
    pipeline = Pipeline.objects.filter(pk=filters.pipeline_id or 0).first()
    if pipeline is None:
        out.missing.append("every finding: there is no pipeline yet.")
        return out
    stages = list(pipeline.stages.order_by("position", "pk"))
    closed = report_rows(ClosedCell, user=user, filters=filters)
    lost = report_rows(LostCell, user=user, filters=filters)
    _stage_losses(closed, lost, stages, stage_roles(pipeline, stages), filters, out)
    _rep_conversion(closed, stages, filters, out)
    _rotting(rotting_by_stage(user=user, filters=filters, stages=stages), filters, out)
    out.findings.sort(key=lambda f: (-f.severity, -f.rank, f.title))
    return out


def insights_report(*, user: Any, filters: ReportFilters) -> ReportResult:
    found = insights_find(user=user, filters=filters)
    sections = [
        Section(
            f"{f.severity_label}: {f.title}",
            f.text,
            notes=[f"What to do: {f.advice}"] if f.advice else [],
        )
        for f in found.findings
    ]
    if not found.findings:
        sections.append(
            Section(
                "Nothing stands out",
                "No stage loses significantly more deals than the others, no owner converts "
                "significantly fewer, and no open deal is rotting.",
            )
        )
    if found.findings:
        sections.append(
            Section(
                "All findings",
                "Each finding links to where to look: the lost deals report, the owner's "
                "funnel, or the list of rotting deals.",
                table=Table(
                    "findings",
                    "All findings",
                    ["Severity", "Finding", "z", "What to do"],
                    [
                        [f.severity_label, Link(f.title, f.url), _z(f.z) if f.z else None, f.advice]
                        for f in found.findings
                    ],
                ),
            )
        )
    sections.append(
        Section(
            "What was checked",
            (
                "Tests run with enough deals: " + "; ".join(found.checked) + "."
                if found.checked
                else "No test had enough deals to be run."
            ),
            notes=[f"Not enough data for: {line}" for line in found.missing],
        )
    )
    return ReportResult(
        sections=sections,
        notes=[
            "Stage and owner findings use the deals closed (won or lost) in the period; rotting "
            "deals are the open ones today. A finding is shown only when a test could be run on "
            f"at least {MIN_SAMPLE} deals on each side and found a difference at the 5 % level."
        ],
    )


report_register(
    ReportKind(
        key="insights",
        title="Insights",
        summary="What stands out: stages that lose deals, owners who convert fewer, deals "
        "going stale, and what to do about each.",
        build=insights_report,
        position=5,
        date_basis="deals closed in the period (rotting: open deals today)",
    )
)
