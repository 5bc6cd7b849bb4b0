"""A large CSV file is read by a second process: same outcomes as the thread, errors surface."""

from __future__ import annotations

import pytest

from closeloop.leads.choices import ImportState
from closeloop.leads.imports import engine, leads, readers
from closeloop.leads.imports.lead_duplicates import WrittenKeys
from closeloop.leads.models import ImportRow, Lead

pytestmark = pytest.mark.django_db

CSV = "First Name,Last Name,Email,Phone,Company,Lead Source\n"
ROWS = (
    "Anna,Berg,anna@acme.example,+49 30 5550001,Acme,Web\n"
    "Ben,Costa,BEN@acme.example,+49 30 5550002,Acme,Trade fair\n"
    "Carl,Dorn,not-an-email,,,\n"
    "Dana,Eck,dana@x.example,+49 30 5550003,,Web,extra\n"  # one value too many
    "Again,Berg,anna@acme.example,,,\n"  # row 2's email, in a later chunk
    "Phone,Only,new@x.example,0049 30 5550002,,\n"  # row 3's phone
    "Old,Lead,old@x.example,,,\n"  # an existing lead's email
    ",,,,,\n"  # blank: not a row
    "Erik,Falk,erik@gmail.com,+49 30 5550004,,Referral\n"
)


@pytest.fixture
def in_process(monkeypatch) -> list[str]:
    """Send every CSV file, however small, through the reading process (chunks of 2 rows)."""
    started: list[str] = []
    fork = readers.read_in_process

    def counted(open_file, name, mapping, prepare):
        started.append(name)
        return fork(open_file, name, mapping, prepare)

    monkeypatch.setattr(engine, "PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(engine, "read_in_process", counted)
    monkeypatch.setattr(readers, "CHUNK", 2)
    return started


def _renamed(error: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        error = error.replace(old, new)
    return error


def _result(batch) -> tuple:
    rows = ImportRow.objects.filter(batch=batch).order_by("row_number")
    # the leads a duplicate names are those of the run that made them
    mine = {
        f"#{pk} ": "#new "
        for pk in Lead.objects.filter(import_batch=batch).values_list("pk", flat=True)
    }
    errors = [(r.row_number, r.outcome, _renamed(r.error, mine), r.data) for r in rows]
    leads_made = list(
        Lead.objects.filter(import_batch=batch)
        .order_by("pk")
        .values_list("first_name", "email", "phone_e164", "company_domain", "source__name")
    )
    counts = (batch.rows_read, batch.created_count, batch.skipped_count, batch.failed_count)
    return counts, errors, leads_made


def test_the_reading_process_gives_the_same_outcomes_as_the_thread(
    run_import, monkeypatch, in_process
):
    Lead.objects.create(first_name="Old", email="old@x.example")
    batch = run_import(CSV + ROWS)
    assert in_process == ["file.csv"]
    through_process = _result(batch)
    assert through_process[0] == (8, 3, 3, 2) and batch.reconciles

    monkeypatch.setattr(engine, "PROCESS_MIN_BYTES", 10**12)  # the thread, as small files go
    Lead.objects.filter(import_batch=batch).delete()
    again = run_import(CSV + ROWS)
    assert in_process == ["file.csv"]
    assert _result(again) == through_process
    errors = {number: error for number, _, error, _ in through_process[1]}
    assert errors[4] == "Email: “not-an-email” is not a valid email address"
    assert errors[5].startswith("Row: has 7 values but the header has 6 columns")
    assert errors[6].startswith("Duplicate: lead #") and "(anna@acme.example)" in errors[6]
    assert errors[7].startswith("Duplicate: lead #") and "(+49305550002)" in errors[7]


def test_rows_checked_and_written_in_parts_give_the_same_outcomes(run_import, monkeypatch):
    Lead.objects.create(first_name="Old", email="old@x.example")
    expected = _result(run_import(CSV + ROWS))
    Lead.objects.filter(import_batch__isnull=False).delete()
    monkeypatch.setattr(leads, "PART", 2)  # a duplicate's first row is in an earlier part
    again = run_import(CSV + ROWS)
    assert _result(again) == expected and again.reconciles


def test_a_dry_run_through_the_reading_process_writes_nothing(run_import, in_process):
    batch = run_import(CSV + ROWS, dry_run=True)
    assert in_process and (batch.created_count, batch.failed_count) == (4, 2)
    assert not Lead.objects.exists()


def test_a_failure_while_reading_stops_the_import_with_its_message(
    run_import, monkeypatch, in_process
):
    prepare = leads.LeadHandler.prepare

    def broken(row):
        if row.number == 6:
            raise ValueError("the disk went away")
        prepare(row)

    monkeypatch.setattr(leads.LeadHandler, "prepare", staticmethod(broken))
    batch = run_import(CSV + ROWS)
    assert batch.state == ImportState.FAILED
    assert batch.error == "The import stopped: the disk went away"
    # the chunks read before the failure were imported and still add up
    assert batch.rows_read == 4 and batch.reconciles


def test_written_keys_never_miss_a_key_and_rarely_claim_one():
    keys = WrittenKeys()
    written = [f"person{i}@example.com" for i in range(50_000)]
    keys.add(written)
    assert keys.candidates(written) == set(written)
    others = [f"someone{i}@example.com" for i in range(50_000)]
    assert len(keys.candidates(others)) < 500  # about 0.1 % at this size
    assert keys.candidates(["", None]) == set()
