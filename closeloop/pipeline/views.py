from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from closeloop.accounts.selectors import team_list, user_list
from closeloop.core.exceptions import DomainError, StaleEditError
from closeloop.core.export import csv_download
from closeloop.core.http import found_or_404, int_param, json_error, wants_json
from closeloop.core.money import format_money
from closeloop.core.selectors import audit_history
from closeloop.core.stale import StaleEdit, simple_groups, stale_mark, stale_rebind

from . import services
from .choices import DealStatus
from .deal_marks import MARKS, deal_marks_set
from .forms import DealCreateForm, DealEditForm, LoseForm, NoteForm
from .models import Stage
from .selectors import (
    DealFilters,
    board_column_totals,
    deal_board,
    deal_board_column,
    deal_get,
    deal_list,
    deal_timeline,
    lost_reason_choices,
    pipeline_default,
    pipeline_list,
)


def _filter_query(request: HttpRequest) -> str:
    """The board's filters as a query string, for the script and "load more" links."""
    params = request.GET.copy()
    params.pop("offset", None)
    return params.urlencode()


def _board_filter_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "owners": user_list(user=request.user),
        "teams": team_list(user=request.user),
        "pipelines": pipeline_list(),
    }


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    filters = DealFilters.from_query(request.GET)
    pipelines = pipeline_list()
    pipeline = (
        pipelines.filter(pk=filters.pipeline_id).first() if filters.pipeline_id else None
    ) or pipeline_default()
    context: dict[str, Any] = {
        "nav": "board",
        "filters": filters,
        "filter_query": _filter_query(request),
        **_board_filter_context(request),
    }
    if pipeline is not None:
        context["board"] = deal_board(user=request.user, pipeline=pipeline, filters=filters)
        context["pipeline"] = pipeline
        context["lost_reasons"] = lost_reason_choices()
    return render(request, "pipeline/board.html", context)


@login_required
@require_GET
def board_column(request: HttpRequest, stage_id: int) -> HttpResponse:
    """The next cards of one column (htmx, when the column is scrolled to its end)."""
    stage = found_or_404(Stage.objects.select_related("pipeline").filter(pk=stage_id).first())
    filters = DealFilters.from_query(request.GET)
    offset = int_param(request, "offset")
    cards, has_more = deal_board_column(
        user=request.user, stage=stage, filters=filters, offset=offset
    )
    return render(
        request,
        "pipeline/_board_cards.html",
        {
            "cards": cards,
            "stage": stage,
            "has_more": has_more,
            "next_offset": offset + len(cards),
            "filter_query": _filter_query(request),
        },
    )


def _totals_json(request: HttpRequest, deal: Any) -> dict[str, Any]:
    filters = DealFilters.from_query(request.POST)
    totals = board_column_totals(user=request.user, pipeline=deal.pipeline, filters=filters)
    return {
        str(stage_id): {
            "count": t["count"],
            "total": format_money(t["total"]),
            "weighted": format_money(t["weighted"]),
        }
        for stage_id, t in totals.items()
    }


def _deal_or_404(request: HttpRequest, pk: int) -> Any:
    return found_or_404(deal_get(user=request.user, pk=pk))


def _version(request: HttpRequest) -> int | None:
    value = request.POST.get("version", "")
    return int(value) if value.isdigit() else None


def _respond(request: HttpRequest, deal: Any, message: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            {
                "ok": True,
                "version": deal.version,
                "message": message,
                "columns": _totals_json(request, deal),
            }
        )
    messages.success(request, message)
    return redirect("pipeline:deal_detail", pk=deal.pk)


def _refuse(request: HttpRequest, deal: Any, error: DomainError) -> HttpResponse:
    if wants_json(request):
        return json_error(error.message, status=409)
    messages.error(request, error.message)
    return redirect("pipeline:deal_detail", pk=deal.pk)


@login_required
@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    stage = Stage.objects.filter(pk=int_param(request, "stage")).first()
    if stage is None:
        return _refuse(request, deal, DomainError("Choose a stage to move the deal to."))
    try:
        deal = services.deal_move_to_stage(
            actor=request.user, deal=deal, stage=stage, expected_version=_version(request)
        )
    except DomainError as error:
        return _refuse(request, deal, error)
    return _respond(request, deal, f"“{deal.title}” moved to {stage.name}.")


@login_required
@require_POST
def deal_win(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    try:
        deal = services.deal_mark_won(
            actor=request.user, deal=deal, expected_version=_version(request)
        )
    except DomainError as error:
        return _refuse(request, deal, error)
    return _respond(request, deal, f"“{deal.title}” is won. Well done!")


@login_required
def deal_lose(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    form = LoseForm(request.POST or None, initial={"version": deal.version})
    if request.method == "POST":
        if form.is_valid():
            try:
                deal = services.deal_mark_lost(
                    actor=request.user,
                    deal=deal,
                    reason=form.cleaned_data["reason"],
                    competitor=form.cleaned_data["competitor"],
                    note=form.cleaned_data["note"],
                    expected_version=form.cleaned_data["version"],
                )
            except DomainError as error:
                if wants_json(request):
                    return json_error(error.message, status=409)
                form.add_error(None, error.message)
            else:
                return _respond(request, deal, f"“{deal.title}” is lost at {deal.stage.name}.")
        elif wants_json(request):
            return json_error(" ".join(str(e) for errs in form.errors.values() for e in errs))
    return render(request, "pipeline/deal_lose.html", {"deal": deal, "form": form, "nav": "deals"})


@login_required
@require_POST
def deal_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    try:
        deal = services.deal_reopen(
            actor=request.user, deal=deal, expected_version=_version(request)
        )
    except DomainError as error:
        return _refuse(request, deal, error)
    return _respond(request, deal, f"“{deal.title}” is open again in {deal.stage.name}.")


@login_required
@require_GET
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    stages = list(deal.pipeline.stages.order_by("position", "pk"))
    current_index = next((i for i, s in enumerate(stages) if s.pk == deal.stage_id), 0)
    return render(
        request,
        "pipeline/deal_detail.html",
        {
            "deal": deal,
            "stages": stages,
            "current_index": current_index,
            "timeline": deal_timeline(deal=deal),
            "note_form": NoteForm(),
            "nav": "deals",
            "lost_reasons": lost_reason_choices(),
            "history": audit_history(obj=deal),
        },
    )


@login_required
@require_POST
def deal_note(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    form = NoteForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.deal_note_add(actor=request.user, deal=deal, body=form.cleaned_data["body"])
            form = NoteForm()
        except DomainError as exc:
            error = exc.message
    if request.headers.get("HX-Request"):
        return render(
            request,
            "pipeline/deal_detail.html#timeline",
            {
                "deal": deal,
                "timeline": deal_timeline(deal=deal),
                "note_form": form,
                "note_error": error,
            },
        )
    if error or form.errors:
        messages.error(request, error or "A note cannot be empty.")
    return redirect("pipeline:deal_detail", pk=deal.pk)


def _deal_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": data["title"],
        "organization": data["organization"],
        "contact": data["contact"],
        "owner": data["owner"],
        "value": data["value"] or 0,
        "currency": data["currency"],
        "expected_close_date": data["expected_close_date"],
        "source": data["source"],
        "campaign": data["campaign"],
    }


@login_required
def deal_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if stage_id := int_param(request, "stage"):
        initial["stage"] = stage_id
    form = DealCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_create(
                actor=request.user,
                stage=form.cleaned_data["stage"],
                **_deal_fields(form.cleaned_data),
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, f"Deal “{deal.title}” created.")
            return redirect("pipeline:deal_detail", pk=deal.pk)
    return render(request, "pipeline/deal_form.html", {"form": form, "nav": "deals"})


@login_required
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    initial = {name: getattr(deal, name) for name in services.deals.EDITABLE_FIELDS}
    initial["version"] = deal.version
    form = DealEditForm(request.POST or None, user=request.user, initial=initial)
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_update(
                actor=request.user,
                deal=deal,
                changes=_deal_fields(form.cleaned_data),
                expected_version=form.cleaned_data["version"],
            )
        except StaleEditError as error:
            form, stale = _stale_deal_form(request, form, error)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Deal saved.")
            return redirect("pipeline:deal_detail", pk=deal.pk)
    return render(request, "pipeline/deal_form.html", {
        "form": form, "deal": deal, "nav": "deals", "stale": stale, "stale_noun": "deal",
    })  # fmt: skip


def _stale_deal_form(
    request: HttpRequest, form: DealEditForm, error: StaleEditError
) -> tuple[DealEditForm, StaleEdit]:
    """The refused form again: the user's input kept, the others' changes named."""
    current = error.record
    initial = {name: getattr(current, name) for name in services.deals.EDITABLE_FIELDS}
    fresh = DealEditForm(user=request.user, initial={**initial, "version": current.version})
    names = [name for name in services.deals.EDITABLE_FIELDS if name in form.fields]
    data, stale = stale_rebind(request.POST, error=error, groups=simple_groups(form, fresh, names))
    form = DealEditForm(data, user=request.user, initial=initial)
    stale_mark(form, stale)
    return form, stale


@login_required
@require_POST
def deal_trash(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _deal_or_404(request, pk)
    try:
        services.deal_trash(actor=request.user, deal=deal)
    except DomainError as error:
        return _refuse(request, deal, error)
    messages.success(request, f"“{deal.title}” moved to the trash. You can restore it there.")
    return redirect("pipeline:deal_list")


@login_required
@require_POST
def deal_restore(request: HttpRequest, pk: int) -> HttpResponse:
    from .models import Deal

    deal = found_or_404(Deal.with_trashed.visible_to(request.user).filter(pk=pk).first())
    try:
        deal = services.deal_restore(actor=request.user, deal=deal)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("trash")
    messages.success(request, f"“{deal.title}” restored.")
    return redirect("pipeline:deal_detail", pk=deal.pk)


EXPORT_COLUMNS = [
    ("id", lambda d: d.pk),
    ("title", lambda d: d.title),
    ("organization", lambda d: d.organization.name if d.organization else ""),
    ("contact", lambda d: d.contact.full_name if d.contact else ""),
    ("owner", lambda d: d.owner.email),
    ("value", lambda d: d.value),
    ("currency", lambda d: d.currency),
    ("pipeline", lambda d: d.pipeline.name),
    ("stage", lambda d: d.stage.name),
    ("status", lambda d: d.status),
    ("expected_close_date", lambda d: d.expected_close_date or ""),
    ("created_at", lambda d: d.created_at.isoformat()),
    ("won_at", lambda d: d.won_at.isoformat() if d.won_at else ""),
    ("lost_at", lambda d: d.lost_at.isoformat() if d.lost_at else ""),
    ("lost_reason", lambda d: d.lost_reason.name if d.lost_reason else ""),
    ("competitor", lambda d: d.competitor),
]


def _sort_columns(filters: DealFilters) -> list[tuple[str, str]]:
    """Column headers that sort; clicking the sorted one again reverses it."""
    columns = [
        ("title", "Title"),
        ("organization", "Organization"),
        ("stage", "Stage"),
        ("value", "Value"),
        ("owner", "Owner"),
        ("close", "Expected close"),
        ("created", "Created"),
    ]
    result = []
    for key, label in columns:
        if filters.sort == key:
            result.append((f"-{key}", f"{label} ▲"))
        elif filters.sort == f"-{key}":
            result.append((key, f"{label} ▼"))
        else:
            result.append((key, label))
    return result


@login_required
@require_GET
def deal_list_view(request: HttpRequest) -> HttpResponseBase:
    filters = DealFilters.from_query(request.GET)
    deals = deal_list(user=request.user, filters=filters)
    if request.GET.get("format") == "csv":
        return csv_download(deals, EXPORT_COLUMNS, "deals")  # type: ignore[no-any-return]
    page = Paginator(deals, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    deal_marks_set(page.object_list)
    stages = Stage.objects.select_related("pipeline").order_by("pipeline__position", "position")
    return render(
        request,
        "pipeline/deal_list.html",
        {
            "page_obj": page,
            "filters": filters,
            "nav": "deals",
            "statuses": DealStatus.choices,
            "stages": stages,
            "sort_columns": _sort_columns(filters),
            "marks": MARKS,
            **_board_filter_context(request),
        },
    )
