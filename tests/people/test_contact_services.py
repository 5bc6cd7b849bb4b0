"""Contact services: emails and phones, the name-or-email rule, trash and restore."""

from __future__ import annotations

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.people import services
from closeloop.people.models import Contact
from closeloop.people.services import EmailInput, PhoneInput
from tests.factories import ContactEmailFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_phone_is_normalised_to_e164_and_raw_is_kept(rep, settings):
    settings.PHONE_REGION = "DE"
    contact = services.contact_create(
        actor=rep, first_name="Anna",
        phones=[PhoneInput("030 1234567", "work"), PhoneInput("0049 170 1234567", "mobile")],
    )  # fmt: skip
    phones = list(contact.phones.order_by("pk"))
    assert [(p.raw, p.e164, p.label) for p in phones] == [
        ("030 1234567", "+49301234567", "work"),
        ("0049 170 1234567", "+491701234567", "mobile"),
    ]
    assert phones[0].is_primary and not phones[1].is_primary


def test_unparseable_phone_keeps_raw_without_e164(rep):
    contact = services.contact_create(actor=rep, first_name="Anna",
                                      phones=[PhoneInput("ask reception, ext 12")])  # fmt: skip
    (phone,) = contact.phones.all()
    assert (phone.raw, phone.e164, phone.display) == (
        "ask reception, ext 12", "", "ask reception, ext 12",
    )  # fmt: skip


def test_too_long_phone_is_refused(rep):
    with pytest.raises(DomainError, match="too long for a phone number") as err:
        services.contact_create(actor=rep, first_name="Anna", phones=[PhoneInput("1" * 61)])
    assert err.value.field == "phones"
    assert not Contact.objects.exists()


def test_duplicate_emails_in_one_contact_collapse(rep):
    contact = services.contact_create(
        actor=rep, first_name="Anna",
        emails=[EmailInput("Anna@Example.com"), EmailInput(" anna@example.com ", "home"),
                EmailInput("anna.b@example.com", "home")],
    )  # fmt: skip
    emails = [(e.email, e.label, e.is_primary) for e in contact.emails.order_by("pk")]
    assert emails == [("anna@example.com", "work", True), ("anna.b@example.com", "home", False)]


def test_invalid_email_is_refused_naming_it(rep):
    with pytest.raises(DomainError, match="“not-an-email” is not a valid email address") as err:
        services.contact_create(actor=rep, first_name="Anna", emails=[EmailInput("not-an-email")])
    assert err.value.field == "emails"
    assert not Contact.objects.exists()


def test_contact_without_name_or_email_is_refused(rep):
    with pytest.raises(DomainError, match="needs a name or an email") as err:
        services.contact_create(actor=rep, first_name="  ", emails=[EmailInput("  ")],
                                phones=[PhoneInput("+49 30 1234567")])  # fmt: skip
    assert err.value.field == "first_name"
    assert not Contact.objects.exists()


def test_contact_with_only_an_email_is_fine(rep):
    contact = services.contact_create(actor=rep, emails=[EmailInput("solo@example.com")])
    assert contact.full_name == "(no name)"
    assert contact.primary_email == "solo@example.com"
    assert contact.owner == rep


def test_update_replaces_emails_and_phones(rep):
    contact = services.contact_create(actor=rep, first_name="Anna",
                                      emails=[EmailInput("old@example.com")],
                                      phones=[PhoneInput("+49 30 1234567")])  # fmt: skip
    services.contact_update(actor=rep, contact=contact, last_name="Berg",
                            emails=[EmailInput("new@example.com")], phones=[])  # fmt: skip
    contact.refresh_from_db()
    assert contact.full_name == "Anna Berg"
    assert [e.email for e in contact.emails.all()] == ["new@example.com"]
    assert not contact.phones.exists()


def test_update_without_lists_keeps_emails(rep):
    contact = ContactFactory(owner=rep)
    ContactEmailFactory(contact=contact, email="keep@example.com")
    services.contact_update(actor=rep, contact=contact, job_title="CEO")
    assert [e.email for e in contact.emails.all()] == ["keep@example.com"]


def test_update_removing_the_last_name_and_email_is_refused(rep):
    contact = services.contact_create(actor=rep, first_name="Anna")
    with pytest.raises(DomainError, match="needs a name or an email"):
        services.contact_update(actor=rep, contact=contact, first_name="", emails=[])
    contact.refresh_from_db()
    assert contact.first_name == "Anna"


def test_update_refuses_a_contact_the_actor_cannot_see(rep, outsider_contact):
    with pytest.raises(DomainError, match="not visible to you"):
        services.contact_update(actor=rep, contact=outsider_contact, first_name="Stolen")


def test_trash_and_restore(rep):
    contact = services.contact_create(actor=rep, first_name="Anna")
    services.contact_trash(actor=rep, contact=contact)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    trashed = Contact.with_trashed.get(pk=contact.pk)
    assert trashed.deleted_by == rep

    services.contact_restore(actor=rep, contact=trashed)
    assert Contact.objects.get(pk=contact.pk).deleted_at is None


def test_restore_of_a_live_contact_is_refused(rep):
    contact = services.contact_create(actor=rep, first_name="Anna")
    with pytest.raises(DomainError, match="not in the trash"):
        services.contact_restore(actor=rep, contact=contact)
