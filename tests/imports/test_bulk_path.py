"""The fast paths of a big lead import write and decide exactly what the slow ones would."""

from __future__ import annotations

import csv
import gc
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from closeloop.leads.imports.lead_rows import valid_email
from closeloop.leads.imports.writes import _copy_block, copy_text
from closeloop.leads.models import ImportRow, Lead


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([["First Name", "Last Name", "Email", "External ID"], *rows])
    return out.getvalue()


def test_text_that_copy_and_json_must_escape_is_stored_as_written(run_import):
    rows = [
        ["Tab\there", "Back\\slash", "a@x.example", "00123"],
        ["Line\nbreak", "\\N", "b@x.example", "1e5"],
        ["Ünïcödé ✓", 'Quote "q"', "c@x.example", "null"],
        ["Plain", "Row", "d@x.example", ""],
    ]
    batch = run_import(_csv(rows))
    assert (batch.created_count, batch.failed_count) == (4, 0)
    stored = list(
        Lead.objects.order_by("email").values_list("first_name", "last_name", "external_id")
    )
    assert stored == [
        ("Tab\there", "Back\\slash", "00123"),
        ("Line\nbreak", "\\N", "1e5"),
        ("Ünïcödé ✓", 'Quote "q"', "null"),
        ("Plain", "Row", ""),
    ]
    lead = Lead.objects.get(email="a@x.example")
    assert lead.import_batch_id == batch.pk and lead.status == "new"
    assert lead.marketing_consent is False and lead.organization_id is None


def test_skipped_rows_keep_their_cells_for_the_failed_rows_file(run_import):
    batch = run_import(_csv([["Anna", "Tab\tin", "a@x.example", ""]] * 2))
    skipped = ImportRow.objects.get(batch=batch)
    assert skipped.data == {"cells": ["Anna", "Tab\tin", "a@x.example", ""]}
    assert skipped.error == "Duplicate: same email as row 2 (a@x.example)"


def test_copy_block_escapes_only_when_a_value_needs_it():
    end = "\tconst\n"
    plain = [["Anna", None, True, 7], ["Ben", "", False, 8]]
    assert _copy_block(plain, end) == "Anna\t\\N\tt\t7" + end + "Ben\t\tf\t8" + end
    special = [["A\tb", "c\\d"], ["e\nf", "\\N"]]
    slow = "".join("\t".join(map(copy_text, row)) + end for row in special)
    assert _copy_block(special, end) == slow
    assert "A\\tb\tc\\\\d" in slow and "\\\\N" in slow


def _django_accepts(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


@given(
    st.tuples(
        st.text(alphabet="abcxyz019._+-@", min_size=1, max_size=24),
        st.sampled_from(["", ".de", ".c", ".com", "-.io"]),
    ).map("".join)
)
@settings(max_examples=400, deadline=None)
def test_fast_email_check_agrees_with_djangos_validator(email):
    assert valid_email(email) == _django_accepts(email)


def test_odd_but_valid_addresses_still_pass_through_django():
    for email in ("o'brien@example.com", "x@[127.0.0.1]", "üser@exämple.de"):
        assert valid_email(email) == _django_accepts(email)
    assert not valid_email("a..b@example.com") and not valid_email("a@-x.com")


def test_garbage_collection_is_as_before_after_an_import(run_import):
    threshold = gc.get_threshold()
    run_import(_csv([["Anna", "Berg", "a@x.example", ""]]))
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


def test_sqlite_settings_are_as_before_after_an_import(run_import):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings")
    pragmas = ("cache_size", "wal_autocheckpoint")

    def current() -> list[int]:
        with connection.cursor() as cursor:
            return [cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in pragmas]

    before = current()
    batch = run_import(_csv([["Anna", "Berg", "a@x.example", ""]]))
    assert batch.created_count == 1 and current() == before
