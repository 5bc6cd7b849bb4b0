"""duplicates_scan and `closeloop find_duplicates`: existing look-alikes are flagged once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import DuplicateState
from closeloop.leads.merge import duplicates_scan
from closeloop.leads.models import DuplicatePair
from tests.factories import ContactEmailFactory, ContactFactory, OrganizationFactory

from .conftest import LeadFactory

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


def test_counts_contact_look_alikes(admin):
    org = OrganizationFactory(name="Acme")
    a = ContactFactory(first_name="Jon", last_name="Smith", organization=org)
    ContactFactory(first_name="John", last_name="Smith", organization=org)
    ContactFactory(first_name="Maria", last_name="Garcia", organization=org)
    ContactEmailFactory(contact=a, email="x@acme.example")
    ContactEmailFactory(contact=ContactFactory(last_name="Other"), email="x@acme.example")
    assert duplicates_scan(actor=admin).contact_pairs == 2


def test_reps_cannot_scan(rep):
    with pytest.raises(DomainError, match="admins and managers"):
        duplicates_scan(actor=rep)


def test_management_command(jon, john):
    out = StringIO()
    call_command("find_duplicates", "--batch-size", "10", stdout=out)
    assert "1 new likely pair(s)" in out.getvalue()
    assert DuplicatePair.objects.filter(lead=john, other_lead=jon).exists()
