"""The stage setup services: names, probabilities, days to rot, order, and deleting with deals."""

from __future__ import annotations

import pytest
from django.utils import timezone

from closeloop.core.exceptions import DomainError
from closeloop.pipeline import services
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal, Stage, StageChange
from closeloop.pipeline.selectors import deal_timeline
from tests.factories import DealFactory, lost_reason, stage_named

pytestmark = pytest.mark.django_db


def _names(pipeline) -> list[str]:
    return list(pipeline.stages.order_by("position", "pk").values_list("name", flat=True))


def test_stage_create_adds_the_stage_at_the_end(manager, sales):
    stage = services.stage_create(
        actor=manager, pipeline=sales, name="  Contract sent ", probability=90, rot_days=7
    )
    assert (stage.name, stage.probability, stage.rot_days) == ("Contract sent", 90, 7)
    assert _names(sales)[-1] == "Contract sent"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": "proposal"}, "name", "already has a stage called"),
        ({"name": "   "}, "name", "needs a name"),
        ({"name": "x" * 121}, "name", "at most 120 characters"),
        ({"probability": 150}, "probability", "between 0 and 100"),
        ({"probability": -1}, "probability", "between 0 and 100"),
        ({"rot_days": 0}, "rot_days", "at least 1"),
    ],
)
def test_stage_create_refuses_bad_input_naming_the_field(manager, sales, kwargs, field, message):
    before = _names(sales)
    fields = {"name": "Contract sent", "probability": 50, "rot_days": None, **kwargs}
    with pytest.raises(DomainError, match=message) as err:
        services.stage_create(actor=manager, pipeline=sales, **fields)
    assert err.value.field == field
    assert _names(sales) == before


def test_a_rep_cannot_change_stages(rep, sales):
    with pytest.raises(DomainError, match="Only admins and managers"):
        services.stage_create(actor=rep, pipeline=sales, name="Sneaky")
    with pytest.raises(DomainError, match="Only admins and managers"):
        services.stage_delete(actor=rep, stage=stage_named("Proposal"))
    assert Stage.objects.filter(name="Proposal").exists()


def test_stage_update_renames_and_changes_the_numbers(admin):
    stage = services.stage_update(
        actor=admin, stage=stage_named("Proposal"), name="Offer", probability=60, rot_days=None,
        is_optional=True,
    )  # fmt: skip
    stage.refresh_from_db()
    assert (stage.name, stage.probability, stage.rot_days, stage.is_optional) == (
        "Offer", 60, None, True,
    )  # fmt: skip


def test_stage_update_refuses_a_name_taken_in_the_same_pipeline(admin):
    stage = stage_named("Proposal")
    with pytest.raises(DomainError, match="already has a stage called") as err:
        services.stage_update(
            actor=admin, stage=stage, name="NEGOTIATION / commitment", probability=50,
            rot_days=21, is_optional=False,
        )  # fmt: skip
    assert err.value.field == "name"
    stage.refresh_from_db()
    assert stage.name == "Proposal"


def test_the_same_stage_name_is_fine_in_another_pipeline(admin):
    other = services.pipeline_create(actor=admin, name="Partners", with_default_stages=False)
    stage = services.stage_create(actor=admin, pipeline=other, name="Proposal")
    assert stage.pipeline == other


def test_stage_reorder_puts_the_stages_in_the_given_order(manager, sales):
    ids = list(sales.stages.order_by("position").values_list("pk", flat=True))
    services.stage_reorder(actor=manager, pipeline=sales, stage_ids=list(reversed(ids)))
    assert _names(sales) == ["Negotiation / commitment", "Proposal", "Demo / meeting"]


@pytest.mark.parametrize("change", ["missing", "duplicate", "foreign"])
def test_stage_reorder_refuses_a_list_that_is_not_every_stage_once(admin, sales, change):
    ids = list(sales.stages.order_by("position").values_list("pk", flat=True))
    if change == "missing":
        ids = ids[:-1]
    elif change == "duplicate":
        ids = [ids[0], *ids]
    else:
        other = services.pipeline_create(actor=admin, name="Partners")
        ids = [*ids[:-1], other.stages.first().pk]
    before = _names(sales)
    with pytest.raises(DomainError, match="every stage of the pipeline exactly once"):
        services.stage_reorder(actor=admin, pipeline=sales, stage_ids=ids)
    assert _names(sales) == before


def test_deleting_an_empty_stage_needs_no_target(admin, sales):
    assert services.stage_delete(actor=admin, stage=stage_named("Demo / meeting")) == 0
    assert _names(sales) == ["Proposal", "Negotiation / commitment"]


def test_deleting_a_stage_with_deals_requires_a_stage_to_move_them_to(admin):
    proposal = stage_named("Proposal")
    deal = DealFactory(stage=proposal)
    with pytest.raises(DomainError, match="still holds 1 deal") as err:
        services.stage_delete(actor=admin, stage=proposal)
    assert err.value.field == "move_to"
    assert Stage.objects.filter(pk=proposal.pk).exists()
    deal.refresh_from_db()
    assert deal.stage == proposal


@pytest.mark.parametrize("target", ["itself", "other pipeline"])
def test_deals_must_move_to_another_stage_of_the_same_pipeline(admin, target):
    proposal = stage_named("Proposal")
    DealFactory(stage=proposal)
    if target == "itself":
        move_to = proposal
    else:
        move_to = services.pipeline_create(actor=admin, name="Partners").stages.first()
    with pytest.raises(DomainError, match="another stage of the same pipeline"):
        services.stage_delete(actor=admin, stage=proposal, move_to=move_to)
    assert Stage.objects.filter(pk=proposal.pk).exists()


def test_deleting_a_stage_moves_every_deal_and_records_each_move(admin):
    proposal, negotiation = stage_named("Proposal"), stage_named("Negotiation / commitment")
    open_deal = DealFactory(stage=proposal)
    lost = DealFactory(stage=proposal)
    services.deal_mark_lost(actor=admin, deal=lost, reason=lost_reason("Price"))
    trashed = DealFactory(stage=proposal)
    Deal.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())
    untouched = DealFactory(stage=negotiation)
    history_before = {
        d.pk: StageChange.objects.filter(deal=d).count() for d in (open_deal, lost, trashed)
    }
    versions_before = {
        d.pk: Deal.with_trashed.get(pk=d.pk).version for d in (open_deal, lost, trashed)
    }

    moved = services.stage_delete(actor=admin, stage=proposal, move_to=negotiation)

    assert moved == 3
    assert not Stage.objects.filter(pk=proposal.pk).exists()
    for pk, count in history_before.items():
        deal = Deal.with_trashed.get(pk=pk)
        assert deal.stage == negotiation
        assert deal.version == versions_before[pk] + 1
        changes = list(StageChange.objects.filter(deal=deal))
        assert len(changes) == count + 1
        last = changes[-1]
        assert (last.to_stage, last.actor, last.from_status, last.to_status) == (
            negotiation, admin, deal.status, deal.status,
        )  # fmt: skip
    assert Deal.with_trashed.get(pk=lost.pk).status == DealStatus.LOST
    assert StageChange.objects.filter(deal=untouched).count() == 1
    # the deal's timeline still tells the whole story, naming the stage as deleted
    titles = [entry.title for entry in deal_timeline(deal=Deal.objects.get(pk=open_deal.pk))]
    assert titles == ["Moved from a deleted stage to Negotiation / commitment",
                      "Created in a deleted stage"]  # fmt: skip


def test_the_last_stage_of_a_pipeline_cannot_be_deleted(admin):
    pipeline = services.pipeline_create(actor=admin, name="Tiny", with_default_stages=False)
    only = services.stage_create(actor=admin, pipeline=pipeline, name="Only")
    with pytest.raises(DomainError, match="at least one stage"):
        services.stage_delete(actor=admin, stage=only)
    assert Stage.objects.filter(pk=only.pk).exists()
