"""Insights against a larger closed history (enough deals per group for the tests to run) and
against the small history of conftest (too few deals: only "not enough data" and rotting).

The larger history (`closed_history`): 90 deals of the default pipeline, all opened on
2026-03-02 and closed on 2026-03-10 (so "this year" takes them all; none is open).

group  deals  path                                    owner (rep / teammate)  lost reason
A      30     Proposal → Negotiation → won             5 / 25
B      10     Proposal → lost at Proposal              5 / 5                   Price
C      25     Proposal → Negotiation → lost there      20 / 5                  Price 15 (rep 12,
                                                                               teammate 3),
                                                                               Competitor 10
D      20     Demo → Proposal → Negotiation → won      0 / 20
E       5     Demo → lost at Demo                      0 / 5                   No budget

Reached (a required stage counts deals that got to it or later): Demo 25 (D, E; optional, so
only deals that were in it), Proposal 85 (A–D), Negotiation 75 (A, C, D). Lost at: Demo 5,
Proposal 10, Negotiation 25; 40 losses in all.

Loss share, stage against the other stages pooled (k1/n1 against k2/n2), pooled p = (k1+k2)/(n1+n2),
z = (k1/n1 − k2/n2) / sqrt(p(1−p)(1/n1 + 1/n2)):
- Negotiation 25/75 = 33.3 % against (5+10)/(25+85) = 15/110 = 13.6 %: p = 40/185 = 0.2162,
  se = sqrt(0.2162 × 0.7838 × (1/75 + 1/110)) = 0.06165, z = 0.19697 / 0.06165 = 3.20 ≥ 1.645;
- Proposal 10/85 = 11.8 % against 30/100 = 30 %: below, no finding;
- Demo 5/25 = 20 % against 35/160 = 21.9 %: below, no finding.
Top reason at Negotiation: Price, 15 of 25 → advice for price at the negotiation stage.

Conversion at a stage (went on to the next required stage, or won after the last):
- Negotiation: rep 5 won of 25 (20 %), everyone else (teammate) 45 of 50 (90 %):
  p = 50/75, se = sqrt(2/3 × 1/3 × (1/50 + 1/25)) = 0.11547, z = 0.7 / 0.11547 = 6.06;
- Proposal: rep 25 of 30 (83.3 %), teammate 50 of 55 (90.9 %): z = 1.04 < 1.645, no finding;
- Demo: teammate 20 of 25, the rest (rep) 0 deals: not enough data.
Seen by the rep (A5, B5, C20 only): Negotiation 20/25 = 80 % lost there against 5/30 = 16.7 %:
p = 25/55, se = sqrt(0.4545 × 0.5455 × (1/25 + 1/30)) = 0.13484, z = 0.63333 / 0.13484 = 4.70.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.reports.insights import (
    ADVICE,
    advice_for,
    insights_find,
    stage_roles,
)
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.facts import deal_facts_refresh
from closeloop.pipeline.models import Deal, Pipeline, StageChange
from tests.factories import lost_reason, stage_named

pytestmark = pytest.mark.usefixtures("today")

DEMO, PROPOSAL, NEGOTIATION = "Demo / meeting", "Proposal", "Negotiation / commitment"
OPENED = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
CLOSED = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)


def filters(**kw: Any) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.THIS_YEAR)
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset), **kw)


def _closed_deals(owner: Any, count: int, path: list[str], status: str, reason: str = "") -> None:
    """`count` deals through `path` (a day per step from OPENED), then won or lost on CLOSED
    in the last stage: the same rows the services write (a Deal and its StageChanges)."""
    stages = [stage_named(name) for name in path]
    why = lost_reason(reason) if reason else None
    with time_machine.travel(OPENED, tick=False):
        deals = Deal.objects.bulk_create(
            Deal(
                title=f"{path[-1]} {status} {owner.pk}-{i}",
                owner=owner,
                value=Decimal("1000"),
                currency="EUR",
                pipeline=stages[0].pipeline,
                stage=stages[-1],
                status=status,
                created_at=OPENED,
                won_at=CLOSED if status == DealStatus.WON else None,
                lost_at=CLOSED if status == DealStatus.LOST else None,
                lost_reason=why,
            )
            for i in range(count)
        )
    changes = []
    for deal in deals:
        previous = None
        for step, stage in enumerate(stages):
            changes.append(
                StageChange(
                    deal=deal,
                    from_stage=previous,
                    to_stage=stage,
                    from_status="" if previous is None else DealStatus.OPEN,
                    to_status=DealStatus.OPEN,
                    actor=owner,
                    changed_at=OPENED + dt.timedelta(days=step),
                )
            )
            previous = stage
        changes.append(
            StageChange(
                deal=deal,
                from_stage=previous,
                to_stage=previous,
                from_status=DealStatus.OPEN,
                to_status=status,
                actor=owner,
                changed_at=CLOSED,
            )
        )
    StageChange.objects.bulk_create(changes)
    deal_facts_refresh(deal_ids=[d.pk for d in deals])


@pytest.fixture
def closed_history(rep: Any, teammate: Any) -> None:
    """The 90 closed deals of the module docstring."""
    won, lost = DealStatus.WON, DealStatus.LOST
    negotiation = [PROPOSAL, NEGOTIATION]
    for owner, a, b, c_price, c_competitor, d, e in [
        (rep, 5, 5, 12, 8, 0, 0),
        (teammate, 25, 5, 3, 2, 20, 5),
    ]:
        _closed_deals(owner, a, negotiation, won)
        _closed_deals(owner, b, [PROPOSAL], lost, "Price")
        _closed_deals(owner, c_price, negotiation, lost, "Price")
        _closed_deals(owner, c_competitor, negotiation, lost, "Competitor")
        if d:
            _closed_deals(owner, d, [DEMO, *negotiation], won)
        if e:
            _closed_deals(owner, e, [DEMO], lost, "No budget")


def test_the_stage_that_loses_significantly_more_comes_first_with_its_advice(closed_history, admin):
    found = insights_find(user=admin, filters=filters())
    assert [(f.kind, f.title) for f in found.findings] == [
        ("stage_loss", "Many deals are lost at Negotiation / commitment"),
        ("rep_conversion", "Rita Rep converts fewer deals at Negotiation / commitment"),
    ]
    stage = found.findings[0]
    assert round(stage.z, 2) == 3.20
    assert stage.text == (
        "Of the deals closed in the period that reached Negotiation / commitment, 25 of 75 "
        "(33.3 %) were lost there, against 15 of 110 (13.6 %) at the other stages taken "
        "together. A one-sided two-proportion z-test at the 5 % level says the difference is "
        "not chance (z = 3.20). The top reason there is Price (15 of 25 losses)."
    )
    assert stage.advice == "Revisit the offer and its pricing (discount limits, payment terms)."
    assert stage.url == f"/analytics/lost/?{filters().query()}"


def test_an_owner_far_below_everyone_else_at_a_stage(closed_history, admin, rep):
    found = insights_find(user=admin, filters=filters())
    finding = found.findings[1]
    assert round(finding.z, 2) == 6.06
    assert finding.text == (
        "Of Rita Rep's deals closed in the period that reached Negotiation / commitment, 5 of 25 "
        "(20.0 %) went on past it, against 45 of 50 (90.0 %) for everyone else. A one-sided "
        "two-proportion z-test at the 5 % level says the difference is not chance (z = 6.06)."
    )
    assert finding.url == f"/analytics/funnel/?{filters(owner_id=rep.pk).query()}"
    # Demo: the teammate's 25 deals have no one to be compared with; the rest had enough data
    assert found.missing == [
        "conversion at Demo / meeting by owner: of the closed deals that reached it, Tom "
        "Teammate 25 against 0 for everyone else; the test needs at least 20 on each side."
    ]
    assert found.checked == [
        "loss share at Demo / meeting",
        "loss share at Proposal",
        "loss share at Negotiation / commitment",
        "Rita Rep at Proposal",
        "Tom Teammate at Proposal",
        "Rita Rep at Negotiation / commitment",
        "Tom Teammate at Negotiation / commitment",
    ]


def test_a_rep_gets_insights_from_their_own_deals_only(closed_history, rep):
    found = insights_find(user=rep, filters=filters())
    assert [f.kind for f in found.findings] == ["stage_loss"]
    assert "20 of 25 (80.0 %) were lost there, against 5 of 30 (16.7 %)" in found.findings[0].text
    assert round(found.findings[0].z, 2) == 4.70
    assert found.missing[0].startswith(
        "the loss share at Demo / meeting: 0 closed deals reached it and 55 reached the other "
        "stages"
    )


def test_nothing_is_concluded_from_the_small_history(history, admin, manager):
    found = insights_find(user=admin, filters=filters())
    # only the rotting deals: D6 (in Proposal since 05-01) and D7 (since 05-20), 21 days to rot
    assert [(f.kind, f.title) for f in found.findings] == [
        ("rotting", "2 open deals rotting in Proposal")
    ]
    proposal = stage_named(PROPOSAL)
    assert found.findings[0].url == (
        f"/deals/?pipeline={default_pipeline_id()}&stage={proposal.pk}&status=open&mark=rotting"
    )
    assert found.missing[:4] == [
        "the loss share at Demo / meeting: 3 closed deals reached it and 7 reached the other "
        "stages; the test needs at least 20 on each side.",
        "the loss share at Proposal: 4 closed deals reached it and 6 reached the other stages; "
        "the test needs at least 20 on each side.",
        "the loss share at Negotiation / commitment: 3 closed deals reached it and 7 reached "
        "the other stages; the test needs at least 20 on each side.",
        # D1, D5 (Rita Rep) and D3 (Tom Teammate) were in the optional Demo stage
        "conversion at Demo / meeting by owner: of the closed deals that reached it, Rita Rep 2 "
        "against 1 for everyone else; Tom Teammate 1 against 2 for everyone else; the test "
        "needs at least 20 on each side.",
    ]
    assert len(found.missing) == 6 and found.checked == []
    # the manager does not see the outsider's D7
    mine = insights_find(user=manager, filters=filters())
    assert [f.title for f in mine.findings] == ["1 open deal rotting in Proposal"]


def test_the_rotting_link_lists_the_same_deals(history, admin_client_):
    found = insights_find(user=history.deals["D1"].owner, filters=filters())
    url = found.findings[0].url
    body = admin_client_.get(url).content.decode()
    assert ">D6<" in body and ">D1<" not in body


def test_stage_roles_and_the_advice_table(db):
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(pipeline.stages.order_by("position"))
    roles = {s.name: role for s in stages if (role := stage_roles(pipeline, stages).get(s.pk))}
    assert roles == {DEMO: "demo", PROPOSAL: "proposal", NEGOTIATION: "negotiation"}
    assert advice_for("Price", "proposal") == ADVICE[0][2]
    assert (
        advice_for("Price", "") == "Talk about price earlier, so a proposal is not the first "
        "time it comes up."
    )
    assert advice_for("No budget", "demo").startswith("Qualify budget earlier (BANT)")
    assert advice_for("Competitor", "negotiation").startswith("Prepare a comparison")
    assert (
        advice_for("Other", "demo") == "Review qualification: deals reach the demo that should not."
    )
    assert advice_for("Other", "proposal") == ADVICE[-1][2]


def test_the_page_lists_findings_then_what_lacked_data_and_exports(closed_history, admin_client_):
    response = admin_client_.get("/analytics/insights/", {"period": "this_year"})
    body = response.content.decode()
    assert response.status_code == 200
    first = body.index("High: Many deals are lost at Negotiation / commitment")
    second = body.index("Medium: Rita Rep converts fewer deals")
    assert first < second < body.index("Not enough data for: conversion at Demo / meeting")
    assert "z = 3.20" in body
    assert "What to do: Revisit the offer and its pricing" in body
    export = admin_client_.get(
        "/analytics/insights/", {"period": "this_year", "export": "findings"}
    )
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines == [
        "Severity,Finding,z,What to do",
        'High,Many deals are lost at Negotiation / commitment,3.20,"Revisit the offer and its '
        'pricing (discount limits, payment terms)."',
        'Medium,Rita Rep converts fewer deals at Negotiation / commitment,6.06,"Go through '
        "these deals together: coaching on this stage, or a look at how they were qualified, "
        'usually helps."',
    ]


def test_insights_take_a_fixed_number_of_queries(closed_history, admin, django_assert_num_queries):
    chosen = filters()
    # pipeline, its stages (twice: the demo stage rule reads them itself), loss counts, loss
    # reasons, per-owner counts, the stages that rot, rotting deals by stage
    with django_assert_num_queries(8):
        insights_find(user=admin, filters=chosen)
