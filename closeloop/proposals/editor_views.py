"""Starting a proposal on a deal, and the proposal page: lines, live totals, terms, materials.

A proposal the user may not see answers 404 to every request, read or write.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from closeloop.core.exceptions import DomainError, StaleEditError
from closeloop.core.http import found_or_404
from closeloop.core.selectors import audit_history
from closeloop.core.stale import FieldGroup, StaleEdit, simple_groups, stale_mark, stale_rebind
from closeloop.messaging.merge import MERGE_FIELDS
from closeloop.pipeline.selectors import deal_get

from . import services
from .catalogue_views import editor_context, materials_change, products_by_pk
from .choices import ProposalStatus
from .forms import (
    DELIVERY_INPUTS,
    INSTALMENT_INPUTS,
    LINE_INPUTS,
    ProposalForm,
    RowsPosted,
    StartForm,
    lines_in,
)
from .materials_http import material_response
from .models import Proposal
from .selectors import (
    material_get,
    proposal_get,
    proposal_list,
    proposal_start_suggestions,
    template_list,
)
from .services.proposals import EDITABLE


def _proposal_or_404(request: HttpRequest, pk: int) -> Proposal:
    return found_or_404(proposal_get(user=request.user, pk=pk))


@login_required
def proposal_new(request: HttpRequest, deal_pk: int) -> HttpResponse:
    """The picker: start from a template, from an earlier proposal (searchable), or blank."""
    deal = found_or_404(deal_get(user=request.user, pk=deal_pk))
    form = StartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        kind, _, pk = form.cleaned_data["start"].partition(":")
        source: dict[str, Any] = {}
        if kind == "template":
            source["template"] = found_or_404(template_list().filter(pk=pk or 0).first())
        elif kind == "proposal":
            source["based_on"] = found_or_404(
                proposal_list(user=request.user).filter(pk=pk or 0).first()
            )
        try:
            proposal = services.proposal_create(
                actor=request.user, deal=deal, title=form.cleaned_data["title"], **source
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Proposal “{proposal.title}” started.")
            return redirect("proposals:detail", pk=proposal.pk)
    query = request.GET.get("q", "").strip()
    return render(request, "proposals/new.html", {
        "nav": "deals", "deal": deal, "form": form, "query": query,
        "templates": template_list().filter(currency=deal.currency),
        "suggestions": proposal_start_suggestions(user=request.user, deal=deal, query=query),
    })  # fmt: skip


def _page(
    request: HttpRequest,
    proposal: Proposal,
    form: ProposalForm,
    rows: RowsPosted,
    row_errors: dict[str, str] | None = None,
    version: int | None = None,
    stale: StaleEdit | None = None,
) -> HttpResponse:
    try:
        totals = services.totals_preview(
            proposal=proposal, lines=lines_in(rows.lines, products_by_pk(rows))
        )
    except DomainError:
        totals = None  # the form shows the error; the totals wait for valid lines
    return render(request, "proposals/detail.html", {
        "nav": "deals", "proposal": proposal, "deal": proposal.deal, "form": form,
        "row_errors": row_errors or {}, "totals": totals, "fields": MERGE_FIELDS.values(),
        "editable": proposal.status in EDITABLE, "form_version": version or proposal.version,
        "materials": list(proposal.materials.all()), "statuses": ProposalStatus,
        "history": audit_history(obj=proposal), "stale": stale,
        **editor_context(rows, proposal.currency),
    })  # fmt: skip


def _row_data(prefix: str, inputs: tuple[str, ...], rows: list[dict[str, str]]) -> dict[str, Any]:
    return {f"{prefix}_{name}": [row.get(name, "") for row in rows] for name in inputs}


def _stale_page(
    request: HttpRequest, form: ProposalForm, rows: RowsPosted, error: StaleEditError
) -> HttpResponse:
    """The refused editor again: the user's input kept, the others' changes named; texts,
    lines and rows of terms the user left alone show the others' new values."""
    current = error.record
    fresh = ProposalForm(initial={"title": current.title})
    fresh.terms_initial(current)
    stored = RowsPosted.from_stored(current, current.lines.all())
    try:
        lines = lines_in(rows.lines, products_by_pk(rows))
    except DomainError:
        lines = None
    logged = services.proposal_edit_as_logged(
        proposal=current, lines=lines or [], terms=rows.terms(form.cleaned_data["payment_terms"])
    )
    if lines is None:
        logged["lines"] = None
    groups = simple_groups(form, fresh, ["title", *ProposalForm.TERMS])
    for name, prefix, inputs, stored_rows in (
        ("lines", "line", LINE_INPUTS, stored.lines),
        ("instalments", "inst", INSTALMENT_INPUTS, stored.instalments),
        ("delivery", "dlv", DELIVERY_INPUTS, stored.delivery),
    ):
        groups[name] = FieldGroup(
            owns=lambda key, prefix=prefix: key.startswith(f"{prefix}_"),  # type: ignore[misc]
            posted=logged[name],
            current=_row_data(prefix, inputs, stored_rows),
        )
    data, stale = stale_rebind(request.POST, error=error, groups=groups)
    form = ProposalForm(data)
    stale_mark(form, stale)
    return _page(
        request, current, form, RowsPosted.from_post(data), version=current.version, stale=stale
    )


@login_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The working page; a save carries the version the form was opened at, so a stale copy
    is refused (and shown again) rather than overwriting someone's change."""
    proposal = _proposal_or_404(request, pk)
    if request.method != "POST":
        form = ProposalForm(initial={"title": proposal.title})
        form.terms_initial(proposal)
        return _page(
            request, proposal, form, RowsPosted.from_stored(proposal, proposal.lines.all())
        )
    form = ProposalForm(request.POST)
    rows = RowsPosted.from_post(request.POST)
    posted_version = request.POST.get("version", "")
    version = int(posted_version) if posted_version.isdigit() else 0
    if not form.is_valid():
        return _page(request, proposal, form, rows, version=version)
    data = form.cleaned_data
    try:
        services.proposal_edit(
            actor=request.user,
            proposal=proposal,
            expected_version=version,
            lines=lines_in(rows.lines, products_by_pk(rows)),
            **data,
            **rows.terms(data["payment_terms"]),
        )
    except StaleEditError as error:
        return _stale_page(request, form, rows, error)
    except DomainError as error:
        return _page(request, proposal, form, rows, form.domain_error(error), version=version)
    messages.success(request, "Proposal saved.")
    return redirect("proposals:detail", pk=proposal.pk)


@login_required
@require_POST
def proposal_totals(request: HttpRequest, pk: int) -> HttpResponse:
    """The totals of the lines as they are in the form, unsaved (htmx, while editing)."""
    proposal = _proposal_or_404(request, pk)
    rows = RowsPosted.from_post(request.POST)
    context: dict[str, Any] = {"proposal": proposal}
    try:
        context["totals"] = services.totals_preview(
            proposal=proposal, lines=lines_in(rows.lines, products_by_pk(rows))
        )
    except DomainError as error:
        context["totals_error"] = error.message
    return render(request, "proposals/_totals.html", context)


@login_required
@require_POST
def proposal_materials(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload files to the proposal (several at once), or take one off (`remove`)."""
    proposal = _proposal_or_404(request, pk)
    materials_change(
        request,
        proposal,
        add=lambda uploads: services.proposal_materials_add(
            actor=request.user, proposal=proposal, uploads=uploads
        ),
        remove=lambda material: services.proposal_material_remove(
            actor=request.user, proposal=proposal, material=material
        ),
    )
    return redirect("proposals:detail", pk=proposal.pk)


@login_required
def material_download(request: HttpRequest, pk: int) -> FileResponse:
    """A material of a template or of a proposal the user may see, as a download."""
    material = material_get(user=request.user, pk=pk)
    if material is None:
        raise Http404("No such file.")
    return material_response(material)
