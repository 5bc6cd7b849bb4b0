"""Pages for leads (inbox, exports, bulk actions, lead page, forms), campaigns and sources."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from closeloop.accounts.selectors import user_list
from closeloop.core.exceptions import DomainError, StaleEditError
from closeloop.core.http import found_or_404
from closeloop.core.selectors import audit_history
from closeloop.core.stale import simple_groups, stale_mark, stale_rebind
from closeloop.people.selectors import organization_get

from . import services
from .campaign_selectors import campaign_deal_list, campaign_list_with_results, campaign_results
from .choices import OPEN_LEAD_STATUSES, LeadStatus
from .exports import leads_csv_response, leads_xlsx_response
from .forms import CampaignForm, LeadBulkForm, LeadForm, NoteForm, SourceForm
from .models import Lead
from .qualification import leads_gaps
from .qualification_views import scorecard_context
from .selectors import (
    LeadFilters,
    campaign_get,
    campaign_list,
    campaign_status_counts,
    lead_duplicate_flags,
    lead_get,
    lead_get_with_trashed,
    lead_list,
    lead_timeline,
    source_choices,
    source_list,
)
from .services import LEAD_EDITABLE

PAGE_SIZE = 50
View = Callable[..., HttpResponse]
SORT_COLUMNS = [
    ("name", "Name"),
    ("company", "Company"),
    ("status", "Status"),
    ("source", "Source"),
    ("owner", "Owner"),
    ("created", "Created"),
    ("score", "Score"),
]


def manager_required(view: View) -> View:
    """Only admins and managers may change sources and campaigns; others get 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not (user.is_admin or user.is_manager):
            raise PermissionDenied("Only admins and managers can change sources and campaigns.")
        return view(request, *args, **kwargs)

    return wrapped


def _sort_columns(current: str) -> list[tuple[str, str]]:
    """Column headers that sort; clicking the sorted one again reverses it."""
    result = []
    for key, label in SORT_COLUMNS:
        if current == key:
            result.append((f"-{key}", f"{label} ▲"))
        elif current == f"-{key}":
            result.append((key, f"{label} ▼"))
        else:
            result.append((key, label))
    return result


def _lead_or_404(request: HttpRequest, pk: int) -> Lead:
    return found_or_404(lead_get(user=request.user, pk=pk))


# Inbox ---------------------------------------------------------------------------------------


@login_required
@require_GET
def lead_list_view(request: HttpRequest) -> HttpResponseBase:
    filters = LeadFilters.from_query(request.GET)
    leads = lead_list(user=request.user, filters=filters)
    export = request.GET.get("format")
    if export == "csv":
        return leads_csv_response(leads)
    if export == "xlsx":
        return leads_xlsx_response(leads)
    filtered = any(request.GET.get(k) for k in ("q", "status", "source", "campaign", "owner",
                                                  "mine", "from", "to"))  # fmt: skip
    page_obj = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    gaps = leads_gaps([lead.pk for lead in page_obj])
    for lead in page_obj:
        lead.gaps = gaps[lead.pk]  # type: ignore[attr-defined]
    return render(request, "leads/lead_list.html", {
        "page_obj": page_obj, "open_statuses": OPEN_LEAD_STATUSES,
        "filters": filters, "filtered": filtered, "sort_columns": _sort_columns(filters.sort),
        "statuses": LeadStatus.choices, "sources": source_choices(), "campaigns": campaign_list(),
        "owners": user_list(user=request.user), "nav": "leads",
    })  # fmt: skip


def _back_to_list(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("leads:lead_list")


def _count(n: int) -> str:
    return f"{n} lead{'s' if n != 1 else ''}"


@login_required
@require_POST
def lead_bulk(request: HttpRequest) -> HttpResponse:
    """Assign, change the status of, or trash the ticked leads the user may see."""
    form = LeadBulkForm(request.POST, user=request.user)
    if not form.is_valid():
        errors = [str(e) for errs in form.errors.values() for e in errs]
        messages.error(request, " ".join(errors))
        return _back_to_list(request)
    data, actor = form.cleaned_data, request.user
    try:
        if data["action"] == "assign":
            n = services.lead_bulk_assign(actor=actor, lead_ids=data["ids"], owner=data["owner"])
            messages.success(request, f"{_count(n)} assigned to {data['owner']}.")
        elif data["action"] == "status":
            n = services.lead_bulk_set_status(
                actor=actor, lead_ids=data["ids"], status=data["status"]
            )
            label = LeadStatus(data["status"]).label
            messages.success(request, f"{_count(n)} set to “{label}”.")
        else:
            n = services.lead_bulk_trash(actor=actor, lead_ids=data["ids"])
            messages.success(
                request, f"{_count(n)} moved to the trash. You can restore them there."
            )
    except DomainError as error:
        messages.error(request, error.message)
    return _back_to_list(request)


# One lead ------------------------------------------------------------------------------------


def _timeline_context(lead: Lead, form: NoteForm) -> dict[str, Any]:
    return {"lead": lead, "timeline": lead_timeline(lead=lead), "note_form": form}


@login_required
@require_GET
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    organization = (
        organization_get(user=request.user, pk=lead.organization_id)
        if lead.organization_id
        else None
    )
    return render(request, "leads/lead_detail.html", {
        **_timeline_context(lead, NoteForm()),
        "organization": organization,
        "flags": lead_duplicate_flags(user=request.user, lead=lead), "nav": "leads",
        **scorecard_context(lead, request.user),
        "history": audit_history(obj=lead),
    })  # fmt: skip


@login_required
@require_POST
def lead_note(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.lead_note_add(actor=request.user, lead=lead, body=form.cleaned_data["body"])
        except DomainError as error:
            form.add_error("body", error.message)
        else:
            form = NoteForm()
    if getattr(request, "htmx", False):
        return render(
            request,
            "leads/lead_detail.html#timeline",
            _timeline_context(lead, form),
        )
    if form.errors:
        messages.error(request, " ".join(str(e) for e in form.errors["body"]))
    else:
        messages.success(request, "Note added.")
    return redirect("leads:lead_detail", pk=lead.pk)


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.lead_create(actor=request.user, data=form.lead_input())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            lead = result.lead
            assert lead is not None
            messages.success(request, f"Lead “{lead.full_name}” created.")
            if result.flagged:
                n = len(result.flagged)
                messages.warning(
                    request,
                    f"{n} likely duplicate{'s were' if n != 1 else ' was'} flagged for review"
                    " (similar name and company). See the notice below.",
                )
            return redirect("leads:lead_detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "nav": "leads"})


@login_required
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The lead's form; a save based on an older version than the stored one comes back with
    the others' changes named and the user's input kept (closeloop.core.stale)."""
    lead = _lead_or_404(request, pk)
    form = LeadForm(request.POST or None, user=request.user, instance=lead)
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_update(
                actor=request.user,
                lead=lead,
                data=form.lead_input(),
                expected_version=form.cleaned_data["version"],
            )
        except StaleEditError as error:
            fresh = LeadForm(user=request.user, instance=error.record)
            data, stale = stale_rebind(
                request.POST, error=error, groups=simple_groups(form, fresh, LEAD_EDITABLE)
            )
            form = LeadForm(data, user=request.user, instance=error.record)
            stale_mark(form, stale)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Lead saved.")
            return redirect("leads:lead_detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {
        "form": form, "lead": lead, "nav": "leads", "stale": stale, "stale_noun": "lead",
    })  # fmt: skip


@login_required
@require_POST
def lead_trash(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(request, pk)
    try:
        services.lead_trash(actor=request.user, lead=lead)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("leads:lead_detail", pk=lead.pk)
    messages.success(request, f"“{lead.full_name}” moved to the trash. You can restore it there.")
    return redirect("leads:lead_list")


@login_required
@require_POST
def lead_restore(request: HttpRequest, pk: int) -> HttpResponse:
    lead = found_or_404(lead_get_with_trashed(user=request.user, pk=pk))
    try:
        lead = services.lead_restore(actor=request.user, lead=lead)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("trash")
    messages.success(request, f"“{lead.full_name}” restored.")
    return redirect("leads:lead_detail", pk=lead.pk)


# Campaigns -----------------------------------------------------------------------------------


@login_required
@require_GET
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "leads/campaign_list.html", {
        "campaigns": campaign_list_with_results(user=request.user), "nav": "campaigns",
    })  # fmt: skip


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = found_or_404(campaign_get(pk=pk))
    leads = lead_list(user=request.user, filters=LeadFilters(campaign_id=campaign.pk))
    counts = campaign_status_counts(user=request.user, campaign=campaign)
    total = sum(c for _, _, c in counts)
    deals = campaign_deal_list(user=request.user, campaign=campaign)
    return render(request, "leads/campaign_detail.html", {
        "campaign": campaign, "status_counts": counts, "total": total,
        "results": campaign_results(user=request.user, campaign=campaign, leads=total),
        "deal_page": Paginator(deals, PAGE_SIZE).get_page(request.GET.get("deals")),
        "page_obj": Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page")),
        "nav": "campaigns",
    })  # fmt: skip


@manager_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(actor=request.user, **form.campaign_fields())
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Campaign “{campaign.name}” created.")
            return redirect("leads:campaign_detail", pk=campaign.pk)
    return render(request, "leads/campaign_form.html", {"form": form, "nav": "campaigns"})


@manager_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = found_or_404(campaign_get(pk=pk))
    form = CampaignForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_update(
                actor=request.user, campaign=campaign, **form.campaign_fields()
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Campaign saved.")
            return redirect("leads:campaign_detail", pk=campaign.pk)
    return render(request, "leads/campaign_form.html",
                  {"form": form, "campaign": campaign, "nav": "campaigns"})  # fmt: skip


# Sources -------------------------------------------------------------------------------------


@manager_required
def source_list_view(request: HttpRequest) -> HttpResponse:
    """List the sources; a POST adds one (no `source`) or renames/retires the one it names."""
    form = SourceForm(request.POST or None)
    sources = list(source_list(user=request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["source"]:
                source = found_or_404(next((s for s in sources if s.pk == data["source"]), None))
                services.source_update(
                    actor=request.user, source=source, name=data["name"],
                    is_active=data["is_active"],
                )  # fmt: skip
                messages.success(request, f"Source “{source.name}” saved.")
            else:
                source = services.source_create(actor=request.user, name=data["name"])
                messages.success(request, f"Source “{source.name}” added.")
        except DomainError as error:
            messages.error(request, error.message)
        else:
            return redirect("leads:source_list")
    elif request.method == "POST":
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    add_form = form if form.is_bound and not form.data.get("source") else SourceForm()
    return render(request, "leads/source_list.html",
                  {"sources": sources, "add_form": add_form, "nav": "leads"})  # fmt: skip
