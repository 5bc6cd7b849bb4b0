"""Referral pages: the public landing page of a referral link, the report and the setting."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from closeloop.core.exceptions import DomainError
from closeloop.core.money import base_currency
from closeloop.core.ratelimit import RateLimited, client_ip, rate_limit_enforce
from closeloop.leads.webform_forms import public_fields
from closeloop.leads.webforms import (
    CONSENT_FIELD,
    FORM_KEY_FIELD,
    HONEYPOT_FIELD,
    STARTED_FIELD,
    webform_public_token,
    webform_started_token,
)

from .referral_forms import ReferralProgramForm
from .referral_selectors import booking_pages_public, referral_report
from .referrals import (
    COOKIE_MAX_AGE,
    COOKIE_NAME,
    COOKIE_SALT,
    referral_contact,
    referral_program,
    referral_program_set,
)

MAX_TOKEN = 200  # a genuine token is ~30 characters; longer input is not worth unsigning


def referral_request_token(request: HttpRequest) -> str:
    """The referral token a visitor brings: `?ref=` in the URL or form, else the signed cookie
    the landing page set. Unchecked here: referral_record_for_lead verifies its signature."""
    token = request.GET.get("ref") or request.POST.get("ref") or ""
    if not token:
        token = (
            request.get_signed_cookie(
                COOKIE_NAME, default="", salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE
            )
            or ""
        )
    return str(token)[:MAX_TOKEN]


def referral_query(request: HttpRequest) -> str:
    """`?ref=…` to carry a referral given in the URL on to a form's submit address, or ""."""
    token = request.GET.get("ref", "")[:MAX_TOKEN]
    return f"?{urlencode({'ref': token}, safe=':')}" if token else ""


def _form_context(webform: Any, token: str) -> dict[str, Any]:
    """What public/_webform_form.html needs, posting with the referral in its URL (so the
    referral holds even where the browser refuses the cookie)."""
    submit_url = reverse("webforms:public_submit", args=[webform_public_token(webform)])
    return {
        "webform": webform,
        "submit_url": submit_url + (f"?{urlencode({'ref': token}, safe=':')}" if token else ""),
        "fields": public_fields(webform),
        "form_errors": [],
        "started": webform_started_token(webform),
        "utm": {},
        "consent": False,
        "honeypot_field": HONEYPOT_FIELD,
        "started_field": STARTED_FIELD,
        "form_key_field": FORM_KEY_FIELD,
        "consent_field": CONSENT_FIELD,
    }


@require_GET
def referral_landing(request: HttpRequest, token: str) -> HttpResponse:
    """Where a referral link leads: remember the referrer for 90 days (signed cookie) and show
    the referral web form, or the booking pages. A tampered link shows the same page without
    the referral (and sets no cookie); it says nothing about why."""
    try:
        rate_limit_enforce(
            key=f"referral:view:{client_ip(request)}",
            limit=int(getattr(settings, "REFERRAL_RATE_PER_IP", 60)),
            message="Too many requests from your network. Please wait a minute and try again.",
        )
    except RateLimited as error:
        response = render(request, "aftersales/referrals/limited.html", status=429)
        response["Retry-After"] = str(error.retry_after)
        return response
    token = token[:MAX_TOKEN]
    referrer = referral_contact(token)
    if referrer is None:
        token = ""
    program = referral_program()
    webform = program.webform if program.webform and program.webform.is_active else None
    context: dict[str, Any] = {
        "referrer_name": referrer.first_name if referrer is not None else "",
        "has_referral": referrer is not None,
        "booking_pages": [] if webform else booking_pages_public(),
        "ref_query": f"?{urlencode({'ref': token}, safe=':')}" if token else "",
    }
    if webform is not None:
        context |= _form_context(webform, token)
    response = render(request, "aftersales/referrals/landing.html", context)
    if referrer is not None:
        response.set_signed_cookie(
            COOKIE_NAME,
            token,
            salt=COOKIE_SALT,
            max_age=int(COOKIE_MAX_AGE.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def referral_report_view(request: HttpRequest) -> HttpResponse:
    """Who brings business: the referrers the user may see, most won value first."""
    context = {
        "nav": "customers",
        "rows": referral_report(user=request.user),
        "currency": base_currency(),
    }
    return render(request, "aftersales/referrals/report.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def referral_settings_view(request: HttpRequest) -> HttpResponse:
    """Admins and managers choose the web form of the referral landing page."""
    user: Any = request.user
    if not (user.is_admin or user.is_manager):
        raise PermissionDenied("Only admins and managers can change the referral settings.")
    program = referral_program()
    form = ReferralProgramForm(request.POST or None, initial={"webform": program.webform})
    if request.method == "POST" and form.is_valid():
        try:
            referral_program_set(actor=user, webform=form.cleaned_data["webform"])
        except DomainError as error:
            form.add_error("webform" if error.field == "webform" else None, error.message)
        else:
            messages.success(request, "Referral settings saved.")
            return redirect("settings:referrals")
    context = {"nav": "settings", "section": "referrals", "form": form}
    return render(request, "aftersales/referrals/settings.html", context)
