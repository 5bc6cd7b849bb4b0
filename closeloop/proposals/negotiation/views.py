"""Pages for negotiating a proposal: versions and what changed, discount approvals."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from ..selectors import proposal_get
from ..services import approval_decide, approval_request
from ..services.negotiation import version_note_set
from .selectors import approval_get, approval_inbox, version_list, version_page


def _back(request: HttpRequest, pk: int) -> HttpResponse:
    """Back where the form was (a same-site page), else to the proposal."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("proposals:detail", pk=pk)


@login_required
@require_GET
def versions(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = found_or_404(proposal_get(user=request.user, pk=pk))
    return render(
        request,
        "proposals/versions.html",
        {"proposal": proposal, "versions": version_list(proposal=proposal), "nav": "deals"},
    )


@login_required
@require_GET
def version_detail(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    page = found_or_404(version_page(user=request.user, proposal_pk=pk, number=number))
    return render(
        request,
        "proposals/version_detail.html",
        {
            "page": page,
            "proposal": page.proposal,
            "version": page.version,
            "snapshot": page.version.snapshot,
            "nav": "deals",
        },
    )


@login_required
@require_POST
def version_note(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    page = found_or_404(version_page(user=request.user, proposal_pk=pk, number=number))
    try:
        version_note_set(
            actor=request.user, version=page.version, note=request.POST.get("note", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The note on version {number} is saved.")
    return redirect("proposals:version", pk=pk, number=number)


@login_required
@require_POST
def approval_ask(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = found_or_404(proposal_get(user=request.user, pk=pk))
    try:
        approval_request(
            actor=request.user, proposal=proposal, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Approval requested; the managers are told.")
    return _back(request, pk)


@login_required
@require_POST
def approval_decision(request: HttpRequest, approval_pk: int) -> HttpResponse:
    approval = found_or_404(approval_get(user=request.user, pk=approval_pk))
    decision = request.POST.get("decision", "")
    try:
        if decision not in ("approve", "reject"):
            raise DomainError("Choose approve or reject.", field="decision")
        approval_decide(
            actor=request.user,
            approval=approval,
            approve=decision == "approve",
            note=request.POST.get("note", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        verb = "approved" if decision == "approve" else "rejected"
        messages.success(request, f"The discount on “{approval.proposal.title}” is {verb}.")
    return _back(request, approval.proposal_id)


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "proposals/approvals.html",
        {"approvals": approval_inbox(user=request.user), "nav": "proposals"},
    )
