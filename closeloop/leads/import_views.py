"""Import pages: upload, mapping, preview and dry run, progress, result, failed rows, undo.

Admins and managers import; reps get 403 (imports create and change records of the whole
workspace, which reps may not even see).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.export import csv_download
from closeloop.core.http import found_or_404

from .choices import ImportState
from .imports import selectors, services
from .imports.forms import MappingForm, UploadForm
from .imports.mapping import load_mapping_file
from .imports.values import cell_text
from .models import ImportBatch

RUNNING = (ImportState.QUEUED, ImportState.RUNNING)


def _importer(request: HttpRequest) -> None:
    if getattr(request.user, "role", None) not in ("admin", "manager"):
        raise PermissionDenied("Only admins and managers can import.")


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    _importer(request)
    return found_or_404(selectors.import_get(user=request.user, pk=pk))


@login_required
@require_GET
def import_list(request: HttpRequest) -> HttpResponse:
    _importer(request)
    page = Paginator(selectors.import_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {"page_obj": page, "nav": "imports"})


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    _importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = services.import_start(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                stream=upload.file,
                file_name=upload.name,
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("imports:mapping", pk=batch.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "nav": "imports", "max_mb": settings.IMPORT_MAX_BYTES // 1024 // 1024}
    return render(request, "imports/upload.html", context, status=status)


def _mapping_form(request: HttpRequest, batch: ImportBatch) -> MappingForm:
    columns = selectors.import_columns(batch=batch)
    values = selectors.import_value_choices(batch=batch, columns=columns)
    initial = {
        "mode": batch.mode,
        "match_on": batch.match_on,
        "date_order": batch.options.get("date_order", ""),
        "mapping_name": batch.options.get("mapping_name", ""),
    }
    data = request.POST if request.method == "POST" and "save" in request.POST else None
    return MappingForm(data, kind=batch.kind, columns=columns, values=values, initial=initial)


def _apply_saved(request: HttpRequest, batch: ImportBatch) -> None:
    saved = selectors.import_saved_mappings(user=request.user, kind=batch.kind)
    source = saved.get(request.POST.get("saved", ""))
    if source is None:
        raise DomainError("There is no saved mapping with that name.")
    saved_mapping = {
        "columns": source.mapping,
        "values": source.value_mapping,
        "date_order": source.options.get("date_order", ""),
    }
    loaded = load_mapping_file(
        json.dumps(saved_mapping),
        kind=batch.kind,
        headers=batch.options.get("headers", []),
    )
    batch.mapping, batch.value_mapping = loaded["columns"], loaded["values"]
    batch.options = {**batch.options, "date_order": loaded["date_order"]}
    batch.mode, batch.match_on = source.mode, source.match_on


@login_required
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch.state != ImportState.UPLOADED and not (batch.dry_run and batch.state == "done"):
        return redirect("imports:detail", pk=batch.pk)
    error = ""
    if request.method == "POST" and "saved" in request.POST:
        try:
            _apply_saved(request, batch)
        except DomainError as exc:
            error = exc.message
    form = _mapping_form(request, batch)
    if form.is_bound and form.is_valid():
        try:
            services.import_configure(
                actor=request.user,
                batch=batch,
                mapping=form.mapping(),
                mode=form.cleaned_data["mode"],
                match_on=form.cleaned_data["match_on"],
                date_order=form.cleaned_data["date_order"],
                value_mapping=form.value_mapping(),
                mapping_name=form.cleaned_data["mapping_name"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("imports:preview", pk=batch.pk)
    context = {
        "batch": batch,
        "form": form,
        "error": error,
        "saved": selectors.import_saved_mappings(user=request.user, kind=batch.kind),
        "ambiguous": [c for c in form.columns if c.ambiguous_dates],
        "nav": "imports",
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "imports/mapping.html", context, status=status)


@login_required
@require_GET
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if not batch.options.get("configured"):
        return redirect("imports:mapping", pk=batch.pk)
    try:
        rows = selectors.import_preview(batch=batch, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("imports:mapping", pk=batch.pk)
    headers = batch.options.get("headers", [])
    mapped = [(i, h, batch.mapping.get(h)) for i, h in enumerate(headers) if batch.mapping.get(h)]
    table = []
    for row, outcome in rows:
        shown = outcome.values or {}
        cells = [cell_text(shown.get(field, row.values.get(field, ""))) for _, _, field in mapped]
        table.append((row, outcome, cells))
    context = {"batch": batch, "rows": table, "mapped": mapped, "nav": "imports"}
    return render(request, "imports/preview.html", context)


@login_required
@require_POST
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        services.import_queue(actor=request.user, batch=batch, dry_run="dry_run" in request.POST)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("imports:detail", pk=batch.pk)


@login_required
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    context = {"batch": batch, "running": batch.state in RUNNING, "nav": "imports"}
    return render(request, "imports/detail.html", context)


@login_required
@require_GET
def import_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment the detail page polls every second while the import runs."""
    batch = _batch(request, pk)
    response = render(
        request, "imports/_status.html", {"batch": batch, "running": batch.state in RUNNING}
    )
    if batch.state not in RUNNING:
        response["HX-Refresh"] = "true"  # show the full result page
    return response


@login_required
@require_GET
def import_failed_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    batch = _batch(request, pk)
    rows, columns = selectors.import_failed_export(batch=batch)
    stem = batch.file_name.rsplit(".", 1)[0]
    return csv_download(rows, columns, f"{stem}-failed-rows")  # type: ignore[no-any-return]


@login_required
@require_POST
def import_undo(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        services.import_undo(actor=request.user, batch=batch)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The import was undone.")
    return redirect(reverse("imports:detail", args=[batch.pk]))
