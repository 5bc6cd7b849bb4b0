"""The admins' audit log page under Settings."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from closeloop.accounts.models import User
from closeloop.accounts.views import admin_required
from closeloop.core.http import query_int

from .models import AuditEntry
from .selectors import AUDITED_TYPES, AuditFilters, audit_log

PAGE_SIZE = 50

# where a record's page is, by content type model name (purged records keep no link)
RECORD_URLS = {
    "lead": "leads:lead_detail",
    "contact": "people:contact_detail",
    "organization": "people:organization_detail",
    "deal": "pipeline:deal_detail",
    "proposal": "proposals:detail",
    "user": "settings:user_edit",
    "importbatch": "imports:detail",
}


def _date(request: HttpRequest, name: str, errors: list[str]) -> dt.date | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{name.capitalize()}: “{raw}” is not a date (use YYYY-MM-DD).")
        return None


def record_url(entry: AuditEntry) -> str:
    name = RECORD_URLS.get(entry.content_type.model)
    return reverse(name, args=[entry.object_id]) if name and entry.action != "purge" else ""


@admin_required
@require_GET
def audit_log_page(request: HttpRequest) -> HttpResponse:
    """Every write to every audited record, newest first; filter by type, user, dates, text."""
    errors: list[str] = []
    filters = AuditFilters(
        record_type=request.GET.get("type", ""),
        actor_id=query_int(request.GET, "user"),
        since=_date(request, "since", errors),
        until=_date(request, "until", errors),
        text=request.GET.get("q", "")[:200].replace("\x00", ""),
    )
    page = Paginator(audit_log(user=request.user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for entry in page.object_list:
        entry.record_url = record_url(entry)  # type: ignore[attr-defined]
    return render(
        request,
        "settings/audit_log.html",
        {
            "section": "audit",
            "page_obj": page,
            "filters": filters,
            "errors": errors,
            "types": [(key, label) for key, _, _, label in AUDITED_TYPES],
            "users": User.objects.order_by("full_name", "email"),
        },
    )
