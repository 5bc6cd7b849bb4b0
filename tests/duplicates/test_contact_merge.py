"""contact_merge: deals, timeline, emails and phones (once each) move; the loser is trashed."""

from __future__ import annotations

import pytest

from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.leads.merge import contact_merge
from closeloop.leads.models import ImportBatch
from closeloop.people.models import Contact, ContactEmail
from closeloop.pipeline.models import Deal
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory

from .conftest import ContactPhoneFactory, PairFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(rep):
    return OrganizationFactory(name="Acme", owner=rep)


@pytest.fixture
def older(rep, acme):
    contact = ContactFactory(first_name="Jon", last_name="Smith", organization=acme, owner=rep)
    ContactEmailFactory(contact=contact, email="jon@acme.example")
    ContactPhoneFactory(contact=contact, raw="+49 30 1234567", e164="+49301234567")
    return contact


@pytest.fixture
def newer(rep, acme):
    contact = ContactFactory(first_name="John", last_name="Smith", organization=acme, owner=rep,
                             job_title="Buyer")  # fmt: skip
    ContactEmailFactory(contact=contact, email="jon@acme.example")
    ContactEmailFactory(contact=contact, email="john.smith@acme.example", is_primary=False)
    ContactPhoneFactory(contact=contact, raw="030 1234567", e164="+49301234567")
    ContactPhoneFactory(contact=contact, raw="0171 555", e164="", is_primary=False)
    return contact


def test_emails_and_phones_move_without_duplicates(rep, older, newer):
    contact_merge(actor=rep, winner=older, loser=newer, choices={})
    assert sorted(older.emails.values_list("email", flat=True)) == [
        "john.smith@acme.example",
        "jon@acme.example",
    ]
    assert sorted(older.phones.values_list("raw", flat=True)) == ["+49 30 1234567", "0171 555"]
    assert older.emails.filter(is_primary=True).count() == 1


def test_deals_and_timeline_move(rep, older, newer):
    deal = DealFactory(owner=rep, contact=newer, organization=newer.organization)
    Activity.objects.create(contact=newer, body="Asked for a quote")
    contact_merge(actor=rep, winner=older, loser=newer, choices={})
    deal.refresh_from_db()
    assert deal.contact == older and deal.version == 2
    assert Activity.objects.filter(contact=older, body="Asked for a quote").exists()
    assert not Deal.objects.filter(contact=newer).exists()


def test_chosen_fields_import_history_record_and_trash(rep, older, newer):
    batch = ImportBatch.objects.create(kind="contacts", file_name="contacts.xlsx")
    Contact.objects.filter(pk=newer.pk).update(import_batch=batch)
    newer.refresh_from_db()
    contact_merge(actor=rep, winner=older, loser=newer, choices={"job_title": "loser"})
    older.refresh_from_db()
    assert (older.job_title, older.first_name, older.import_batch) == ("Buyer", "Jon", batch)
    record = Activity.objects.get(contact=older, subject=f"Merged John Smith (#{newer.pk})")
    assert "job title" in record.body and "1 email" in record.body
    assert Contact.with_trashed.get(pk=newer.pk).is_trashed


def test_lead_pairs_pointing_at_the_loser_follow_it(rep, older, newer):
    pair = PairFactory(other_lead=None, other_contact=newer)
    contact_merge(actor=rep, winner=older, loser=newer, choices={})
    pair.refresh_from_db()
    assert pair.other_contact == older


def test_refused_when_one_side_is_invisible(rep, outsider, older):
    hidden = ContactFactory(first_name="John", last_name="Smith", owner=outsider)
    ContactEmailFactory(contact=hidden, email="hidden@acme.example")
    deal = DealFactory(owner=outsider, contact=hidden)
    with pytest.raises(DomainError, match="not visible"):
        contact_merge(actor=rep, winner=older, loser=hidden, choices={})
    deal.refresh_from_db()
    hidden.refresh_from_db()
    assert deal.contact == hidden and hidden.deleted_at is None
    assert ContactEmail.objects.filter(contact=hidden).count() == 1
    assert not Activity.objects.filter(contact=older).exists()


def test_contact_pairs_close_and_the_losers_other_pairs_move(rep, acme, older, newer):
    from closeloop.leads.choices import DuplicateState
    from closeloop.leads.models import DuplicatePair

    third = ContactFactory(first_name="Jonny", last_name="Smith", organization=acme, owner=rep)
    fourth = ContactFactory(first_name="J.", last_name="Smith", organization=acme, owner=rep)
    between = DuplicatePair.objects.create(contact=older, other_contact=newer, score=95,
                                           evidence="x")  # fmt: skip
    moved = DuplicatePair.objects.create(contact=newer, other_contact=third, score=90,
                                         evidence="y")  # fmt: skip
    DuplicatePair.objects.create(contact=older, other_contact=fourth, score=90, evidence="z")
    twice = DuplicatePair.objects.create(contact=newer, other_contact=fourth, score=90,
                                         evidence="w")  # fmt: skip
    contact_merge(actor=rep, winner=older, loser=newer, choices={})
    between.refresh_from_db()
    moved.refresh_from_db()
    assert (between.state, between.resolved_by) == (DuplicateState.MERGED, rep)
    assert (moved.contact, moved.other_contact) == (older, third)
    assert not DuplicatePair.objects.filter(pk=twice.pk).exists()  # the winner already had it
