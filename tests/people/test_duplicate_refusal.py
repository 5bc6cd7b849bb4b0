"""`refuse_duplicates` (what the API asks for): a value another record has is a ConflictError
naming the field; without it, as on the pages, duplicates are created and only flagged."""

from __future__ import annotations

import pytest

from closeloop.core.exceptions import ConflictError
from closeloop.leads.models import DuplicatePair
from closeloop.people import services
from closeloop.people.models import Contact, Organization
from closeloop.people.services import EmailInput, PhoneInput

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _region(settings) -> None:
    settings.PHONE_REGION = "DE"


def _contact(owner, name: str, email: str = "", phone: str = "") -> Contact:
    return services.contact_create(
        actor=owner,
        last_name=name,
        emails=[EmailInput(email=email)] if email else [],
        phones=[PhoneInput(number=phone)] if phone else [],
    )


def test_organization_with_a_taken_domain_or_name(rep, outsider):
    mine = services.organization_create(actor=rep, name="Acme", domain="acme.example")
    with pytest.raises(ConflictError, match=f"organization #{mine.pk} has the domain") as err:
        services.organization_create(
            actor=rep, name="New", domain="www.ACME.example", refuse_duplicates=True
        )
    assert err.value.field == "domain"
    services.organization_create(actor=outsider, name="Hidden Ltd")
    with pytest.raises(ConflictError, match="an organization you cannot see") as err:
        services.organization_create(actor=rep, name="hidden ltd", refuse_duplicates=True)
    assert err.value.field == "name"
    services.organization_create(actor=rep, name="ACME")  # the pages' way: allowed
    assert Organization.objects.filter(name__iexact="acme").count() == 2


def test_organization_update_only_checks_what_changes(rep):
    services.organization_create(actor=rep, name="Other", domain="other.example")
    twin = services.organization_create(actor=rep, name="other", domain="")
    with pytest.raises(ConflictError):
        services.organization_update(
            actor=rep, organization=twin, domain="other.example", refuse_duplicates=True
        )
    services.organization_update(
        actor=rep, organization=twin, name="Other", notes="kept", refuse_duplicates=True
    )
    twin.refresh_from_db()
    assert (twin.name, twin.notes, twin.domain) == ("Other", "kept", "")


def test_contact_with_a_taken_email_or_phone(rep, outsider):
    mine = _contact(rep, "Mine", email="ana@example.com")
    _contact(outsider, "Theirs", phone="+49 30 999999")
    with pytest.raises(ConflictError, match=f"contact #{mine.pk} has the email") as err:
        services.contact_create(
            actor=rep, last_name="New", emails=[EmailInput(email=" ANA@example.com")],
            refuse_duplicates=True,
        )  # fmt: skip
    assert err.value.field == "emails"
    with pytest.raises(ConflictError, match="a contact you cannot see") as err:
        services.contact_create(
            actor=rep, last_name="New", phones=[PhoneInput(number="030 999999")],
            refuse_duplicates=True,
        )  # fmt: skip
    assert err.value.field == "phones"
    assert not Contact.objects.filter(last_name="New").exists()
    # the pages' way: created, and the pair is flagged for the duplicates page
    page = _contact(rep, "Page", email="ana@example.com")
    assert DuplicatePair.objects.filter(contact=mine, other_contact=page).exists()


def test_trashed_contacts_do_not_count(rep):
    gone = _contact(rep, "Gone", email="ana@example.com")
    services.contact_trash(actor=rep, contact=gone)
    new = services.contact_create(
        actor=rep, last_name="New", emails=[EmailInput(email="ana@example.com")],
        refuse_duplicates=True,
    )  # fmt: skip
    assert new.emails.get().email == "ana@example.com"


def test_contact_update_keeps_its_own_values_and_refuses_new_taken_ones(rep):
    other = _contact(rep, "Other", email="other@example.com", phone="+49 30 1234567")
    contact = _contact(rep, "Lima", email="ana@example.com", phone="+49 30 7654321")
    services.contact_update(
        actor=rep, contact=contact, emails=[EmailInput(email="ana@example.com")],
        phones=[PhoneInput(number="030 7654321")], job_title="Buyer", refuse_duplicates=True,
    )  # fmt: skip
    with pytest.raises(ConflictError, match=f"contact #{other.pk} has the phone"):
        services.contact_update(
            actor=rep, contact=contact, phones=[PhoneInput(number="030 1234567")],
            refuse_duplicates=True,
        )  # fmt: skip
    assert list(contact.phones.values_list("e164", flat=True)) == ["+49307654321"]
