"""An imported lead's source, import batch and creator have no database constraint (each
cost PostgreSQL a check per inserted row); deleting them still does what it did before."""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError

from closeloop.accounts.choices import Role
from closeloop.leads.models import ImportBatch, ImportRow, Lead, Source
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CSV = (
    "First Name,Last Name,Email,Lead Source\n"
    "Anna,Berg,anna@acme.example,Web\n"
    "Again,Berg,anna@acme.example,Web\n"
)


@pytest.fixture
def imported(run_import):
    importer = UserFactory(email="importer@example.com", role=Role.ADMIN)
    batch = run_import(CSV, actor=importer)
    assert (batch.created_count, batch.skipped_count) == (1, 1)
    return importer, batch, Lead.objects.get(email="anna@acme.example")


def test_a_source_with_leads_cannot_be_deleted(imported):
    _, _, lead = imported
    with pytest.raises(ProtectedError):
        Source.objects.get(pk=lead.source_id).delete()
    lead.refresh_from_db()
    assert lead.source.name == "Web"


def test_deleting_an_import_batch_keeps_its_leads_without_it(imported):
    _, batch, lead = imported
    ImportBatch.objects.filter(pk=batch.pk).delete()
    lead.refresh_from_db()
    assert lead.import_batch is None and not lead.is_trashed
    assert not ImportRow.objects.filter(batch_id=batch.pk).exists()  # its rows go with it


def test_deleting_the_importing_user_keeps_the_leads_without_a_creator(imported):
    importer, _, lead = imported
    importer.delete()
    lead.refresh_from_db()
    assert lead.created_by is None and lead.email == "anna@acme.example"
