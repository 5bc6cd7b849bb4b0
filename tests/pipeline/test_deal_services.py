"""The deal services: every rule of stage, status, history and concurrency."""

from __future__ import annotations

from decimal import Decimal

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.pipeline import services
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal, StageChange
from tests.factories import DealFactory, default_pipeline, lost_reason, stage_named

pytestmark = pytest.mark.django_db


def test_deal_create_starts_in_first_stage_with_history(rep):
    deal = services.deal_create(actor=rep, title="  Website relaunch ", value=Decimal("1200.50"))
    assert deal.title == "Website relaunch"
    assert deal.stage == default_pipeline().stages.order_by("position").first()
    assert deal.owner == rep
    assert deal.currency == "EUR"
    assert deal.status == DealStatus.OPEN
    (change,) = StageChange.objects.filter(deal=deal)
    assert change.from_stage is None
    assert change.to_stage == deal.stage
    assert change.actor == rep


@pytest.mark.parametrize(
    ("field", "kwargs", "message"),
    [
        ("title", {"title": "   "}, "needs a title"),
        ("value", {"value": Decimal("-1")}, "cannot be negative"),
        ("currency", {"currency": "XXX"}, "not a known currency"),
    ],
)
def test_deal_create_refuses_bad_input_naming_the_field(rep, field, kwargs, message):
    base = {"title": "Ok", **kwargs}
    with pytest.raises(DomainError, match=message) as err:
        services.deal_create(actor=rep, **base)
    assert err.value.field == field
    assert not Deal.objects.exists()


def test_move_records_a_stage_change_with_actor(rep):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"))
    moved = services.deal_move_to_stage(
        actor=rep,
        deal=deal,
        stage=stage_named("Negotiation / commitment"),
        expected_version=deal.version,
    )
    assert moved.stage.name == "Negotiation / commitment"
    assert moved.version == deal.version + 1
    last = StageChange.objects.filter(deal=deal).last()
    assert (last.from_stage.name, last.to_stage.name, last.actor) == (
        "Proposal",
        "Negotiation / commitment",
        rep,
    )


def test_stale_move_is_refused_and_nothing_changes(rep, teammate):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"))
    stale_version = deal.version
    services.deal_update(
        actor=rep, deal=deal, changes={"value": Decimal("5")}, expected_version=stale_version
    )
    with pytest.raises(DomainError, match="changed by someone else"):
        services.deal_move_to_stage(
            actor=rep,
            deal=deal,
            stage=stage_named("Negotiation / commitment"),
            expected_version=stale_version,
        )
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_stale_edit_is_refused(rep):
    deal = DealFactory(owner=rep)
    services.deal_update(
        actor=rep, deal=deal, changes={"title": "First"}, expected_version=deal.version
    )
    with pytest.raises(DomainError, match="changed by someone else"):
        services.deal_update(
            actor=rep, deal=deal, changes={"title": "Second"}, expected_version=deal.version
        )
    deal.refresh_from_db()
    assert deal.title == "First"


def test_update_writes_what_changed_on_the_timeline(rep):
    deal = DealFactory(owner=rep, value=Decimal("100"))
    services.deal_update(actor=rep, deal=deal, changes={"value": Decimal("250")})
    activity = deal.activities.get()
    assert "Value: 100.00 → 250.00" in activity.body
    assert activity.actor == rep


def test_lost_without_reason_is_refused(rep):
    deal = DealFactory(owner=rep)
    with pytest.raises(DomainError, match="pick a reason") as err:
        services.deal_mark_lost(actor=rep, deal=deal, reason=None)
    assert err.value.field == "reason"
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN


def test_lost_keeps_the_stage_where_it_was_lost(rep):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"))
    lost = services.deal_mark_lost(
        actor=rep,
        deal=deal,
        reason=lost_reason("Price"),
        competitor="Rival Inc",
        note="Too expensive",
    )
    assert lost.status == DealStatus.LOST
    assert lost.stage.name == "Proposal"
    assert lost.lost_at is not None
    assert (lost.lost_reason.name, lost.competitor, lost.lost_note) == (
        "Price",
        "Rival Inc",
        "Too expensive",
    )
    last = StageChange.objects.filter(deal=deal).last()
    assert (last.from_status, last.to_status, last.to_stage.name) == ("open", "lost", "Proposal")


def test_inactive_reason_is_refused(rep):
    reason = lost_reason("Timing")
    reason.is_active = False
    reason.save()
    with pytest.raises(DomainError, match="no longer offered"):
        services.deal_mark_lost(actor=rep, deal=DealFactory(owner=rep), reason=reason)


def test_won_sets_time_and_keeps_stage(rep):
    deal = DealFactory(owner=rep, stage=stage_named("Negotiation / commitment"))
    won = services.deal_mark_won(actor=rep, deal=deal)
    assert won.status == DealStatus.WON
    assert won.won_at is not None
    assert won.stage.name == "Negotiation / commitment"


def test_closed_deal_cannot_move_or_close_again(rep):
    deal = services.deal_mark_won(actor=rep, deal=DealFactory(owner=rep))
    with pytest.raises(DomainError, match="reopen it"):
        services.deal_move_to_stage(actor=rep, deal=deal, stage=stage_named("Demo / meeting"))
    with pytest.raises(DomainError, match="reopen it"):
        services.deal_mark_lost(actor=rep, deal=deal, reason=lost_reason())


def test_reopen_clears_won_and_lost_details(rep):
    deal = services.deal_mark_lost(
        actor=rep,
        deal=DealFactory(owner=rep),
        reason=lost_reason("Competitor"),
        competitor="X",
        note="n",
    )
    reopened = services.deal_reopen(actor=rep, deal=deal)
    assert reopened.status == DealStatus.OPEN
    assert (reopened.lost_at, reopened.lost_reason, reopened.competitor, reopened.lost_note) == (
        None,
        None,
        "",
        "",
    )
    won = services.deal_mark_won(actor=rep, deal=reopened)
    reopened = services.deal_reopen(actor=rep, deal=won)
    assert reopened.won_at is None
    with pytest.raises(DomainError, match="already open"):
        services.deal_reopen(actor=rep, deal=reopened)


def test_stage_history_is_complete(rep):
    deal = services.deal_create(actor=rep, title="Full journey")
    for name in ("Proposal", "Negotiation / commitment"):
        deal = services.deal_move_to_stage(actor=rep, deal=deal, stage=stage_named(name))
    deal = services.deal_mark_lost(actor=rep, deal=deal, reason=lost_reason())
    deal = services.deal_reopen(actor=rep, deal=deal)
    deal = services.deal_mark_won(actor=rep, deal=deal)
    steps = [
        (c.from_stage.name if c.from_stage else None, c.to_stage.name, c.from_status, c.to_status)
        for c in StageChange.objects.filter(deal=deal).order_by("changed_at", "pk")
    ]
    assert steps == [
        (None, "Demo / meeting", "", "open"),
        ("Demo / meeting", "Proposal", "open", "open"),
        ("Proposal", "Negotiation / commitment", "open", "open"),
        ("Negotiation / commitment", "Negotiation / commitment", "open", "lost"),
        ("Negotiation / commitment", "Negotiation / commitment", "lost", "open"),
        ("Negotiation / commitment", "Negotiation / commitment", "open", "won"),
    ]


def test_a_rep_cannot_change_another_reps_deal(rep, outsider):
    deal = DealFactory(owner=outsider)
    with pytest.raises(DomainError, match="not visible"):
        services.deal_move_to_stage(actor=rep, deal=deal, stage=stage_named("Demo / meeting"))
    with pytest.raises(DomainError, match="not visible"):
        services.deal_mark_won(actor=rep, deal=deal)


def test_trash_and_restore(rep):
    deal = DealFactory(owner=rep)
    services.deal_trash(actor=rep, deal=deal)
    assert not Deal.objects.filter(pk=deal.pk).exists()
    restored = services.deal_restore(actor=rep, deal=deal)
    assert restored.deleted_at is None
    assert Deal.objects.filter(pk=deal.pk).exists()


def test_workspace_defaults_come_back_in_an_emptied_workspace():
    from closeloop.pipeline.models import LostReason, Pipeline
    from closeloop.pipeline.services import workspace_defaults_ensure

    Deal.with_trashed.all().delete()
    Pipeline.objects.all().delete()
    LostReason.objects.all().delete()
    workspace_defaults_ensure()
    workspace_defaults_ensure()  # a second call adds nothing
    pipeline = Pipeline.objects.get()
    assert pipeline.is_default
    assert [s.name for s in pipeline.stages.order_by("position")] == [
        "Demo / meeting",
        "Proposal",
        "Negotiation / commitment",
    ]
    assert LostReason.objects.count() == 9
