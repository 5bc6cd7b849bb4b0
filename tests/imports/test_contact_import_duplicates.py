"""A contact import flags likely duplicates of its new contacts when it ends (up to a bound);
a larger one queues the full duplicate scan instead."""

from __future__ import annotations

import pytest

from closeloop.leads.choices import DuplicateScanState
from closeloop.leads.imports import likely_duplicates
from closeloop.leads.models import DuplicatePair, DuplicateScan, Lead
from closeloop.people.models import Contact
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

CSV = "Person - Name,Person - Email,Person - Phone,Organization - Name\n"


def test_a_new_contact_like_one_at_the_same_organization_is_flagged(run_import):
    acme = OrganizationFactory(name="Acme GmbH")
    old = ContactFactory(first_name="Annabel", last_name="Bergmann", organization=acme)
    batch = run_import(
        CSV + "Annabell Bergmann,ab@mail.example,,Acme GmbH\n"
        "Annabel Bergmann,annabel@other.example,,Other Ltd\n"
        "Carl Dorn,carl@acme.example,,Acme GmbH\n",
        kind="contacts",
    )
    assert batch.created_count == 3
    new = Contact.objects.get(first_name="Annabell")
    pair = DuplicatePair.objects.get()
    assert (pair.contact, pair.other_contact) == (old, new)
    assert pair.evidence == "similar name at Acme GmbH: Annabel Bergmann"
    assert batch.options["likely_duplicates"] == "1 new contact(s) flagged as likely duplicates"
    assert batch.options["likely_duplicates_flagged"] == 1


def test_a_new_contact_like_a_lead_is_flagged_against_the_lead(run_import):
    similar = Lead.objects.create(first_name="Jonathan", last_name="Smithers", company_name="Acme")
    same_email = Lead.objects.create(first_name="Zoe", last_name="Quist", email="zoe@x.example")
    Lead.objects.create(first_name="Maria", last_name="Smithers", company_name="Globex")
    batch = run_import(
        CSV + "Jonathan Smithers,js@mail.example,,Acme\nZ. Q.,ZOE@x.example,,\n",
        kind="contacts",
    )
    jonathan = Contact.objects.get(first_name="Jonathan")
    zoe = Contact.objects.get(emails__email="zoe@x.example")
    pairs = {(p.lead, p.other_contact): p for p in DuplicatePair.objects.all()}
    assert set(pairs) == {(similar, jonathan), (same_email, zoe)}
    assert pairs[(same_email, zoe)].score == 100
    assert pairs[(same_email, zoe)].evidence == "same email zoe@x.example"
    evidence = "similar name and company: Jonathan Smithers, Acme"
    assert pairs[(similar, jonathan)].evidence == evidence
    assert batch.options["likely_duplicates_flagged"] == 2


def test_two_look_alikes_in_one_file_are_paired_once(run_import, monkeypatch):
    monkeypatch.setattr(likely_duplicates, "CONTACT_CHUNK", 1)  # each in its own chunk
    batch = run_import(
        CSV + "Katharina Schmidt,k1@x.example,,Acme\nKatharina Schmitt,k2@x.example,,Acme\n",
        kind="contacts",
    )
    first, second = Contact.objects.order_by("pk")
    pair = DuplicatePair.objects.get()
    assert (pair.contact, pair.other_contact) == (first, second)
    assert batch.options["likely_duplicates_flagged"] == 2


def test_a_dry_run_flags_nothing(run_import):
    ContactFactory(
        first_name="Annabel", last_name="Bergmann", organization=OrganizationFactory(name="Acme")
    )
    batch = run_import(CSV + "Annabell Bergmann,ab@mail.example,,Acme\n", kind="contacts",
                       dry_run=True)  # fmt: skip
    assert not DuplicatePair.objects.exists()
    assert "likely_duplicates" not in batch.options


def test_more_new_contacts_than_the_bound_queue_the_full_scan(run_import, admin, monkeypatch):
    monkeypatch.setattr(likely_duplicates, "LIKELY_CHECK_LIMIT", 2)
    acme = OrganizationFactory(name="Acme")
    old = ContactFactory(first_name="Annabel", last_name="Bergmann", organization=acme)
    batch = run_import(
        CSV + "Annabell Bergmann,ab@mail.example,,Acme\nCarl Dorn,c@x.example,,\n"
        "Dana Eck,d@x.example,,\n",
        kind="contacts",
    )
    assert batch.options["likely_duplicates"] == (
        "not checked at import (3 new contacts; the check runs for up to 2) — "
        "a duplicate scan has been queued to look at them"
    )
    scan = DuplicateScan.objects.get()  # the test settings run it at once, as a worker would
    assert scan.requested_by == admin and scan.state == DuplicateScanState.DONE
    pair = DuplicatePair.objects.get()
    assert (pair.contact, pair.other_contact.first_name) == (old, "Annabell")


def test_a_scan_already_waiting_is_not_queued_twice(run_import, monkeypatch):
    monkeypatch.setattr(likely_duplicates, "LIKELY_CHECK_LIMIT", 1)
    DuplicateScan.objects.create(state=DuplicateScanState.QUEUED)
    batch = run_import(CSV + "Carl Dorn,c@x.example,,\nDana Eck,d@x.example,,\n", kind="contacts")
    assert batch.options["likely_duplicates"].endswith(
        "a duplicate scan already queued or running will look at them"
    )
    assert DuplicateScan.objects.count() == 1


def test_a_lead_import_past_the_bound_queues_the_scan_too(run_import, monkeypatch):
    monkeypatch.setattr(likely_duplicates, "LIKELY_CHECK_LIMIT", 1)
    old = Lead.objects.create(first_name="Annabel", last_name="Bergmann", company_name="Acme")
    batch = run_import(
        "First Name,Last Name,Email,Company\n"
        "Annabell,Bergmann,ab@mail.example,Acme\nCarl,Dorn,c@x.example,\n"
    )
    assert batch.options["likely_duplicates"] == (
        "not checked at import (2 new leads; the check runs for up to 1) — "
        "a duplicate scan has been queued to look at them"
    )
    assert DuplicateScan.objects.get().state == DuplicateScanState.DONE
    assert DuplicatePair.objects.get().other_lead == old
