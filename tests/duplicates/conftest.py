"""Fixtures for the duplicates tests: leads and contacts that look alike, owned by the rep."""

from __future__ import annotations

import factory
import pytest

from closeloop.accounts.selectors import workspace_settings
from closeloop.leads.models import DuplicatePair, Lead
from closeloop.people.models import ContactPhone


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company_name = factory.Sequence(lambda n: f"Company {n}")


class ContactPhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPhone

    raw = "+49 30 1234567"
    e164 = "+49301234567"
    is_primary = True


class PairFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DuplicatePair

    lead = factory.SubFactory(LeadFactory)
    other_lead = factory.SubFactory(LeadFactory)
    score = 92
    evidence = "similar name and company"


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings) -> None:
    """The scan task runs inside the request, as the background worker would run it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _workspace(db: None) -> None:
    """The settings row exists in every running install; its first-use creation is not counted."""
    workspace_settings()


@pytest.fixture
def jon(rep) -> Lead:
    return LeadFactory(first_name="Jon", last_name="Smith", company_name="Acme", owner=rep)


@pytest.fixture
def john(rep) -> Lead:
    return LeadFactory(
        first_name="John",
        last_name="Smith",
        company_name="ACME Ltd",
        email="john@acme.example",
        owner=rep,
    )
