"""Lead factories and fixtures: leads owned by the rep, a teammate, an outsider and nobody."""

from __future__ import annotations

import factory
import pytest

from closeloop.accounts.selectors import workspace_settings
from closeloop.leads.models import Campaign, Lead, Source


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = "email"


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Sequence(lambda n: f"Lead{n:04}")
    email = factory.Sequence(lambda n: f"lead{n}@company{n}.example")
    company_name = factory.Sequence(lambda n: f"Company {n}")


def source(name: str) -> Source:
    """One of the default sources the migration creates."""
    return Source.objects.get(name=name)


@pytest.fixture(autouse=True)
def _workspace(db: None) -> None:
    """The settings row exists in every running install; its first-use creation is not counted."""
    workspace_settings()


@pytest.fixture
def leads(rep, teammate, outsider) -> dict[str, Lead]:
    return {
        "rep": LeadFactory(first_name="Rita", last_name="Own", company_name="Bakery", owner=rep,
                           email="rita@bakery.example"),
        "unowned": LeadFactory(first_name="Una", last_name="Nowner", company_name="Shared Co",
                               owner=None, email="una@shared.example"),
        "teammate": LeadFactory(first_name="Tim", last_name="Mate", company_name="Team Co",
                                owner=teammate, email="tim@team.example"),
        "outsider": LeadFactory(first_name="Olga", last_name="Secret", company_name="Garage",
                                owner=outsider, email="olga@garage.example"),
    }  # fmt: skip
