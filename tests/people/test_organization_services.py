"""Organization services: names required, domains cleaned, trash and restore with visibility."""

from __future__ import annotations

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.people import services
from closeloop.people.models import Organization
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_create_cleans_domain_and_makes_creator_owner(rep):
    org = services.organization_create(
        actor=rep, name="  Acme GmbH ", domain="https://www.Acme.example/about"
    )
    assert (org.name, org.domain, org.owner) == ("Acme GmbH", "acme.example", rep)


def test_create_with_explicit_no_owner_is_shared(rep):
    org = services.organization_create(actor=rep, name="Shared Co", owner=None)
    assert org.owner is None


def test_create_refuses_blank_name_naming_the_field(rep):
    with pytest.raises(DomainError, match="needs a name") as err:
        services.organization_create(actor=rep, name="   ")
    assert err.value.field == "name"
    assert not Organization.objects.exists()


def test_create_refuses_unknown_fields(rep):
    with pytest.raises(DomainError, match="cannot be set here: deleted_at"):
        services.organization_create(actor=rep, name="Acme", deleted_at=None)


def test_update_changes_fields(rep, rep_org):
    services.organization_update(
        actor=rep, organization=rep_org, industry="Food", domain="WWW.B.example"
    )
    rep_org.refresh_from_db()
    assert (rep_org.industry, rep_org.domain) == ("Food", "b.example")


def test_update_refuses_an_organization_the_actor_cannot_see(rep, outsider_org):
    with pytest.raises(DomainError, match="not visible to you"):
        services.organization_update(actor=rep, organization=outsider_org, name="Mine now")
    outsider_org.refresh_from_db()
    assert outsider_org.name == "Otto's Garage"


def test_trash_hides_and_restore_brings_back(rep, rep_org):
    services.organization_trash(actor=rep, organization=rep_org)
    assert not Organization.objects.filter(pk=rep_org.pk).exists()
    trashed = Organization.with_trashed.get(pk=rep_org.pk)
    assert trashed.deleted_by == rep and trashed.is_trashed

    restored = services.organization_restore(actor=rep, organization=trashed)
    assert restored.deleted_at is None and restored.deleted_by is None
    assert Organization.objects.filter(pk=rep_org.pk).exists()


def test_restore_refuses_one_not_in_the_trash(rep, rep_org):
    with pytest.raises(DomainError, match="not in the trash"):
        services.organization_restore(actor=rep, organization=rep_org)


def test_trash_keeps_contacts_attached(rep, rep_org):
    contact = ContactFactory(organization=rep_org, owner=rep)
    services.organization_trash(actor=rep, organization=rep_org)
    contact.refresh_from_db()
    assert contact.organization_id == rep_org.pk


def test_outsider_cannot_trash_someone_elses_organization(outsider, rep_org):
    with pytest.raises(DomainError):
        services.organization_trash(actor=outsider, organization=rep_org)
    assert Organization.objects.filter(pk=rep_org.pk).exists()
