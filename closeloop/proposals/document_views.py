"""The team's view of the proposal document: the draft preview, each sent version, their PDFs,
and sending. Every page answers 404 for a proposal the user may not see."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from .document import document_context, draft_snapshot, version_context
from .models import Proposal, ProposalVersion
from .pdf import document_pdf
from .selectors import proposal_get
from .send_forms import ProposalSendForm
from .services import proposal_send, send_blocker
from .services.sending import CLOSED, default_recipient
from .version_files import pdf_response, pdf_unavailable, version_pdf_response


def _proposal(request: HttpRequest, pk: int) -> Proposal:
    return found_or_404(proposal_get(user=request.user, pk=pk))


def _version(request: HttpRequest, pk: int, number: int) -> ProposalVersion:
    proposal = _proposal(request, pk)
    version = proposal.versions.filter(number=number).first()
    if version is None:
        raise Http404("Not found")
    version.proposal = proposal
    return version


def _draft_context(request: HttpRequest, proposal: Proposal) -> dict[str, Any]:
    return document_context(draft_snapshot(proposal, actor=request.user))


@login_required
@require_GET
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft as the customer would see it if it were sent now."""
    proposal = _proposal(request, pk)
    try:
        context = _draft_context(request, proposal)
    except DomainError as error:
        return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")
    context.update(proposal=proposal, version=None, back_url=_back_url(proposal))
    return render(request, "proposals/preview.html", context)


@login_required
@require_GET
def preview_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal(request, pk)
    try:
        content = document_pdf(_draft_context(request, proposal))
    except DomainError as error:
        return pdf_unavailable(error)
    return pdf_response(content, f"proposal-{proposal.pk}-draft.pdf")


@login_required
@require_GET
def version_document(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """A sent version's document, exactly as frozen."""
    version = _version(request, pk, number)
    context = version_context(version)
    context.update(proposal=version.proposal, version=version, back_url=_back_url(version.proposal))
    return render(request, "proposals/preview.html", context)


@login_required
@require_GET
def version_pdf(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    return version_pdf_response(_version(request, pk, number))


def _back_url(proposal: Proposal) -> str:
    """The proposal's own page."""
    return reverse("proposals:detail", args=[proposal.pk])


def _next_url(request: HttpRequest, proposal: Proposal, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return _back_url(proposal)


def send_panel_context(proposal: Proposal, *, user: Any, form: ProposalSendForm | None = None,
                       next_url: str = "") -> dict[str, Any]:  # fmt: skip
    """What the send panel shows: the blocker (if any), whom it goes to, the form."""
    return {
        "proposal": proposal,
        "blocker": send_blocker(proposal, actor=user),
        "default_to": default_recipient(proposal.deal),
        "send_form": form or ProposalSendForm(initial={"next": next_url}),
        "closed": proposal.status in CLOSED,
    }


@login_required
@require_http_methods(["GET", "POST"])
def send(request: HttpRequest, pk: int) -> HttpResponse:
    """The send page (the proposal page's panel posts here too)."""
    proposal = _proposal(request, pk)
    form = ProposalSendForm(request.POST or None, initial={"next": request.GET.get("next", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = proposal_send(
                actor=request.user,
                proposal=proposal,
                note=data["note"],
                to=data["to"],
                message=data["message"],
            )
        except DomainError as error:
            field = error.field if error.field in form.fields else None
            form.add_error(field, error.message)
        else:
            to = version.snapshot["customer"]["email"] if not data["to"] else data["to"]
            messages.success(
                request, f"Version {version.number} of “{proposal.title}” is on its way to {to}."
            )
            return redirect(_next_url(request, proposal, data["next"]))
        proposal.refresh_from_db()
    context = send_panel_context(proposal, user=request.user, form=form)
    context.update(nav="deals", back_url=_back_url(proposal), versions=proposal.versions.all())
    return render(request, "proposals/send.html", context, status=400 if form.errors else 200)
