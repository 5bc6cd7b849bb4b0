"""Reading cells and recognising other CRMs' column names."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from decimal import Decimal

import pytest

from closeloop.leads.imports.mapping import load_mapping_file, suggest_mapping
from closeloop.leads.imports.phones import normalize_phone_fast
from closeloop.leads.imports.reading import detect_encoding, open_table, sniff_delimiter
from closeloop.leads.imports.values import (
    AmbiguousDate,
    ValueProblem,
    analyse_dates,
    parse_date,
    parse_decimal,
)
from closeloop.people.phones import normalize_phone


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2024-03-31", "", dt.date(2024, 3, 31)),
        ("2024-03-31T10:15:00Z", "", dt.date(2024, 3, 31)),
        ("31/03/2024", "", dt.date(2024, 3, 31)),
        ("03/31/2024", "", dt.date(2024, 3, 31)),
        ("31.03.24", "", dt.date(2024, 3, 31)),
        ("01/02/2024", "dmy", dt.date(2024, 2, 1)),
        ("01/02/2024", "mdy", dt.date(2024, 1, 2)),
        ("31 Mar 2024", "", dt.date(2024, 3, 31)),
        ("March 31st, 2024", "", dt.date(2024, 3, 31)),
        (45382, "", dt.date(2024, 3, 31)),
        ("45382", "", dt.date(2024, 3, 31)),
    ],
)
def test_dates(text, order, expected):
    assert parse_date(text, order=order) == expected


def test_ambiguous_dates_are_never_guessed():
    with pytest.raises(AmbiguousDate, match="day-first or month-first"):
        parse_date("01/02/2024")
    with pytest.raises(ValueProblem, match="not a day/month/year date"):
        parse_date("02/13/2024", order="dmy")
    report = analyse_dates(["01/02/2024", "13/02/2024"])
    assert (report.order, report.ambiguous, report.conflicting) == ("dmy", 1, False)
    assert analyse_dates(["13/02/2024", "02/13/2024"]).conflicting


@pytest.mark.parametrize(
    ("text", "amount"),
    [("1,234.50", "1234.50"), ("1.234,50", "1234.50"), ("€ 1 200", "1200"), ("$1,200", "1200"),
     ("12,5", "12.5"), ("1.000.000", "1000000"), (99.95, "99.95")],
)  # fmt: skip
def test_amounts(text, amount):
    assert parse_decimal(text) == Decimal(amount)


@pytest.mark.parametrize(
    ("kind", "headers", "expected"),
    [
        ("leads", ["First Name", "Last Name", "Email", "Phone Number", "Company Name",
                   "Lead Status", "Original Source", "Contact owner", "Record ID"],
         ["first_name", "last_name", "email", "phone", "company_name", "status", "source",
          "owner", "external_id"]),  # HubSpot
        ("leads", ["FirstName", "LastName", "Company", "Title", "LeadSource", "Status", "Id"],
         ["first_name", "last_name", "company_name", "job_title", "source", "status",
          "external_id"]),  # Salesforce API names
        ("leads", ["First Name", "Last Name", "Company", "Designation", "Lead Source",
                   "Lead Owner", "Mobile"],
         ["first_name", "last_name", "company_name", "job_title", "source", "owner", "phone"]),
        ("deals", ["Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Stage",
                   "Deal - Status", "Deal - Owner", "Deal - Deal created", "Deal - Won time",
                   "Deal - Lost reason", "Deal - Organization", "Deal - ID"],
         ["title", "value", "currency", "stage", "status", "owner", "created_at", "won_at",
          "lost_reason", "organization", "external_id"]),  # Pipedrive
        ("deals", ["Opportunity Name", "Stage", "Amount", "Close Date", "Opportunity Owner",
                   "Account Name", "Created Date", "Loss Reason"],
         ["title", "stage", "value", "close_date", "owner", "organization", "created_at",
          "lost_reason"]),  # Salesforce report
        ("deals", ["Deal Name", "Pipeline", "Deal Stage", "Amount", "Close Date", "Deal owner",
                   "Closed Lost Reason", "Create Date"],
         ["title", "pipeline", "stage", "value", "close_date", "owner", "lost_reason",
          "created_at"]),  # HubSpot
        ("contacts", ["id", "first_name", "last_name", "emails", "phones", "organization"],
         ["id", "first_name", "last_name", "email", "phone", "organization"]),  # our export
    ],
)  # fmt: skip
def test_other_crms_columns_are_recognised(kind, headers, expected):
    samples = {"id": ["12"], "Id": ["00Q5e00000AbCdE"]}
    assert list(suggest_mapping(kind, headers, samples).values()) == expected


def test_mapping_file():
    loaded = load_mapping_file(
        json.dumps(
            {
                "columns": {"Shoe": "notes"},
                "values": {"status": {"Hot": "qualifying"}},
                "date_order": "dmy",
            }
        ),
        kind="leads",
        headers=["Email", "Shoe", "Hat"],
    )
    assert loaded["columns"] == {"Email": "email", "Shoe": "notes", "Hat": ""}
    assert loaded["values"] == {"status": {"Hot": "qualifying"}} and loaded["date_order"] == "dmy"


def test_dialects_and_quoted_newlines():
    assert sniff_delimiter("a;b;c\n1;2;3\n", complete=True) == ";"
    assert sniff_delimiter("a\tb\n1\t2,5\n", complete=True) == "\t"
    data = b'Name,Notes\n"Anna","line one\nline two, with comma"\nBen,plain\n'
    with open_table(io.BytesIO(data), name="x.csv") as table:
        rows = list(table.rows())
    assert rows == [(2, ["Anna", "line one\nline two, with comma"]), (3, ["Ben", "plain"])]


def test_encodings():
    assert detect_encoding("é".encode("utf-8-sig")) == "utf-8-sig"
    assert detect_encoding("Zoë,Straße".encode()) == "utf-8"
    assert detect_encoding("Zoë,Straße\n".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding("Renée;Größe;Café\n".encode("cp1252")) == "cp1252"


def test_our_exports_formula_guard_is_undone_on_import():
    data = b"Name,Phone\nAnna,'+49 30 1234567\n"
    with open_table(io.BytesIO(data), name="x.csv") as table:
        assert next(iter(table.rows()))[1] == ["Anna", "+49 30 1234567"]


def test_fast_phone_path_agrees_with_normalize_phone():
    rng = random.Random(7)
    samples = ["+49 30 1234567", "+49 (0)30 1234567", "0049 30 1234567", "+1 212-555-0100",
               "+44 20 7946 0958", "+39 06 6982 1234", "+7 495 123-45-67", "+33 1 42 68 53 00",
               "+1 (613) 555-0199", "+800 1234 5678", "+49 30", "030 1234567",
               "+49 30 1234567 x12"]  # fmt: skip
    for _ in range(3000):
        code = rng.choice(["1", "7", "33", "39", "41", "44", "49", "61", "86", "91", "353", "971"])
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(4, 13)))
        sep = rng.choice([" ", "-", ".", ""])
        samples.append(f"+{code} {digits[:3]}{sep}{digits[3:]}")
    for text in samples:
        assert normalize_phone_fast(text) == normalize_phone(text), text
