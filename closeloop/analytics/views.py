"""The report pages: one view draws any registered report, with its filters and CSV exports."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from closeloop.accounts.selectors import team_list, user_list
from closeloop.core.export import csv_download
from closeloop.leads.models import Campaign, Source
from closeloop.pipeline.selectors import pipeline_list
from closeloop.proposals.selectors import product_list

from .choices import PeriodPreset
from .figures import dashboard_build
from .filters import ReportFilters, default_pipeline_id
from .results import REPORTS, report_build, report_kinds


def filter_choices(user: Any) -> dict[str, Any]:
    """What the filter bar offers: only people and teams the user may see."""
    return {
        "pipelines": pipeline_list(),
        "periods": PeriodPreset.choices,
        "teams": team_list(user=user),
        "owners": user_list(user=user),
        "sources": Source.objects.order_by("position", "name"),
        "campaigns": Campaign.objects.order_by("name"),
        "products": product_list(active_only=False).order_by("name"),
    }


def request_filters(request: HttpRequest) -> ReportFilters:
    return ReportFilters.from_query(request.GET, default_pipeline=default_pipeline_id())


@login_required
@require_GET
def report_page(request: HttpRequest, key: str) -> HttpResponseBase:
    """One report for the filters in the query string; `?export=<table>` downloads a table."""
    kinds = report_kinds()
    kind = REPORTS.get(key)
    if kind is None:
        raise Http404("No such report")
    filters = request_filters(request)
    result = report_build(key, user=request.user, filters=filters)
    table = request.GET.get("export")
    if table:
        if table not in result.tables:
            raise Http404("No such table")
        rows, columns = result.tables[table].export()
        return csv_download(rows, columns, f"{key}-{table}")
    context = {
        "nav": "analytics",
        "kind": kind,
        "kinds": kinds,
        "result": result,
        "filters": filters,
        **filter_choices(request.user),
    }
    return render(request, "analytics/report.html", context)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponseBase:
    """The manager dashboard: key figures against the previous period, the top insights and
    each owner's results (this month unless a period is chosen), then the list of reports."""
    params = request.GET.copy()
    if not any(name in params for name in ("period", "from", "to")):
        params["period"] = PeriodPreset.THIS_MONTH
    filters = ReportFilters.from_query(params, default_pipeline=default_pipeline_id())
    context = {
        "nav": "analytics",
        "kinds": report_kinds(),
        "filters": filters,
        "board": dashboard_build(user=request.user, filters=filters),
        **filter_choices(request.user),
    }
    return render(request, "analytics/dashboard.html", context)
