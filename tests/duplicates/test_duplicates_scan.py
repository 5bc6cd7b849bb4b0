"""duplicates_scan and `closeloop find_duplicates`: existing look-alikes are flagged once."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.utils import timezone

from closeloop.core.exceptions import DomainError
from closeloop.leads import duplicate_scan
from closeloop.leads.choices import DuplicateScanState, DuplicateState
from closeloop.leads.duplicate_scan import (
    duplicates_scan,
    duplicates_scan_queue,
    duplicates_scan_run,
)
from closeloop.leads.models import DuplicatePair, DuplicateScan
from closeloop.people.models import Contact
from tests.factories import ContactEmailFactory, ContactFactory, OrganizationFactory

from .conftest import ContactPhoneFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_flags_similar_name_and_company_not_different_people(admin, jon, john):
    maria = LeadFactory(first_name="Maria", last_name="Garcia", company_name="Acme")
    smith = LeadFactory(first_name="Jon", last_name="Smith", company_name="")
    result = duplicates_scan(actor=admin)
    pair = DuplicatePair.objects.get(lead=john, other_lead=jon)
    assert pair.score >= 88 and "Jon Smith" in pair.evidence
    assert not DuplicatePair.objects.filter(lead=maria).exists()
    assert not DuplicatePair.objects.filter(other_lead=maria).exists()
    assert result.leads_checked == 4 and result.pairs_flagged >= 1
    assert smith.pk  # same name without a company: weaker evidence, may or may not be flagged


def test_scanning_twice_adds_nothing_and_dismissed_pairs_stay_dismissed(admin, jon, john):
    duplicates_scan(actor=admin)
    DuplicatePair.objects.update(state=DuplicateState.DISMISSED)
    again = duplicates_scan(actor=admin)
    assert again.pairs_flagged == 0
    assert not DuplicatePair.objects.filter(state=DuplicateState.OPEN).exists()


def test_a_pair_flagged_on_arrival_is_not_flagged_again_reversed(admin, jon, john):
    DuplicatePair.objects.create(lead=jon, other_lead=john, score=90, evidence="on arrival")
    assert duplicates_scan(actor=admin).pairs_flagged == 0


@pytest.mark.django_db(transaction=True)
def test_the_scan_finishes_while_others_write(database_file, admin, monkeypatch):
    """The scan reads the leads a batch at a time and stores each batch's pairs as it goes;
    a lead saved by someone else in between must not make the next store fail. (On SQLite the
    half-read query held a snapshot older than that commit, and a connection on a stale
    snapshot cannot begin a write: "database is locked" at once, whatever the busy timeout.)"""
    jon = LeadFactory(first_name="Jon", last_name="Smith", company_name="Acme")
    john = LeadFactory(first_name="John", last_name="Smith", company_name="Acme")
    maria = LeadFactory(first_name="Maria", last_name="Garcia", company_name="Bolt")
    marie = LeadFactory(first_name="Marie", last_name="Garcia", company_name="Bolt")
    org = OrganizationFactory(name="Corta")
    anna = ContactFactory(first_name="Anna", last_name="Berg", organization=org)
    ana = ContactFactory(first_name="Ana", last_name="Berg", organization=org)
    later = OrganizationFactory()  # rows still to read when Anna's pair is stored
    ContactFactory(first_name="Zoe", last_name="Zimmer", organization=later)
    ContactFactory(first_name="Paul", last_name="Quast", organization=later)
    written = []

    def someone_else_saves_a_lead() -> None:
        try:
            written.append(LeadFactory(first_name="Ada", last_name="Zuse").pk)
        finally:
            connections.close_all()

    def after_a_write_elsewhere(store):
        def store_after(*args, **kwargs):
            writer = threading.Thread(target=someone_else_saves_a_lead)
            writer.start()
            writer.join()
            return store(*args, **kwargs)

        return store_after

    for name in ("save_lead_pairs", "save_contact_pairs"):
        monkeypatch.setattr(
            duplicate_scan, name, after_a_write_elsewhere(getattr(duplicate_scan, name))
        )
    result = duplicates_scan(actor=admin, batch_size=1)
    assert written  # the other writes happened while the scan ran
    assert (result.pairs_flagged, result.contact_pairs) == (2, 1)
    assert DuplicatePair.objects.filter(lead=john, other_lead=jon).exists()
    assert DuplicatePair.objects.filter(lead=marie, other_lead=maria).exists()
    assert DuplicatePair.objects.filter(contact=anna, other_contact=ana).exists()


def test_same_email_among_existing_leads(admin):
    first = LeadFactory(first_name="A", last_name="Zed", email="same@example.com")
    second = LeadFactory(first_name="B", last_name="Other", email="same@example.com")
    duplicates_scan(actor=admin, batch_size=1)
    pair = DuplicatePair.objects.get(lead=second, other_lead=first)
    assert pair.score == 100 and pair.evidence == "same email same@example.com"


def test_leads_against_contacts_in_small_batches(admin):
    org = OrganizationFactory(name="Acme Ltd")
    contact = ContactFactory(first_name="John", last_name="Smith", organization=org)
    lead = LeadFactory(first_name="Jon", last_name="Smith", company_name="ACME")
    LeadFactory(first_name="Maria", last_name="Garcia", company_name="Acme")
    duplicates_scan(actor=admin, batch_size=1)
    assert DuplicatePair.objects.filter(lead=lead, other_contact=contact).exists()
    assert DuplicatePair.objects.count() == 1


def test_stores_contact_look_alikes_once(admin):
    org = OrganizationFactory(name="Acme")
    jon = ContactFactory(first_name="Jon", last_name="Smith", organization=org)
    john = ContactFactory(first_name="John", last_name="Smith", organization=org)
    ContactFactory(first_name="Maria", last_name="Garcia", organization=org)
    other = ContactFactory(last_name="Other")
    ContactEmailFactory(contact=jon, email="x@acme.example")
    ContactEmailFactory(contact=other, email="x@acme.example")
    result = duplicates_scan(actor=admin)
    assert result.contact_pairs == 2 and result.contacts_checked == 4
    by_name = DuplicatePair.objects.get(contact=jon, other_contact=john)
    assert by_name.score >= 88 and by_name.evidence == "similar name at Acme: Jon Smith"
    by_email = DuplicatePair.objects.get(contact=jon, other_contact=other)
    assert (by_email.score, by_email.evidence) == (100, "same email x@acme.example")
    assert duplicates_scan(actor=admin).contact_pairs == 0


def test_contacts_sharing_a_phone(admin):
    a, b = ContactFactory(last_name="One"), ContactFactory(last_name="Two")
    ContactPhoneFactory(contact=a)
    ContactPhoneFactory(contact=b)
    duplicates_scan(actor=admin, batch_size=1)
    pair = DuplicatePair.objects.get(contact=a, other_contact=b)
    assert pair.evidence == "same phone +49301234567"


def test_a_dismissed_contact_pair_is_not_flagged_again(admin):
    org = OrganizationFactory(name="Acme")
    jon = ContactFactory(first_name="Jon", last_name="Smith", organization=org)
    john = ContactFactory(first_name="John", last_name="Smith", organization=org)
    DuplicatePair.objects.create(
        contact=jon, other_contact=john, score=90, evidence="x", state=DuplicateState.DISMISSED
    )
    assert duplicates_scan(actor=admin).contact_pairs == 0
    assert DuplicatePair.objects.get().state == DuplicateState.DISMISSED


def test_trashed_contacts_are_not_paired(admin):
    a, b = ContactFactory(last_name="One"), ContactFactory(last_name="Two")
    ContactEmailFactory(contact=a, email="x@acme.example")
    ContactEmailFactory(contact=b, email="x@acme.example")
    Contact.objects.filter(pk=b.pk).update(deleted_at=a.created_at)
    assert duplicates_scan(actor=admin).contact_pairs == 0


def test_reps_cannot_scan(rep):
    with pytest.raises(DomainError, match="admins and managers"):
        duplicates_scan(actor=rep)


def test_management_command_now(jon, john):
    out = StringIO()
    call_command("find_duplicates", "--now", "--batch-size", "10", stdout=out)
    assert "1 new likely lead pair(s)" in out.getvalue()
    assert DuplicatePair.objects.filter(lead=john, other_lead=jon).exists()


def test_management_command_queues_a_background_scan(jon, john):
    out = StringIO()
    call_command("find_duplicates", stdout=out)  # the immediate backend runs it at once
    scan = DuplicateScan.objects.get()
    assert f"Duplicate scan #{scan.pk} queued" in out.getvalue()
    assert (scan.state, scan.leads_checked, scan.pairs_flagged) == (DuplicateScanState.DONE, 2, 1)
    assert scan.started_at <= scan.finished_at
    assert DuplicatePair.objects.filter(lead=john, other_lead=jon).exists()


def test_only_one_scan_at_a_time(manager):
    DuplicateScan.objects.create(state=DuplicateScanState.RUNNING)
    with pytest.raises(DomainError, match="already queued or running"):
        duplicates_scan_queue(actor=manager)
    with pytest.raises(CommandError, match="already queued or running"):
        call_command("find_duplicates", stdout=StringIO())


def test_a_scan_stuck_for_hours_does_not_block_a_new_one(manager):
    stuck = DuplicateScan.objects.create(state=DuplicateScanState.RUNNING)
    DuplicateScan.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=7))
    scan = duplicates_scan_queue(actor=manager)
    assert scan.state == DuplicateScanState.DONE and scan.requested_by == manager


def test_a_failed_scan_says_why(manager, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("closeloop.leads.duplicate_scan.duplicates_scan", broken)
    scan = DuplicateScan.objects.create()
    with pytest.raises(RuntimeError):
        duplicates_scan_run(scan=scan)
    scan.refresh_from_db()
    assert (scan.state, scan.error) == (DuplicateScanState.FAILED, "database went away")


def test_reps_cannot_queue_a_scan(rep):
    with pytest.raises(DomainError, match="admins and managers"):
        duplicates_scan_queue(actor=rep)
    assert not DuplicateScan.objects.exists()
