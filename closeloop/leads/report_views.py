"""The lead reports page and its CSV exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from closeloop.accounts.selectors import user_list
from closeloop.core.export import csv_download

from .reports import ReportFilters, lead_report, report_table
from .selectors import campaign_list, source_list


@login_required
@require_GET
def lead_reports(request: HttpRequest) -> HttpResponseBase:
    """Conversion, time to outcome, reasons and nurture returns over the leads one may see."""
    filters = ReportFilters.from_query(request.GET)
    report = lead_report(user=request.user, filters=filters)
    table = request.GET.get("export")
    if table:
        try:
            rows, columns = report_table(report, table)
        except KeyError as exc:
            raise Http404("No such report table") from exc
        return csv_download(rows, columns, f"lead-report-{table}")
    context = {
        "nav": "leads",
        "report": report,
        "filters": filters,
        "sources": source_list(user=request.user),
        "campaigns": campaign_list(),
        "owners": user_list(user=request.user),
    }
    return render(request, "leads/reports.html", context)
