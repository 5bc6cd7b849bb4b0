"""The proposal reports page and its CSV exports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from closeloop.core.export import csv_download
from closeloop.core.http import query_date

from ..reports import ReportPeriod, proposal_report, report_table


@login_required
@require_GET
def proposal_reports(request: HttpRequest) -> HttpResponseBase:
    """Win rate, discounts, time to acceptance and versions over the proposals one may see."""
    period = ReportPeriod(start=query_date(request.GET, "from"), end=query_date(request.GET, "to"))
    report = proposal_report(user=request.user, period=period)
    table = request.GET.get("export")
    if table:
        try:
            rows, columns = report_table(report, table)
        except KeyError as exc:
            raise Http404("No such report table") from exc
        return csv_download(rows, columns, f"proposal-report-{table}")
    return render(request, "proposals/reports.html", {"report": report, "nav": "proposals"})
