"""The Django admin lists trashed people too and keeps phones normalised."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from closeloop.people.models import Contact
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def test_admin_lists_trashed_organizations(admin_client_):
    OrganizationFactory(name="Gone GmbH", deleted_at=timezone.now())
    response = admin_client_.get(reverse("admin:people_organization_changelist"))
    assert "Gone GmbH" in response.content.decode()


def test_admin_contact_inlines_save_emails_and_phones(admin_client_, settings):
    settings.PHONE_REGION = "DE"
    contact = ContactFactory(first_name="Ida", last_name="Inline")
    url = reverse("admin:people_contact_change", args=[contact.pk])
    assert admin_client_.get(url).status_code == 200
    data = {
        "first_name": "Ida", "last_name": "Inline", "job_title": "", "organization": "",
        "notes": "", "owner": "",
        "emails-TOTAL_FORMS": "1", "emails-INITIAL_FORMS": "0",
        "emails-0-email": "Ida@Example.com", "emails-0-label": "work", "emails-0-is_primary": "on",
        "phones-TOTAL_FORMS": "1", "phones-INITIAL_FORMS": "0",
        "phones-0-raw": "030 1234567", "phones-0-label": "work",
    }  # fmt: skip
    response = admin_client_.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    contact = Contact.objects.get(pk=contact.pk)
    assert [e.email for e in contact.emails.all()] == ["ida@example.com"]
    assert [(p.raw, p.e164) for p in contact.phones.all()] == [("030 1234567", "+49301234567")]


def test_reps_cannot_open_the_admin(rep_client):
    response = rep_client.get(reverse("admin:people_contact_changelist"))
    assert response.status_code == 302
