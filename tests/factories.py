"""factory_boy factories for every model the tests build."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from closeloop.accounts.choices import Role
from closeloop.accounts.models import Team, User
from closeloop.people.models import Contact, ContactEmail, Organization
from closeloop.pipeline.facts import deal_facts_refresh
from closeloop.pipeline.models import Deal, LostReason, Pipeline, Stage, StageChange

PASSWORD = "correct-horse-battery"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.REP
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def teams(self, create: bool, extracted: list[Team] | None, **kwargs: object) -> None:
        self.save()
        if create and extracted:
            self.teams.set(extracted)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Acme {n} GmbH")
    domain = factory.Sequence(lambda n: f"acme{n}.example")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    organization = factory.SubFactory(OrganizationFactory)


class ContactEmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactEmail

    contact = factory.SubFactory(ContactFactory)
    email = factory.Sequence(lambda n: f"person{n}@acme.example")
    is_primary = True


def default_pipeline() -> Pipeline:
    return Pipeline.objects.get(is_default=True)


def stage_named(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name=name)


class DealFactory(factory.django.DjangoModelFactory):
    """A deal built as the services would (with its first StageChange)."""

    class Meta:
        model = Deal
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Deal {n}")
    owner = factory.SubFactory(UserFactory)
    value = Decimal("1000.00")
    currency = "EUR"
    stage = factory.LazyFunction(lambda: stage_named("Proposal"))
    pipeline = factory.LazyAttribute(lambda o: o.stage.pipeline)
    organization = factory.SubFactory(OrganizationFactory)

    @factory.post_generation
    def history(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            StageChange.objects.create(
                deal=self,
                from_stage=None,
                to_stage=self.stage,
                from_status="",
                to_status=self.status,
                actor=self.owner,
                changed_at=self.created_at,
            )
            deal_facts_refresh(deal_ids=[self.pk])


def lost_reason(name: str = "Price") -> LostReason:
    return LostReason.objects.get(name=name)


now = timezone.now
