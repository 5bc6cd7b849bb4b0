"""Records to write emails about: a rep's deal with its contact and organization, a template."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.messaging.models import EmailTemplate
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory


@pytest.fixture
def bakery_deal(rep: Any) -> Any:
    """Rita's deal "New website" with Lena Lind of Bakery Lind (lena@bakery.example)."""
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(
        first_name="Lena", last_name="Lind", organization=organization, owner=rep
    )
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    return DealFactory(title="New website", owner=rep, organization=organization, contact=contact)


@pytest.fixture
def follow_up(admin: Any) -> EmailTemplate:
    return EmailTemplate.objects.create(
        name="Follow-up",
        subject="{{ deal.title }} for {{ company.name }}",
        text_body="Hi {{ contact.first_name }},\n\nthanks for your time.\n\n{{ owner.name }}",
        html_body=(
            "<html><head><style>p { color: #123456; }</style></head><body>"
            "<p>Hi {{ contact.first_name }},</p><p>thanks for your time.</p>"
            "<p>{{ owner.signature }}</p></body></html>"
        ),
        created_by=admin,
    )
