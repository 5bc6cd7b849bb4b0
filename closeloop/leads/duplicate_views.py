"""Pages for duplicates: the list of likely pairs, "not a duplicate", the scan, and merging."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from .duplicate_scan import duplicates_scan_queue
from .duplicate_selectors import (
    CONTACT_MERGE_FIELDS,
    CONTACT_PAIR_LIMIT,
    LEAD_MERGE_FIELDS,
    MergeRow,
    contact_merge_get,
    contact_pair_list,
    duplicate_pair_get,
    duplicate_pair_list,
    duplicate_scan_last,
    merge_rows,
    older_first,
)
from .merge import contact_merge, lead_merge
from .services import duplicate_dismiss

PAGE_SIZE = 50


def _can_scan(user: Any) -> bool:
    return getattr(user, "role", None) in ("admin", "manager")


@login_required
@require_GET
def duplicate_list(request: HttpRequest) -> HttpResponse:
    pairs = duplicate_pair_list(user=request.user)
    return render(request, "duplicates/list.html", {
        "page_obj": Paginator(pairs, PAGE_SIZE).get_page(request.GET.get("page")),
        "contact_pairs": contact_pair_list(user=request.user), "contact_limit": CONTACT_PAIR_LIMIT,
        "last_scan": duplicate_scan_last(),
        "can_scan": _can_scan(request.user), "nav": "duplicates",
    })  # fmt: skip


@login_required
@require_POST
def duplicate_dismiss_view(request: HttpRequest, pk: int) -> HttpResponse:
    pair = found_or_404(duplicate_pair_get(user=request.user, pk=pk))
    duplicate_dismiss(actor=request.user, pair=pair)
    if getattr(request, "htmx", False):
        return HttpResponse("")  # the row disappears
    messages.success(request, "Marked as not a duplicate: this pair will not be shown again.")
    return redirect("duplicates:list")


@login_required
@require_POST
def duplicate_scan_view(request: HttpRequest) -> HttpResponse:
    if not _can_scan(request.user):  # as every page for some roles only: 403, not a message
        raise PermissionDenied("Only admins and managers can scan for duplicates.")
    try:
        duplicates_scan_queue(actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Scan queued: it runs in the background and new pairs appear here when it is done.",
        )
    return redirect("duplicates:list")


def _parse_choices(
    data: QueryDict, a: Any, b: Any, rows: list[MergeRow]
) -> tuple[Any, Any, dict[str, str]]:
    """The record kept and, per differing field, whether the kept or the merged value wins."""
    keep = data.get("keep")
    if keep not in ("a", "b"):
        raise DomainError("Choose which record to keep.")
    choices = {}
    for row in rows:
        side = data.get(row.name, row.default)
        if side not in ("a", "b"):
            raise DomainError(f"Choose a value for {row.label.lower()}.")
        choices[row.name] = "winner" if side == keep else "loser"
    winner, loser = (a, b) if keep == "a" else (b, a)
    return winner, loser, choices


def _lead_url(pk: int) -> str:
    try:
        return reverse("leads:lead_detail", kwargs={"pk": pk})
    except NoReverseMatch:  # the lead pages are not installed yet
        return reverse("duplicates:list")


def _merge_page(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context.update(
        nav="duplicates",
        keep=request.POST.get("keep", "a"),
        picked=[(row, request.POST.get(row.name, row.default)) for row in context["rows"]],
        same=len(context["fields"]) - len(context["rows"]),
        kind_a=context["a"]._meta.verbose_name,
    )
    return render(request, "duplicates/merge.html", context)


@login_required
def lead_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    pair = found_or_404(duplicate_pair_get(user=request.user, pk=pk))
    if pair.lead is None or pair.other_lead is None:
        raise Http404("Not a pair of leads")
    a, b = older_first(pair.lead, pair.other_lead)
    rows = merge_rows(a=a, b=b, fields=LEAD_MERGE_FIELDS)
    error = ""
    if request.method == "POST":
        try:
            winner, loser, choices = _parse_choices(request.POST, a, b, rows)
            winner = lead_merge(actor=request.user, winner=winner, loser=loser, choices=choices)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"Merged into “{winner.full_name}”.")
            return redirect(_lead_url(winner.pk))
    return _merge_page(request, {
        "a": a, "b": b, "rows": rows, "fields": LEAD_MERGE_FIELDS, "error": error,
        "pair": pair, "is_lead": True,
    })  # fmt: skip


@login_required
def contact_merge_view(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    a, b = older_first(
        *found_or_404(contact_merge_get(user=request.user, pk=pk, other_pk=other_pk))
    )
    rows = merge_rows(a=a, b=b, fields=CONTACT_MERGE_FIELDS)
    error = ""
    if request.method == "POST":
        try:
            winner, loser, choices = _parse_choices(request.POST, a, b, rows)
            winner = contact_merge(actor=request.user, winner=winner, loser=loser, choices=choices)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"Merged into “{winner.full_name}”.")
            return redirect("people:contact_detail", pk=winner.pk)
    return _merge_page(request, {
        "a": a, "b": b, "rows": rows, "fields": CONTACT_MERGE_FIELDS, "error": error,
        "is_lead": False,
    })  # fmt: skip
