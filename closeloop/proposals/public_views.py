"""The customer's side of a proposal, at /p/<token>/: no account, only the signed link.

A tampered link and a link to nothing answer 404, an old one 410, both with a page that says
no more than that. Answers are rate limited per address and carry Django's CSRF token (the
forms are on our own page).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.ratelimit import RateLimited, client_ip, rate_limit_enforce

from .document import version_context
from .links import LinkExpired, LinkInvalid, version_from_token, version_public_url
from .materials_http import material_response
from .models import Material, ProposalVersion
from .response_selectors import latest_version, version_state
from .services import (
    ResponseRefused,
    Visitor,
    proposal_accept,
    proposal_decline,
    proposal_request_changes,
)
from .version_files import version_pdf_response


def _unavailable(request: HttpRequest, *, expired: bool) -> HttpResponse:
    return render(
        request,
        "proposals/public_unavailable.html",
        {"expired": expired},
        status=410 if expired else 404,
    )


def _version(request: HttpRequest, token: str) -> ProposalVersion | HttpResponse:
    try:
        return version_from_token(token)
    except LinkExpired:
        return _unavailable(request, expired=True)
    except LinkInvalid:
        return _unavailable(request, expired=False)


def _newer_url(version: ProposalVersion) -> str:
    # The same customer holds this link, so a fresh link to the version that replaced it
    # reveals nothing they were not sent.
    latest = latest_version(version.proposal)
    return version_public_url(latest) if latest and latest.number > version.number else ""


def _page(
    request: HttpRequest,
    version: ProposalVersion,
    token: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HttpResponse:
    context = version_context(
        version,
        material_url=lambda pk: reverse("proposals_public:material", args=[token, pk]),
    )
    context.update(
        token=token,
        state=version_state(version),
        newer_url=_newer_url(version),
        errors=errors or {},
        values=values or {},
        open=(values or {}).get("form", ""),
    )
    return render(request, "proposals/public.html", context, status=status)


@require_GET
def view(request: HttpRequest, token: str) -> HttpResponse:
    version = _version(request, token)
    if isinstance(version, HttpResponse):
        return version
    return _page(request, version, token)


@require_GET
def pdf(request: HttpRequest, token: str) -> HttpResponse:
    version = _version(request, token)
    if isinstance(version, HttpResponse):
        return version
    return version_pdf_response(version)


@require_GET
def material(request: HttpRequest, token: str, pk: int) -> HttpResponseBase:
    """A material listed in this version (only those), as a download."""
    version = _version(request, token)
    if isinstance(version, HttpResponse):
        return version
    if pk not in {m["id"] for m in version.snapshot.get("materials", [])}:
        raise Http404("Not found")
    found = Material.objects.filter(pk=pk).first()
    if found is None:
        raise Http404("Not found")
    return material_response(found)


def _ip(request: HttpRequest) -> str | None:
    """The client's address as recorded with an answer (None when the server gives none)."""
    address = client_ip(request)
    try:
        validate_ipv46_address(address)
    except ValidationError:
        return None
    return address


def _answer(request: HttpRequest, token: str, form: str) -> HttpResponse:
    version = _version(request, token)
    if isinstance(version, HttpResponse):
        return version
    post = request.POST
    values: dict[str, Any] = {
        "form": form,
        "name": post.get("name", ""),
        "consent": post.get("consent") == "on",
        "reason": post.get("reason", ""),
        "comment": post.get("comment", ""),
    }
    visitor = Visitor(ip=_ip(request), user_agent=request.headers.get("User-Agent", ""))
    try:
        # counted before (and outside) the answer's transaction, so refused tries count too
        rate_limit_enforce(
            key=f"proposal:ip:{visitor.ip or 'unknown'}",
            limit=int(getattr(settings, "PROPOSAL_RATE_PER_IP", 20)),
            message="Too many answers from your network. Please wait a minute and try again.",
        )
        if form == "accept":
            proposal_accept(
                version=version, name=values["name"], consent=values["consent"], visitor=visitor
            )
        elif form == "decline":
            proposal_decline(version=version, reason=values["reason"], visitor=visitor)
        else:
            proposal_request_changes(version=version, comment=values["comment"], visitor=visitor)
    except ResponseRefused as refused:
        context = {"message": refused.message, "reason": refused.reason, "token": token}
        context["newer_url"] = _newer_url(version) if refused.reason == "superseded" else ""
        return render(request, "proposals/public_refused.html", context, status=409)
    except RateLimited as limited:
        response = _page(
            request, version, token, status=429, errors={"": limited.message}, values=values
        )
        response["Retry-After"] = str(limited.retry_after)
        return response
    except DomainError as error:
        errors = {error.field or "": error.message}
        return _page(request, version, token, status=400, errors=errors, values=values)
    return redirect(reverse("proposals_public:view", args=[token]) + "#answer", permanent=False)


@require_POST
def accept(request: HttpRequest, token: str) -> HttpResponse:
    return _answer(request, token, "accept")


@require_POST
def decline(request: HttpRequest, token: str) -> HttpResponse:
    return _answer(request, token, "decline")


@require_POST
def changes(request: HttpRequest, token: str) -> HttpResponse:
    return _answer(request, token, "changes")
