"""Pages for organizations and contacts: lists, CSV export, detail, forms, notes, trash."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from closeloop.accounts.selectors import user_list
from closeloop.activities.services import activity_create
from closeloop.core.exceptions import DomainError, StaleEditError
from closeloop.core.export import csv_download
from closeloop.core.http import found_or_404, int_param
from closeloop.core.selectors import audit_history
from closeloop.core.stale import stale_mark, stale_rebind

from . import services
from .forms import ContactForm, NoteForm, OrganizationForm
from .models import Contact, Organization
from .selectors import (
    CONTACT_SORTS,
    ORGANIZATION_SORTS,
    contact_get,
    contact_get_with_trashed,
    contact_list,
    organization_contacts,
    organization_get,
    organization_get_with_trashed,
    organization_list,
    organization_queryset,
    people_timeline,
    related_deals,
)

PAGE_SIZE = 50
Column = tuple[str, Callable[[Any], Any]]

ORGANIZATION_COLUMNS: list[Column] = [
    ("id", lambda o: o.pk),
    ("name", lambda o: o.name),
    ("domain", lambda o: o.domain),
    ("website", lambda o: o.website),
    ("phone", lambda o: o.phone),
    ("address", lambda o: o.address),
    ("industry", lambda o: o.industry),
    ("size", lambda o: o.size),
    ("owner", lambda o: o.owner.email if o.owner else ""),
    ("contacts", lambda o: o.contact_count),
    ("notes", lambda o: o.notes),
    ("created_at", lambda o: o.created_at.isoformat()),
]

CONTACT_COLUMNS: list[Column] = [
    ("id", lambda c: c.pk),
    ("first_name", lambda c: c.first_name),
    ("last_name", lambda c: c.last_name),
    ("job_title", lambda c: c.job_title),
    ("organization", lambda c: c.organization.name if c.organization else ""),
    ("emails", lambda c: "; ".join(e.email for e in c.emails.all())),
    ("phones", lambda c: "; ".join(p.display for p in c.phones.all())),
    ("owner", lambda c: c.owner.email if c.owner else ""),
    ("notes", lambda c: c.notes),
    ("created_at", lambda c: c.created_at.isoformat()),
]


def _csv_response(rows: QuerySet, columns: list[Column], name: str) -> StreamingHttpResponse:
    return csv_download(rows, columns, name)  # type: ignore[no-any-return]


def _sort_columns(current: str, columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Column headers that sort; clicking the sorted one again reverses it."""
    result = []
    for key, label in columns:
        if current == key:
            result.append((f"-{key}", f"{label} ▲"))
        elif current == f"-{key}":
            result.append((key, f"{label} ▼"))
        else:
            result.append((key, label))
    return result


def _list_params(request: HttpRequest, sorts: dict[str, str]) -> dict[str, Any]:
    sort = request.GET.get("sort") or "name"
    return {
        "q": (request.GET.get("q") or "").strip()[:200],
        "owner_id": int_param(request, "owner") or None,
        "sort": sort if sort in sorts else "name",
    }


# Organizations -------------------------------------------------------------------------------


def _organization_or_404(request: HttpRequest, pk: int) -> Organization:
    return found_or_404(organization_get(user=request.user, pk=pk))


@login_required
@require_GET
def organization_list_view(request: HttpRequest) -> HttpResponseBase:
    params = _list_params(request, ORGANIZATION_SORTS)
    organizations = organization_list(user=request.user, **params)
    if request.GET.get("format") == "csv":
        return _csv_response(organizations, ORGANIZATION_COLUMNS, "organizations")
    columns = [("name", "Name"), ("domain", "Domain"), ("contacts", "Contacts"),
               ("owner", "Owner"), ("created", "Created")]  # fmt: skip
    return render(request, "people/organization_list.html", {
        "page_obj": Paginator(organizations, PAGE_SIZE).get_page(request.GET.get("page")),
        "filters": params, "filtered": bool(params["q"] or params["owner_id"]),
        "sort_columns": _sort_columns(params["sort"], columns),
        "owners": user_list(user=request.user), "nav": "organizations",
    })  # fmt: skip


@login_required
@require_GET
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = _organization_or_404(request, pk)
    return render(request, "people/organization_detail.html", {
        "organization": organization,
        "contacts": organization_contacts(user=request.user, organization=organization),
        "deals": related_deals(user=request.user, organization=organization),
        "timeline": people_timeline(user=request.user, organization=organization),
        "note_form": NoteForm(), "nav": "organizations",
        "history": audit_history(obj=organization),
    })  # fmt: skip


def _organization_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in services.ORG_FIELDS}


@login_required
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_create(
                actor=request.user, **_organization_fields(form.cleaned_data)
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Organization “{organization.name}” created.")
            return redirect("people:organization_detail", pk=organization.pk)
    return render(request, "people/organization_form.html",
                  {"form": form, "nav": "organizations"})  # fmt: skip


@login_required
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organization = _organization_or_404(request, pk)
    form = OrganizationForm(request.POST or None, user=request.user, instance=organization)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.organization_update(
                actor=request.user, organization=organization,
                **_organization_fields(form.cleaned_data),
            )  # fmt: skip
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Organization saved.")
            return redirect("people:organization_detail", pk=organization.pk)
    return render(request, "people/organization_form.html",
                  {"form": form, "organization": organization, "nav": "organizations"})  # fmt: skip


@login_required
@require_POST
def organization_trash(request: HttpRequest, pk: int) -> HttpResponse:
    organization = _organization_or_404(request, pk)
    try:
        services.organization_trash(actor=request.user, organization=organization)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("people:organization_detail", pk=organization.pk)
    messages.success(
        request, f"“{organization.name}” moved to the trash. You can restore it there."
    )
    return redirect("people:organization_list")


@login_required
@require_POST
def organization_restore(request: HttpRequest, pk: int) -> HttpResponse:
    organization = found_or_404(organization_get_with_trashed(user=request.user, pk=pk))
    try:
        organization = services.organization_restore(actor=request.user, organization=organization)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{organization.name}” restored.")
    return redirect("people:organization_detail", pk=organization.pk)


def _note(request: HttpRequest, record: Organization | Contact, **target: Any) -> HttpResponse:
    """Add a note to an organization's or contact's timeline; htmx gets the timeline back."""
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            activity_create(actor=request.user, body=form.cleaned_data["body"], **target)
        except DomainError as error:
            form.add_error("body", error.message)
        else:
            form = NoteForm()
    if getattr(request, "htmx", False):
        return render(request, "people/_timeline.html", {
            "timeline": people_timeline(user=request.user, **target), "note_form": form,
            "note_url": request.path, "show_contact": "organization" in target,
        })  # fmt: skip
    if form.errors:
        messages.error(request, " ".join(str(e) for e in form.errors["body"]))
    else:
        messages.success(request, "Note added.")
    name = "organization" if isinstance(record, Organization) else "contact"
    return redirect(f"people:{name}_detail", pk=record.pk)


@login_required
@require_POST
def organization_note(request: HttpRequest, pk: int) -> HttpResponse:
    organization = _organization_or_404(request, pk)
    return _note(request, organization, organization=organization)


# Contacts ------------------------------------------------------------------------------------


def _contact_or_404(request: HttpRequest, pk: int) -> Contact:
    return found_or_404(contact_get(user=request.user, pk=pk))


@login_required
@require_GET
def contact_list_view(request: HttpRequest) -> HttpResponseBase:
    params = _list_params(request, CONTACT_SORTS)
    params["organization_id"] = int_param(request, "organization") or None
    contacts = contact_list(user=request.user, **params)
    if request.GET.get("format") == "csv":
        return _csv_response(contacts, CONTACT_COLUMNS, "contacts")
    columns = [("name", "Name"), ("title", "Job title"), ("organization", "Organization"),
               ("owner", "Owner"), ("created", "Created")]  # fmt: skip
    return render(request, "people/contact_list.html", {
        "page_obj": Paginator(contacts, PAGE_SIZE).get_page(request.GET.get("page")),
        "filters": params,
        "filtered": bool(params["q"] or params["owner_id"] or params["organization_id"]),
        "sort_columns": _sort_columns(params["sort"], columns),
        "owners": user_list(user=request.user),
        "organizations": organization_queryset(user=request.user).only("pk", "name"),
        "nav": "contacts",
    })  # fmt: skip


@login_required
@require_GET
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact_or_404(request, pk)
    return render(request, "people/contact_detail.html", {
        "contact": contact,
        "deals": related_deals(user=request.user, contact=contact),
        "timeline": people_timeline(user=request.user, contact=contact),
        "note_form": NoteForm(), "nav": "contacts",
        "history": audit_history(obj=contact),
    })  # fmt: skip


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if organization_id := int_param(request, "organization"):
        initial["organization"] = organization_id
    form = ContactForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                actor=request.user, emails=form.email_inputs(), phones=form.phone_inputs(),
                **form.contact_fields(),
            )  # fmt: skip
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, f"Contact “{contact.full_name}” created.")
            return redirect("people:contact_detail", pk=contact.pk)
    return render(request, "people/contact_form.html", {"form": form, "nav": "contacts"})


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The contact's form; a save based on an older version than the stored one comes back
    with the others' changes named and the user's input kept (closeloop.core.stale)."""
    contact = _contact_or_404(request, pk)
    form = ContactForm(request.POST or None, user=request.user, instance=contact)
    stale = None
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_update(
                actor=request.user, contact=contact, emails=form.email_inputs(),
                phones=form.phone_inputs(), expected_version=form.cleaned_data["version"],
                **form.contact_fields(),
            )  # fmt: skip
        except StaleEditError as error:
            fresh = ContactForm(user=request.user, instance=error.record)
            data, stale = stale_rebind(request.POST, error=error, groups=form.stale_groups(fresh))
            form = ContactForm(data, user=request.user, instance=error.record)
            stale_mark(form, stale)
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, "Contact saved.")
            return redirect("people:contact_detail", pk=contact.pk)
    return render(request, "people/contact_form.html", {
        "form": form, "contact": contact, "nav": "contacts", "stale": stale,
        "stale_noun": "contact",
    })  # fmt: skip


@login_required
@require_POST
def contact_trash(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact_or_404(request, pk)
    try:
        services.contact_trash(actor=request.user, contact=contact)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("people:contact_detail", pk=contact.pk)
    messages.success(
        request, f"“{contact.full_name}” moved to the trash. You can restore it there."
    )
    return redirect("people:contact_list")


@login_required
@require_POST
def contact_restore(request: HttpRequest, pk: int) -> HttpResponse:
    contact = found_or_404(contact_get_with_trashed(user=request.user, pk=pk))
    try:
        contact = services.contact_restore(actor=request.user, contact=contact)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{contact.full_name}” restored.")
    return redirect("people:contact_detail", pk=contact.pk)


@login_required
@require_POST
def contact_note(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact_or_404(request, pk)
    return _note(request, contact, contact=contact)
