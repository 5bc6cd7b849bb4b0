"""Each service that makes a change of note writes its event, in its own transaction, with the
record's data; the subscriptions that receive it are those whose owner may see the record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closeloop.accounts.choices import RepVisibility
from closeloop.accounts.selectors import workspace_settings
from closeloop.activities.services import activity_complete, activity_schedule
from closeloop.aftersales.coupons import coupon_issue, coupon_redeem
from closeloop.aftersales.surveys import survey_answer, survey_invite_send
from closeloop.integrations.models import WebhookDelivery, WebhookEvent
from closeloop.integrations.services import webhook_event_emit, webhook_subscription_create
from closeloop.leads.merge import contact_merge
from closeloop.leads.models import DisqualifyReason
from closeloop.leads.qualification import lead_disqualify, lead_nurture, lead_qualify
from closeloop.leads.qualification.outcomes import lead_reopen
from closeloop.leads.services import LeadInput, lead_create
from closeloop.pipeline.services import (
    deal_create,
    deal_mark_lost,
    deal_mark_won,
    deal_move_to_stage,
    deal_reopen,
)
from closeloop.proposals.services import Visitor, proposal_accept, proposal_create, proposal_send
from tests.aftersales.conftest import nps_survey as nps_survey
from tests.factories import ContactFactory, DealFactory, default_pipeline, lost_reason, stage_named
from tests.proposals.conftest import hosting as hosting
from tests.proposals.conftest import web_template as web_template
from tests.proposals.conftest import website as website

from ..factories import UserFactory


def _names() -> list[str]:
    return list(WebhookEvent.objects.order_by("pk").values_list("name", flat=True))


def _last(name: str) -> dict[str, Any]:
    return WebhookEvent.objects.filter(name=name).latest("pk").payload


@pytest.fixture
def everything(admin) -> Any:
    """An admin's subscription to every event: admins see every record."""
    from closeloop.integrations.events import EVENT_NAMES

    return webhook_subscription_create(
        actor=admin, url="https://hooks.example.com/all", events=list(EVENT_NAMES)
    )


def test_lead_services_emit_their_events(admin, rep, everything):
    result = lead_create(
        actor=rep, data=LeadInput(first_name="Ida", last_name="Iwer", company_name="Iwer GmbH")
    )
    lead = result.lead
    assert _names() == ["lead.created"]
    assert _last("lead.created")["first_name"] == "Ida"
    lead_nurture(
        actor=rep,
        lead=lead,
        reason="Budget next year",
        until=timezone.localdate() + dt.timedelta(30),
    )
    lead_reopen(actor=rep, lead=lead)
    reason, _ = DisqualifyReason.objects.get_or_create(name="No budget")
    lead_disqualify(actor=rep, lead=lead, reason=reason)
    assert _last("lead.disqualified")["disqualify_reason"] == "No budget"
    lead_reopen(actor=rep, lead=lead)
    deal = lead_qualify(
        actor=admin, lead=lead, pipeline=default_pipeline(), override_reason="Met them"
    )
    assert _names() == [
        "lead.created",
        "lead.nurtured",
        "lead.reopened",
        "lead.disqualified",
        "lead.reopened",
        "deal.created",
        "lead.qualified",
    ]
    assert _last("lead.qualified")["deal_id"] == deal.pk
    assert _last("lead.nurtured")["nurture_reason"] == "Budget next year"
    assert WebhookDelivery.objects.filter(subscription=everything).count() == 7


def test_deal_services_emit_their_events(rep, bakery_deal, everything):
    demo = stage_named("Negotiation / commitment")
    deal_move_to_stage(actor=rep, deal=bakery_deal, stage=demo)
    moved = _last("deal.stage_changed")
    assert moved["stage"]["name"] == "Negotiation / commitment"
    assert moved["from_stage"]["id"] == bakery_deal.stage_id != demo.pk
    deal_mark_lost(actor=rep, deal=bakery_deal, reason=lost_reason("Price"), competitor="Acme")
    lost = _last("deal.lost")
    assert (lost["status"], lost["lost_reason"], lost["competitor"]) == ("lost", "Price", "Acme")
    deal_reopen(actor=rep, deal=bakery_deal)
    assert _last("deal.reopened")["previous_status"] == "lost"
    deal_mark_won(actor=rep, deal=bakery_deal)
    deal_create(actor=rep, title="Second shop")
    assert _names() == [
        "deal.stage_changed",
        "deal.lost",
        "deal.reopened",
        "deal.won",
        "deal.created",
    ]


def test_activity_coupon_merge_and_survey_emit_their_events(
    admin, rep, bakery_deal, everything, nps_survey
):
    call = activity_schedule(
        actor=rep, kind="call", subject="Kick-off call", starts_at=timezone.now(), deal=bakery_deal
    )
    activity_complete(actor=rep, activity=call, notes="Went well")
    done = _last("activity.completed")
    assert (done["id"], done["outcome"], done["deal_id"]) == (call.pk, "held", bakery_deal.pk)

    contact = bakery_deal.contact
    coupon = coupon_issue(actor=admin, kind="percent", value="10", contact=contact)
    coupon_redeem(actor=rep, code=coupon.code, order_value="200", contact=contact)
    redeemed = _last("coupon.redeemed")
    assert (redeemed["code"], redeemed["discount"], redeemed["contact_id"]) == (
        coupon.code,
        "20.00",
        contact.pk,
    )

    twin = ContactFactory(first_name="Lena", last_name="Lind", owner=rep)
    contact_merge(actor=rep, winner=contact, loser=twin, choices={})
    assert _last("contact.merged") == {
        "contact": {
            "id": contact.pk,
            "first_name": "Lena",
            "last_name": "Lind",
            "organization_id": contact.organization_id,
            "owner_id": rep.pk,
        },
        "merged_contact_id": twin.pk,
    }

    invite = survey_invite_send(actor=rep, survey=nps_survey, contact=contact, deal=bakery_deal)
    survey_answer(invite=invite, score="9", comment="Great")
    answered = _last("survey.answered")
    assert (answered["score"], answered["comment"], answered["deal_id"]) == (
        9,
        "Great",
        bakery_deal.pk,
    )
    assert _names() == [
        "activity.completed",
        "coupon.redeemed",
        "contact.merged",
        "survey.answered",
    ]


def test_proposal_sent_and_accepted(rep, bakery_deal, everything, web_template):
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    version = proposal_send(actor=rep, proposal=proposal)
    sent = _last("proposal.sent")
    assert (sent["id"], sent["version"]["number"], sent["sent_to"]) == (
        proposal.pk,
        1,
        "Lena Lind <lena@bakery.example>",
    )
    assert sent["version"]["totals"] == version.snapshot["totals"]
    proposal_accept(version=version, name="Lena Lind", consent=True, visitor=Visitor())
    assert _last("proposal.accepted")["accepted_by"] == "Lena Lind"
    assert "proposal.accepted" in _names()


def test_a_refused_change_emits_nothing(rep, bakery_deal, everything):
    from closeloop.core.exceptions import DomainError

    with pytest.raises(DomainError):
        deal_mark_lost(actor=rep, deal=bakery_deal, reason=None)
    assert WebhookEvent.objects.count() == 0


def test_subscriptions_receive_only_what_their_owner_may_see(
    admin, manager, rep, teammate, outsider
):
    subscribers = {
        user.email: webhook_subscription_create(
            actor=user, url=f"https://hooks.example.com/{user.pk}", events=["deal.created"]
        )
        for user in (admin, manager, rep, teammate, outsider)
    }

    def receivers_of(title: str, owner: Any) -> set[str]:
        deal = deal_create(actor=admin, title=title, owner=owner)
        event = WebhookEvent.objects.get(payload__id=deal.pk)
        return set(event.deliveries.values_list("subscription__owner__email", flat=True))

    # Rita's deal: herself, her team's manager, the admin — not her teammate, not Otto
    assert receivers_of("Rita's", rep) == {
        "rep@example.com",
        "manager@example.com",
        "admin@example.com",
    }
    assert receivers_of("Otto's", outsider) == {"outsider@example.com", "admin@example.com"}
    # the workspace shares team records with reps: now the teammate hears of Rita's deals
    settings_row = workspace_settings()
    settings_row.rep_visibility = RepVisibility.TEAM
    settings_row.save()
    assert "teammate@example.com" in receivers_of("Rita's second", rep)
    assert "outsider@example.com" not in receivers_of("Rita's third", rep)
    assert "rep@example.com" in receivers_of("Tom's", teammate)
    # a deactivated owner's subscription receives nothing
    rep.is_active = False
    rep.save()
    assert "rep@example.com" not in receivers_of("Tom's second", teammate)
    assert len(subscribers) == 5


def test_events_go_only_to_subscriptions_that_asked_for_them(rep, bakery_deal):
    won_only = webhook_subscription_create(
        actor=rep, url="https://hooks.example.com/won", events=["deal.won"]
    )
    webhook_subscription_create(
        actor=rep, url="https://hooks.example.com/lost", events=["deal.lost"]
    )
    deal_mark_won(actor=rep, deal=bakery_deal)
    assert list(WebhookDelivery.objects.values_list("subscription", flat=True)) == [won_only.pk]


def test_emitting_costs_one_query_when_nobody_listens_and_three_when_someone_does(rep):
    deal = DealFactory(owner=rep)
    with CaptureQueriesContext(connection) as nobody:
        from django.db import transaction

        with transaction.atomic():
            webhook_event_emit(name="deal.won", payload={"id": deal.pk}, owners=[rep.pk])
    assert len([q for q in nobody.captured_queries if "SAVEPOINT" not in q["sql"]]) == 1
    assert WebhookEvent.objects.count() == 0  # nobody asked: nothing is written
    for n in range(3):
        webhook_subscription_create(
            actor=UserFactory(role="admin"), url=f"https://h{n}.example.com/", events=["deal.won"]
        )
    with CaptureQueriesContext(connection) as listened:
        from django.db import transaction

        with transaction.atomic():
            webhook_event_emit(name="deal.won", payload={"id": deal.pk}, owners=[rep.pk])
    # find the subscriptions, write the event, write the three deliveries at once
    assert len([q for q in listened.captured_queries if "SAVEPOINT" not in q["sql"]]) == 3
    assert WebhookDelivery.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_emitting_outside_a_transaction_or_an_unknown_name_is_a_programming_error(rep):
    with pytest.raises(RuntimeError):
        webhook_event_emit(name="deal.won", payload={}, owners=[None])
    from django.db import transaction

    with pytest.raises(ValueError, match="Unknown webhook event"), transaction.atomic():
        webhook_event_emit(name="deal.exploded", payload={}, owners=[None])
