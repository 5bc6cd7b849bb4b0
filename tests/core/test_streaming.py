"""rows_streamed: a long read a chunk at a time, with writes of the reader's own in between."""

from __future__ import annotations

import threading

import pytest
from django.db import connections, transaction

from closeloop.core.streaming import rows_streamed
from closeloop.people.models import Organization
from tests.factories import OrganizationFactory


@pytest.mark.django_db(transaction=True)
def test_writing_between_chunks_after_someone_else_saved(database_file):
    names = [OrganizationFactory(name=f"Org {n}").name for n in range(4)]

    def someone_else_saves() -> None:
        try:
            OrganizationFactory(name="Elsewhere")
        finally:
            connections.close_all()

    seen = []
    rows = Organization.objects.filter(name__in=names).order_by("pk").values_list("pk", "name")
    for pk, name in rows_streamed(rows, chunk_size=1):
        writer = threading.Thread(target=someone_else_saves)
        writer.start()
        writer.join()
        with transaction.atomic():  # on SQLite, refused from a stale snapshot before
            Organization.objects.filter(pk=pk).update(domain=f"{pk}.example")
        seen.append(name)
    assert seen == names
    assert Organization.objects.filter(name__in=names, domain__endswith=".example").count() == 4
    assert Organization.objects.filter(name="Elsewhere").count() == 4


def test_inside_a_transaction_the_rows_are_the_querysets(db):
    OrganizationFactory.create_batch(3)
    rows = Organization.objects.order_by("pk").values_list("pk", "name")
    with transaction.atomic():
        assert list(rows_streamed(rows, chunk_size=2)) == list(rows)
