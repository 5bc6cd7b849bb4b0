"""`closeloop import KIND FILE`: progress on stderr, a reconciled summary, refusals as errors."""

from __future__ import annotations

import csv
import json

import pytest
from django.core.management import CommandError, call_command

from closeloop.leads.models import ImportBatch, Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads_csv(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text(
        "Vorname;Nachname;Mail;Telefon\nAnna;Berg;anna@x.example;030 1234567\n"
        "Ben;Costa;bad@;\nAnna;Berg;anna@x.example;\n",
        encoding="utf-8",
    )
    return path


def test_import_with_mapping_file_progress_and_summary(tmp_path, leads_csv, capsys, admin):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"columns": {"Mail": "email"}}))
    failed = tmp_path / "failed.csv"
    call_command("import", "leads", str(leads_csv), "--mapping", str(mapping),
                 "--user", admin.email, "--failed-csv", str(failed))  # fmt: skip
    out, err = capsys.readouterr()
    assert (
        "3 rows read: 1 created, 0 updated, 1 skipped (duplicates), 1 failed — reconciles." in out
    )
    assert "rows" in err and "Mail → email" in err
    lead = Lead.objects.get()
    assert (lead.first_name, lead.phone_e164, lead.created_by) == ("Anna", "+49301234567", admin)
    rows = list(csv.reader(failed.open(encoding="utf-8-sig")))
    assert rows[0] == ["Vorname", "Nachname", "Mail", "Telefon", "error"]
    assert rows[1][:3] == ["Ben", "Costa", "bad@"] and "Email" in rows[1][4]


def test_dry_run_writes_nothing(tmp_path, leads_csv, capsys):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"Mail": "email"}))
    call_command("import", "leads", str(leads_csv), "--dry-run", "--mapping", str(mapping))
    out = capsys.readouterr().out
    assert "1 would be created" in out and "Dry run: nothing was written." in out
    assert not Lead.objects.exists() and ImportBatch.objects.get().dry_run


def test_update_mode_and_date_order(tmp_path, capsys, admin):
    Lead.objects.create(first_name="Old", email="anna@x.example")
    path = tmp_path / "u.csv"
    path.write_text("Email,First Name\nanna@x.example,Anna\n")
    call_command("import", "leads", str(path), "--mode", "update", "--match", "email")
    assert Lead.objects.get().first_name == "Anna"
    deals = tmp_path / "d.csv"
    deals.write_text("Deal Name,Create Date\nA,01/02/2024\n")
    with pytest.raises(CommandError, match="choose the date order"):
        call_command("import", "deals", str(deals))
    call_command("import", "deals", str(deals), "--date-order", "mdy", "--user", admin.email)
    assert "1 created" in capsys.readouterr().out


def test_refusals_are_command_errors(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="0 bytes"):
        call_command("import", "leads", str(empty))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import", "leads", str(tmp_path / "missing.csv"))
