"""Bad input: each gets a clear message, and none stops the rows that are fine."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import RowOutcome
from closeloop.leads.imports.services import import_configure, import_start
from closeloop.leads.models import ImportRow, Lead
from closeloop.pipeline.models import Deal

pytestmark = pytest.mark.django_db

HEADER = "First Name,Last Name,Email\n"


def start(admin, data: bytes, name: str = "file.csv", kind: str = "leads"):
    return import_start(actor=admin, kind=kind, stream=io.BytesIO(data), file_name=name)


def errors(batch) -> dict[int, str]:
    rows = ImportRow.objects.filter(batch=batch, outcome=RowOutcome.FAILED)
    return dict(rows.values_list("row_number", "error"))


def test_empty_file_is_refused(admin):
    with pytest.raises(DomainError, match="empty"):
        start(admin, b"\n\n  \n")


def test_zero_byte_file_is_refused(admin):
    with pytest.raises(DomainError, match=r"empty \(0 bytes\)"):
        start(admin, b"")


def test_header_only_is_refused(admin):
    with pytest.raises(DomainError, match="header row but no data rows"):
        start(admin, HEADER.encode())


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n....", "not a CSV or XLSX file"),
        ("report.pdf", b"%PDF-1.7 ...", "not a CSV or XLSX file"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Old Excel files"),
        ("broken.xlsx", b"PK\x03\x04not really a workbook", "not a valid XLSX file"),
        ("data.csv", bytes(range(256)) * 40, "binary data"),
    ],
)
def test_wrong_file_types_are_refused(admin, name, data, message):
    with pytest.raises(DomainError, match=message):
        start(admin, data, name=name)


def test_file_over_the_size_limit_is_refused(admin, settings):
    settings.IMPORT_MAX_BYTES = 1000
    with pytest.raises(DomainError, match="files up to"):
        start(admin, (HEADER + "Anna,Berg,anna@example.com\n" * 100).encode())


def test_unknown_columns_are_ignored_and_listed(run_import):
    batch = run_import(
        HEADER.strip() + ",Favourite colour,Shoe size\nAnna,Berg,a@x.example,red,38\n"
    )
    assert batch.created_count == 1
    assert batch.options["ignored"] == ["Favourite colour", "Shoe size"]


def test_a_missing_required_column_is_reported_before_running(admin):
    batch = start(admin, b"Favourite colour,Shoe size\nred,38\n")
    with pytest.raises(DomainError, match="a name, email, phone or company column"):
        import_configure(actor=admin, batch=batch, mapping=batch.mapping)
    deals = start(admin, b"Amount,Stage\n100,Proposal\n", kind="deals")
    with pytest.raises(DomainError, match="title"):
        import_configure(actor=admin, batch=deals, mapping=deals.mapping)


def test_invalid_emails_fail_their_row_naming_the_value(run_import):
    batch = run_import(
        HEADER + "Anna,Berg,anna@example\nBen,Costa,ben@costa.example\nCarl,X,carl@@x.de\n"
    )
    assert errors(batch) == {
        2: "Email: “anna@example” is not a valid email address",
        4: "Email: “carl@@x.de” is not a valid email address",
    }
    assert list(Lead.objects.values_list("email", flat=True)) == ["ben@costa.example"]
    assert batch.reconciles


def test_duplicate_rows_in_one_file_skip_the_second(run_import):
    batch = run_import(
        HEADER + "Anna,Berg,anna@x.example\nAnna,Berg,ANNA@x.example\nBen,C,b@x.example\n"
    )
    assert (batch.created_count, batch.skipped_count) == (2, 1)
    skipped = ImportRow.objects.get(batch=batch, outcome=RowOutcome.SKIPPED)
    assert skipped.row_number == 3 and "same email as row 2" in skipped.error


def test_100_kb_notes(run_import):
    fine, too_long = "x" * 100_000, "y" * 102_400
    batch = run_import(
        f"Name,Email,Notes\nAnna Berg,a@x.example,{fine}\nBen Costa,b@x.example,{too_long}\n"
    )
    assert len(Lead.objects.get(email="a@x.example").notes) == 100_000
    assert errors(batch) == {3: "Notes: can be at most 100,000 characters long"}


def test_html_and_script_in_names_are_stored_as_text(run_import, admin_client_):
    name = '<script>alert("x")</script>'
    batch = run_import(
        "First Name,Last Name,Email\n"
        + f'"{name.replace(chr(34), chr(34) * 2)}",<b>Bold</b>,s@x.example\n'
    )
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name) == (name, "<b>Bold</b>")
    page = admin_client_.get(f"/imports/{batch.pk}/preview/")
    assert b"<script>alert" not in page.content


def test_excel_dates_in_xlsx(run_import, admin):
    book = Workbook()
    sheet = book.active
    sheet.append(["Deal Name", "Create Date", "Close Date", "Deal Stage", "Amount"])
    sheet.append(["Serial numbers", 45292, 45323, "Closed Won", 1200])  # 2024-01-01, 2024-02-01
    sheet.append(
        ["Real dates", dt.datetime(2024, 3, 1), dt.datetime(2024, 3, 15), "Closed Won", 800]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    batch = run_import(buffer.getvalue(), kind="deals", name="deals.xlsx")
    assert batch.created_count == 2, errors(batch)
    serial = Deal.objects.get(title="Serial numbers")
    assert serial.created_at.date() == dt.date(2024, 1, 1)
    assert serial.won_at.date() == dt.date(2024, 2, 1)
    assert Deal.objects.get(title="Real dates").won_at.date() == dt.date(2024, 3, 15)


def test_utf16_with_bom(run_import):
    text = "First Name\tLast Name\tEmail\nRenée\tWeiß\trenee@x.example\n"
    batch = run_import(text.encode("utf-16"))
    assert batch.created_count == 1
    assert Lead.objects.get().last_name == "Weiß"


def test_cp1252_with_accents_and_sharp_s(run_import):
    text = "Vorname;Nachname;E-Mail;Firma\nJosé;Müller;jose@x.example;Straße & Söhne GmbH\n"
    batch = run_import(text.encode("cp1252"))
    lead = Lead.objects.get()
    assert batch.options["encoding"] == "cp1252"
    assert (lead.first_name, lead.last_name, lead.company_name) == (
        "José",
        "Müller",
        "Straße & Söhne GmbH",
    )


def test_ragged_rows(run_import):
    data = HEADER + "Anna,Berg\nBen,Costa,ben@x.example,surplus,values\nCarl,Dorn,c@x.example,,\n"
    batch = run_import(data)
    assert set(Lead.objects.values_list("first_name", flat=True)) == {"Anna", "Carl"}
    assert "has 5 values but the header has 3 columns" in errors(batch)[3]
    assert batch.reconciles and batch.rows_read == 3
