"""lead_merge: chosen fields win, everything attached moves, the merge is recorded."""

from __future__ import annotations

import pytest

from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import DuplicateState
from closeloop.leads.merge import lead_merge
from closeloop.leads.models import Campaign, DuplicatePair, ImportBatch, Lead, Source
from tests.factories import ContactFactory

from .conftest import LeadFactory, PairFactory

pytestmark = pytest.mark.django_db


def test_chosen_fields_win_and_the_rest_stay(rep, jon, john):
    jon.email, jon.job_title = "", "CEO"
    jon.save()
    lead_merge(
        actor=rep, winner=jon, loser=john,
        choices={"first_name": "loser", "email": "loser", "job_title": "winner"},
    )  # fmt: skip
    jon.refresh_from_db()
    assert (jon.first_name, jon.email, jon.job_title) == ("John", "john@acme.example", "CEO")
    assert jon.company_name == "Acme"  # not chosen: the winner's value


def test_phone_travels_with_its_e164_and_consent_with_its_date(rep, jon, john):
    john.phone, john.phone_e164 = "030 1234567", "+49301234567"
    john.marketing_consent, john.consent_method = True, "web form"
    john.save()
    lead_merge(
        actor=rep, winner=jon, loser=john,
        choices={"phone": "loser", "marketing_consent": "loser"},
    )  # fmt: skip
    jon.refresh_from_db()
    assert jon.phone_e164 == "+49301234567"
    assert jon.marketing_consent and jon.consent_method == "web form"


def test_timeline_and_notes_move_to_the_winner(rep, jon, john):
    note = Activity.objects.create(lead=john, body="Called, wants a demo")
    Activity.objects.create(lead=jon, body="Met at the fair")
    lead_merge(actor=rep, winner=jon, loser=john, choices={})
    note.refresh_from_db()
    assert note.lead_id == jon.pk
    assert not Activity.objects.filter(lead=john).exists()


def test_campaign_source_and_import_history_kept_when_the_winner_has_none(rep, jon, john):
    campaign = Campaign.objects.create(name="Spring fair")
    batch = ImportBatch.objects.create(kind="leads", file_name="old-crm.csv")
    source = Source.objects.get(name="Event")
    Lead.objects.filter(pk=john.pk).update(campaign=campaign, import_batch=batch, source=source)
    john.refresh_from_db()
    lead_merge(actor=rep, winner=jon, loser=john, choices={"campaign": "winner"})
    jon.refresh_from_db()
    assert (jon.campaign, jon.import_batch, jon.source) == (campaign, batch, source)


def test_winners_own_campaign_is_not_replaced(rep, jon, john):
    mine, theirs = Campaign.objects.create(name="Mine"), Campaign.objects.create(name="Theirs")
    Lead.objects.filter(pk=jon.pk).update(campaign=mine)
    Lead.objects.filter(pk=john.pk).update(campaign=theirs)
    lead_merge(actor=rep, winner=jon, loser=john, choices={})
    jon.refresh_from_db()
    assert jon.campaign == mine


def test_merge_is_recorded_and_the_loser_trashed(rep, jon, john):
    pair = PairFactory(lead=john, other_lead=jon)
    john.notes = "Prefers email"
    john.save()
    lead_merge(actor=rep, winner=jon, loser=john, choices={"first_name": "loser"})
    record = Activity.objects.get(lead=jon, subject__startswith="Merged")
    assert record.subject == f"Merged John Smith (#{john.pk})"
    assert "first name" in record.body and "Prefers email" in record.body
    assert record.actor == rep
    pair.refresh_from_db()
    assert (pair.state, pair.resolved_by) == (DuplicateState.MERGED, rep)
    assert pair.resolved_at is not None
    loser = Lead.with_trashed.get(pk=john.pk)
    assert loser.is_trashed and loser.deleted_by == rep
    assert not Lead.objects.filter(pk=john.pk).exists()


def test_other_pairs_of_the_loser_move_to_the_winner(rep, jon, john):
    third = LeadFactory(first_name="Jonny", last_name="Smith", owner=rep)
    contact = ContactFactory(first_name="J.", last_name="Smith")
    moving = PairFactory(lead=third, other_lead=john)
    to_contact = PairFactory(lead=john, other_lead=None, other_contact=contact)
    already = PairFactory(lead=jon, other_lead=None, other_contact=contact)
    lead_merge(actor=rep, winner=jon, loser=john, choices={})
    moving.refresh_from_db()
    assert moving.other_lead_id == jon.pk
    assert not DuplicatePair.objects.filter(pk=to_contact.pk).exists()  # jon has that pair
    assert DuplicatePair.objects.filter(pk=already.pk).exists()


def test_refused_when_the_actor_cannot_see_one_side(rep, outsider, jon):
    hidden = LeadFactory(first_name="John", last_name="Smith", owner=outsider)
    Activity.objects.create(lead=hidden, body="secret")
    with pytest.raises(DomainError, match="not visible"):
        lead_merge(actor=rep, winner=jon, loser=hidden, choices={"first_name": "loser"})
    hidden.refresh_from_db()
    jon.refresh_from_db()
    assert hidden.deleted_at is None and jon.first_name == "Jon"
    assert Activity.objects.filter(lead=hidden).count() == 1
    assert not Activity.objects.filter(lead=jon).exists()


def test_refused_for_unknown_fields_and_sides_and_itself(rep, jon, john):
    with pytest.raises(DomainError, match="cannot be merged"):
        lead_merge(actor=rep, winner=jon, loser=john, choices={"created_by": "loser"})
    with pytest.raises(DomainError, match="winner's or the loser's"):
        lead_merge(actor=rep, winner=jon, loser=john, choices={"email": "both"})
    with pytest.raises(DomainError, match="itself"):
        lead_merge(actor=rep, winner=jon, loser=jon, choices={})
    assert Lead.objects.filter(pk__in=[jon.pk, john.pk]).count() == 2


def test_deals_of_the_loser_move_to_the_winner(rep, jon, john):
    from closeloop.pipeline.models import Deal
    from tests.factories import DealFactory

    deal = DealFactory(owner=rep, lead=john)
    trashed = DealFactory(owner=rep, lead=john)
    Deal.with_trashed.filter(pk=trashed.pk).update(deleted_at=deal.created_at)
    lead_merge(actor=rep, winner=jon, loser=john, choices={})
    assert set(Deal.with_trashed.filter(lead=jon)) == {deal, trashed}
    note = Activity.objects.get(lead=jon, subject__startswith="Merged")
    assert "2 deals" in note.body
