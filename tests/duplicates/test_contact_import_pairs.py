"""Pairs a contact import flags are the pairs the full scan would find, and they are listed on
the Duplicates page with the same visibility as any other pair."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.urls import reverse

from closeloop.leads.duplicate_scan import duplicates_scan
from closeloop.leads.imports.services import import_configure, import_run, import_start
from closeloop.leads.models import DuplicatePair, ImportBatch, Lead
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _import_contacts(actor, text: str) -> ImportBatch:
    batch = import_start(
        actor=actor, kind="contacts", stream=io.BytesIO(text.encode()), file_name="c.csv"
    )
    batch = import_configure(actor=actor, batch=batch, mapping=batch.mapping)
    return import_run(actor=actor, batch=batch)


def test_the_scan_after_an_import_finds_nothing_the_import_missed(admin):
    acme = OrganizationFactory(name="Acme GmbH")
    ContactFactory(first_name="Annabel", last_name="Bergmann", organization=acme)
    Lead.objects.create(first_name="Jonathan", last_name="Smithers", company_name="Globex")
    batch = _import_contacts(
        admin,
        "Person - Name,Person - Email,Organization - Name\n"
        "Annabell Bergmann,ab@mail.example,Acme GmbH\n"
        "Jonathan Smithers,js@mail.example,Globex\n"
        "Katharina Schmidt,k1@mail.example,Acme GmbH\n"
        "Katharina Schmitt,k2@mail.example,Acme GmbH\n",
    )
    assert batch.options["likely_duplicates_flagged"] == 4
    assert DuplicatePair.objects.count() == 3
    result = duplicates_scan(actor=admin)
    assert (result.pairs_flagged, result.contact_pairs) == (0, 0)


def test_pairs_from_an_import_are_listed_only_to_who_sees_both(
    admin, manager, rep, outsider, client_for
):
    acme = OrganizationFactory(name="Acme GmbH")
    ContactFactory(first_name="Annabel", last_name="Bergmann", organization=acme, owner=outsider)
    _import_contacts(
        manager, "Person - Name,Person - Email,Organization - Name,Owner\n"
        f"Annabell Bergmann,ab@mail.example,Acme GmbH,{rep.email}\n",
    )  # fmt: skip
    assert DuplicatePair.objects.count() == 1
    page = reverse("duplicates:list")
    assert "Annabel Bergmann" in client_for(admin).get(page).content.decode()
    response = client_for(rep).get(page)
    assert response.status_code == 200
    rep_page = response.content.decode()
    assert "Bergmann" not in rep_page  # the other contact is not the rep's to see
