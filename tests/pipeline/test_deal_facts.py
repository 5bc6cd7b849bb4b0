"""The reports' read model says exactly what the stage history says, after every kind of change."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from closeloop.pipeline import services
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.facts import (
    deal_facts_rebuild,
    deal_facts_refresh,
    deal_facts_stale_ids,
    deal_facts_sync,
    duration_tenths,
    facts_of_deal,
)
from closeloop.pipeline.models import Deal, DealFacts, Pipeline, Stage, StageStay
from closeloop.pipeline.services import stage_create, stage_delete, stage_reorder
from tests.factories import lost_reason

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(days: float) -> time_machine.travel:
    return time_machine.travel(T0 + dt.timedelta(days=days), tick=False)


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name__startswith=name)


def bit(name: str) -> int:
    return 1 << stage(name).slot


def stays(deal: Deal) -> dict[str, int | None]:
    return {
        s.stage.name.split(" ")[0]: s.tenths
        for s in StageStay.objects.filter(deal=deal).select_related("stage")
    }


def test_tenths_round_half_up_and_never_go_negative() -> None:
    assert duration_tenths(T0, T0 + dt.timedelta(hours=1)) == 0  # 0.04 day
    assert duration_tenths(T0, T0 + dt.timedelta(hours=1, minutes=12)) == 1  # 0.05 → 0.1
    assert duration_tenths(T0, T0 + dt.timedelta(days=3, hours=12)) == 35
    assert duration_tenths(T0, T0 - dt.timedelta(days=1)) == 0


def test_a_won_deal_has_its_cycle_stages_and_time_in_each(rep) -> None:
    with at(0):
        deal = services.deal_create(actor=rep, title="Oven", stage=stage("Demo"), value=500)
    with at(2.5):
        deal = services.deal_move_to_stage(actor=rep, deal=deal, stage=stage("Proposal"))
    with at(6):
        deal = services.deal_move_to_stage(actor=rep, deal=deal, stage=stage("Negotiation"))
    with at(10.25):
        deal = services.deal_mark_won(actor=rep, deal=deal)
    facts = DealFacts.objects.get(deal=deal)
    assert facts.status == DealStatus.WON
    assert facts.created_at == T0
    assert facts.closed_at == T0 + dt.timedelta(days=10.25)
    assert facts.cycle_tenths == 103  # 10.25 days, half up
    assert facts.reached_mask == bit("Demo") | bit("Proposal") | bit("Negotiation") | (
        DealFacts.WON_BIT
    )
    assert facts.value == Decimal("500.00") and facts.version == deal.version
    assert stays(deal) == {"Demo": 25, "Proposal": 35, "Negotiation": 43}


def test_a_lost_deal_keeps_its_stage_reason_and_competitor(rep) -> None:
    with at(0):
        deal = services.deal_create(actor=rep, title="Van", stage=stage("Proposal"))
    with at(4):
        deal = services.deal_mark_lost(
            actor=rep, deal=deal, reason=lost_reason("Price"), competitor=" BigCRM "
        )
    facts = DealFacts.objects.get(deal=deal)
    assert (facts.status, facts.stage, facts.lost_reason.name) == (
        "lost",
        stage("Proposal"),
        "Price",
    )
    assert facts.competitor == "BigCRM"
    assert facts.cycle_tenths == 40
    assert facts.reached_mask == bit("Proposal")  # the optional demo was skipped
    assert stays(deal) == {"Proposal": 40}


def test_time_closed_does_not_count_and_an_open_stage_has_no_length_yet(rep) -> None:
    with at(0):
        deal = services.deal_create(actor=rep, title="Sign", stage=stage("Proposal"))
    with at(1):
        deal = services.deal_mark_lost(actor=rep, deal=deal, reason=lost_reason("Timing"))
    with at(30):
        deal = services.deal_reopen(actor=rep, deal=deal)
    with at(32):
        deal = services.deal_move_to_stage(actor=rep, deal=deal, stage=stage("Negotiation"))
    facts = DealFacts.objects.get(deal=deal)
    assert facts.status == "open" and facts.closed_at is None and facts.cycle_tenths is None
    assert facts.lost_reason is None and facts.competitor == ""
    assert facts.stage_entered_at == T0 + dt.timedelta(days=32)
    # one day before the loss plus two after the reopening; the negotiation is still going on
    assert stays(deal) == {"Proposal": 30, "Negotiation": None}


def test_revisits_add_up_and_the_first_entry_is_kept(rep) -> None:
    with at(0):
        deal = services.deal_create(actor=rep, title="Tent", stage=stage("Proposal"))
    with at(2):
        deal = services.deal_move_to_stage(actor=rep, deal=deal, stage=stage("Negotiation"))
    with at(3):
        deal = services.deal_move_to_stage(actor=rep, deal=deal, stage=stage("Proposal"))
    with at(7):
        deal = services.deal_mark_won(actor=rep, deal=deal)
    stay = StageStay.objects.get(deal=deal, stage=stage("Proposal"))
    assert (stay.tenths, stay.visits, stay.entered_at) == (60, 2, T0)


def test_trash_removes_the_facts_and_restore_brings_them_back(rep) -> None:
    deal = services.deal_create(actor=rep, title="Cart")
    deal = services.deal_trash(actor=rep, deal=deal)
    assert not DealFacts.objects.filter(deal=deal).exists()
    assert not StageStay.objects.filter(deal=deal).exists()
    services.deal_restore(actor=rep, deal=deal)
    assert DealFacts.objects.filter(deal=deal).exists()


def test_changed_fields_reach_the_facts(rep, teammate) -> None:
    deal = services.deal_create(actor=rep, title="Cart", value=10)
    services.deal_update(actor=rep, deal=deal, changes={"owner": teammate, "value": 99})
    facts = DealFacts.objects.get(deal=deal)
    assert (facts.owner, facts.value) == (teammate, Decimal("99.00"))
    assert StageStay.objects.get(deal=deal).owner == teammate


def test_deleting_a_stage_clears_its_bit_and_reordering_changes_nothing(admin, rep) -> None:
    pipeline = Pipeline.objects.get(is_default=True)
    extra = stage_create(actor=admin, pipeline=pipeline, name="Contract")
    assert extra.slot == 3
    with at(0):
        passed = services.deal_create(actor=rep, title="Passed", stage=extra)
    with at(1):
        passed = services.deal_move_to_stage(actor=rep, deal=passed, stage=stage("Negotiation"))
    with at(2):
        parked = services.deal_create(actor=rep, title="Parked", stage=extra)
    before = facts_of_deal(passed.pk)
    stage_reorder(
        actor=admin,
        pipeline=pipeline,
        stage_ids=list(reversed([s.pk for s in pipeline.stages.all()])),
    )
    assert facts_of_deal(passed.pk) == before
    stage_delete(actor=admin, stage=extra, move_to=stage("Proposal"))
    assert DealFacts.objects.get(deal=passed).reached_mask == bit("Negotiation")
    assert DealFacts.objects.get(deal=parked).reached_mask == bit("Proposal")
    assert set(StageStay.objects.filter(deal=passed).values_list("stage__name", flat=True)) == {
        "Negotiation / commitment"
    }
    # the freed slot goes to the next new stage
    assert stage_create(actor=admin, pipeline=pipeline, name="Signed").slot == 3


def test_a_write_around_the_services_is_found_and_rebuilt_by_the_sync(rep) -> None:
    deal = services.deal_create(actor=rep, title="Bike", value=10)
    Deal.objects.filter(pk=deal.pk).update(value=77, version=deal.version + 1)
    assert deal_facts_stale_ids() == [deal.pk]
    assert deal_facts_sync() == 1
    assert DealFacts.objects.get(deal=deal).value == Decimal("77.00")
    assert deal_facts_stale_ids() == []


def test_random_histories_give_the_same_facts_incrementally_and_from_scratch(admin, rep, teammate):
    """Whatever sequence of changes, the facts kept along the way equal a rebuild from history."""
    rng = random.Random(8)
    stages = list(Stage.objects.filter(pipeline__is_default=True))
    reasons = [lost_reason("Price"), lost_reason("Timing")]
    deals = []
    for n in range(25):
        day = 0.0
        with at(day):
            deal = services.deal_create(actor=admin, title=f"D{n}", stage=rng.choice(stages))
        for _ in range(rng.randint(0, 7)):
            day += rng.uniform(0.01, 9)
            with at(day):
                step = rng.random()
                if deal.status != DealStatus.OPEN:
                    deal = services.deal_reopen(actor=admin, deal=deal)
                elif step < 0.5:
                    target = rng.choice([s for s in stages if s.pk != deal.stage_id])
                    deal = services.deal_move_to_stage(actor=admin, deal=deal, stage=target)
                elif step < 0.65:
                    deal = services.deal_mark_won(actor=admin, deal=deal)
                elif step < 0.8:
                    deal = services.deal_mark_lost(
                        actor=admin, deal=deal, reason=rng.choice(reasons)
                    )
                else:
                    deal = services.deal_update(
                        actor=admin, deal=deal, changes={"owner": rng.choice([rep, teammate])}
                    )
        deals.append(deal)
    kept = {d.pk: facts_of_deal(d.pk) for d in deals}
    DealFacts.objects.all().delete()
    StageStay.objects.all().delete()
    assert deal_facts_rebuild() == 25
    assert {d.pk: facts_of_deal(d.pk) for d in deals} == kept
    assert deal_facts_stale_ids() == []


@pytest.mark.parametrize("status", ["won", "lost"])
def test_refresh_of_a_deal_without_history_uses_its_own_dates(rep, status) -> None:
    deal = services.deal_create(actor=rep, title="Old")
    closed = timezone.now()
    Deal.objects.filter(pk=deal.pk).update(
        status=status,
        won_at=closed if status == "won" else None,
        lost_at=closed if status == "lost" else None,
    )
    deal.stage_changes.all().delete()
    deal_facts_refresh(deal_ids=[deal.pk])
    assert DealFacts.objects.get(deal=deal).closed_at == closed
