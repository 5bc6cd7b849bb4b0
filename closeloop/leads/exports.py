"""Lead exports (CSV and XLSX) with record ids, so export → edit → import updates in place.

Both are streamed: CSV row by row, XLSX through openpyxl's write-only mode into a temporary
file that is then sent in chunks. Cells that a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from closeloop.core.export import csv_download, neutralise_row

from .models import Lead

Column = tuple[str, Callable[[Lead], Any]]
CHUNK = 2000


def _when(value: Any) -> str:
    return value.isoformat() if value else ""


LEAD_COLUMNS: list[Column] = [
    ("id", lambda o: o.pk),
    ("first_name", lambda o: o.first_name),
    ("last_name", lambda o: o.last_name),
    ("email", lambda o: o.email),
    ("phone", lambda o: o.phone),
    ("job_title", lambda o: o.job_title),
    ("company_name", lambda o: o.company_name),
    ("company_domain", lambda o: o.company_domain),
    ("website", lambda o: o.website),
    ("company_size", lambda o: o.company_size),
    ("industry", lambda o: o.industry),
    ("country", lambda o: o.country),
    ("organization_id", lambda o: o.organization_id or ""),
    ("organization", lambda o: o.organization.name if o.organization else ""),
    ("owner", lambda o: o.owner.email if o.owner else ""),
    ("status", lambda o: o.status),
    ("source", lambda o: o.source.name if o.source else ""),
    ("campaign_id", lambda o: o.campaign_id or ""),
    ("campaign", lambda o: o.campaign.name if o.campaign else ""),
    ("utm_source", lambda o: o.utm_source),
    ("utm_medium", lambda o: o.utm_medium),
    ("utm_campaign", lambda o: o.utm_campaign),
    ("utm_term", lambda o: o.utm_term),
    ("utm_content", lambda o: o.utm_content),
    ("marketing_consent", lambda o: "yes" if o.marketing_consent else "no"),
    ("consent_at", lambda o: _when(o.consent_at)),
    ("consent_method", lambda o: o.consent_method),
    ("notes", lambda o: o.notes),
    ("external_id", lambda o: o.external_id),
    ("import_batch_id", lambda o: o.import_batch_id or ""),
    ("created_by", lambda o: o.created_by.email if o.created_by else ""),
    ("created_at", lambda o: _when(o.created_at)),
    ("updated_at", lambda o: _when(o.updated_at)),
]


def _related(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    return leads.select_related("owner", "source", "campaign", "organization", "created_by")


def _rows(leads: QuerySet[Lead]) -> Iterator[list[Any]]:
    for lead in _related(leads).iterator(chunk_size=CHUNK):
        # control characters out first: "\x01=1+1" must not become a formula once they are gone
        yield neutralise_row(_xlsx_value(get(lead)) for _, get in LEAD_COLUMNS)


def _file_name(extension: str) -> str:
    return f"leads-{timezone.now().strftime('%Y%m%d-%H%M')}.{extension}"


def leads_csv_response(leads: QuerySet[Lead]) -> StreamingHttpResponse:
    """The leads as a CSV download, written while it is sent."""
    return csv_download(_related(leads), LEAD_COLUMNS, "leads")  # type: ignore[no-any-return]


def _xlsx_value(value: Any) -> Any:
    # openpyxl refuses control characters a worksheet cannot hold; drop them, keep the rest.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def leads_xlsx_response(leads: QuerySet[Lead]) -> FileResponse:
    """The leads as an XLSX download; rows go to disk as they are read, never all in memory."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Leads")
    sheet.append([name for name, _ in LEAD_COLUMNS])
    for row in _rows(leads):
        sheet.append(row)
    spool = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=_file_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
