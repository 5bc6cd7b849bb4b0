"""Fixtures for the people tests: records owned by the rep, a teammate and an outsider."""

from __future__ import annotations

import factory
import pytest

from closeloop.people.models import ContactPhone, Organization
from tests.factories import ContactFactory, OrganizationFactory


class ContactPhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPhone

    contact = factory.SubFactory(ContactFactory)
    raw = "+49 30 1234567"
    e164 = "+49301234567"
    is_primary = True


@pytest.fixture
def rep_org(rep) -> Organization:
    return OrganizationFactory(name="Rita's Bakery", domain="bakery.example", owner=rep)


@pytest.fixture
def outsider_org(outsider) -> Organization:
    return OrganizationFactory(name="Otto's Garage", domain="garage.example", owner=outsider)


@pytest.fixture
def outsider_contact(outsider, outsider_org):
    return ContactFactory(first_name="Olga", last_name="Secret", organization=outsider_org,
                          owner=outsider)  # fmt: skip
