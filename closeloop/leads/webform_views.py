"""Web form pages: the builder (admins and managers) and the public form visitors fill in."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closeloop.aftersales.referral_views import referral_query, referral_request_token
from closeloop.core.csp import csp_allow
from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404
from closeloop.core.ratelimit import RateLimited, client_ip

from .models import WebForm
from .webform_forms import (
    WebFormFieldsForm,
    WebFormSettingsForm,
    public_fields,
    submission_from_post,
    utm_from,
    webform_input,
)
from .webform_submissions import SubmissionInvalid, webform_submit
from .webforms import (
    CONSENT_FIELD,
    FORM_KEY_FIELD,
    HONEYPOT_FIELD,
    STARTED_FIELD,
    UTM_FIELDS,
    webform_create,
    webform_for_token,
    webform_get,
    webform_list,
    webform_public_token,
    webform_set_active,
    webform_started_token,
    webform_update,
)

View = Callable[..., HttpResponse]


def webform_admin_required(view: View) -> View:
    """Only admins and managers build web forms; reps get 403, visitors the login page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: Any = request.user
        if not (user.is_admin or user.is_manager):
            raise PermissionDenied("Only admins and managers can build web forms.")
        return view(request, *args, **kwargs)

    return wrapped


# --- builder -------------------------------------------------------------------------------


@webform_admin_required
@require_GET
def webform_list_view(request: HttpRequest) -> HttpResponse:
    context = {"nav": "settings", "section": "webforms", "webforms": webform_list()}
    return render(request, "leads/webforms/list.html", context)


def _save(request: HttpRequest, webform: WebForm | None) -> HttpResponse:
    """The create and edit page: two forms (settings, fields) posted as one."""
    settings_form = WebFormSettingsForm(
        request.POST or None,
        user=request.user,
        initial=WebFormSettingsForm.initial_for(webform) if webform else None,
    )
    fields_form = WebFormFieldsForm(
        request.POST or None, initial=WebFormFieldsForm.initial_for(webform)
    )
    if request.method == "POST" and settings_form.is_valid() and fields_form.is_valid():
        data = webform_input(settings_form, fields_form)
        try:
            if webform is None:
                webform = webform_create(actor=request.user, data=data)
                messages.success(request, f"Web form “{webform.name}” created. Embed it below.")
                return redirect("webforms:embed", pk=webform.pk)
            webform = webform_update(actor=request.user, webform=webform, data=data)
        except DomainError as error:
            if error.field == "fields":
                fields_form.add_error(None, error.message)
            else:
                target = error.field if error.field in settings_form.fields else None
                settings_form.add_error(target, error.message)
        else:
            messages.success(request, f"Web form “{webform.name}” saved.")
            return redirect("webforms:list")
    context = {
        "nav": "settings",
        "section": "webforms",
        "webform": webform,
        "form": settings_form,
        "fields_form": fields_form,
    }
    return render(request, "leads/webforms/form.html", context)


@webform_admin_required
@require_http_methods(["GET", "POST"])
def webform_create_view(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@webform_admin_required
@require_http_methods(["GET", "POST"])
def webform_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _save(request, found_or_404(webform_get(pk=pk)))


@webform_admin_required
@require_POST
def webform_set_active_view(request: HttpRequest, pk: int) -> HttpResponse:
    webform = found_or_404(webform_get(pk=pk))
    active = request.POST.get("active") == "1"
    try:
        webform = webform_set_active(actor=request.user, webform=webform, is_active=active)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        state = "active: it accepts submissions" if active else "inactive: its page answers 404"
        messages.success(request, f"“{webform.name}” is now {state}.")
    return redirect("webforms:list")


def _public_url(request: HttpRequest, name: str, token: str) -> str:
    return request.build_absolute_uri(reverse(name, args=[token]))


@webform_admin_required
@require_GET
def webform_embed_view(request: HttpRequest, pk: int) -> HttpResponse:
    webform = found_or_404(webform_get(pk=pk))
    token = webform_public_token(webform)
    fields = public_fields(webform)
    snippet = {
        "webform": webform,
        "token": token,
        "dom_id": f"closeloop-form-{webform.pk}",
        "frame_id": f"closeloop-frame-{webform.pk}",
        "page_url": _public_url(request, "webforms:public_form", token),
        "submit_url": _public_url(request, "webforms:public_submit", token),
        "started_url": _public_url(request, "webforms:public_started", token),
        "fields": fields,
        "height": 160 + 85 * len(fields) + (90 if webform.consent_text else 0),
        "utm_fields": UTM_FIELDS,
        **_field_names(),
    }
    context = {
        "nav": "settings",
        "section": "webforms",
        "webform": webform,
        "page_url": snippet["page_url"],
        "iframe_snippet": render_to_string("leads/webforms/_iframe_snippet.html", snippet).strip(),
        "html_snippet": render_to_string("leads/webforms/_html_snippet.html", snippet).strip(),
    }
    return render(request, "leads/webforms/embed.html", context)


# --- public pages --------------------------------------------------------------------------
# These pages may be shown in an iframe on a customer's website, so they (and only they) are
# exempt from the X-Frame-Options: DENY the rest of the app sends.


def _field_names() -> dict[str, str]:
    return {
        "honeypot_field": HONEYPOT_FIELD,
        "started_field": STARTED_FIELD,
        "form_key_field": FORM_KEY_FIELD,
        "consent_field": CONSENT_FIELD,
    }


def _unavailable(request: HttpRequest, webform: WebForm | None) -> HttpResponse:
    # A tampered or unknown key and an inactive form look the same from outside: 404.
    context = {"inactive": webform is not None}
    return render(request, "public/webform_unavailable.html", context, status=404)


def _render_public(
    request: HttpRequest, webform: WebForm, token: str, *, status: int = 200, **state: Any
) -> HttpResponse:
    errors: dict[str, str] = state.get("errors") or {}
    context = {
        "webform": webform,
        "submit_url": reverse("webforms:public_submit", args=[token]) + referral_query(request),
        "fields": public_fields(webform, values=state.get("values"), errors=errors),
        "form_errors": [message for name, message in errors.items() if not name],
        "started": webform_started_token(webform),
        "utm": state.get("utm") or {},
        "consent": state.get("consent", False),
        **_field_names(),
    }
    response = render(request, "public/webform.html", context, status=status)
    origin = _redirect_origin(webform.redirect_url)
    if origin:
        # a browser applies the page's form-action to where the submission redirects to as well
        csp_allow(response, "form-action", origin)
    return response


_ORIGIN_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def _redirect_origin(url: str) -> str:
    """The http(s) origin of a thank-you address, for the page's form-action; "" for anything
    else, so a stored address can never add a source the policy does not mean (a
    `javascript:` scheme) or a directive of its own (a host with "; script-src *" in it)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not _ORIGIN_HOST.fullmatch(parts.netloc):
        return ""
    return f"{parts.scheme}://{parts.netloc}"


@xframe_options_exempt
@require_GET
def public_form(request: HttpRequest, token: str) -> HttpResponse:
    webform = webform_for_token(token=token)
    if webform is None or not webform.is_active:
        return _unavailable(request, webform)
    return _render_public(request, webform, token, utm=utm_from(request.GET))


# Posts come from forms on customers' own websites, which cannot carry our CSRF token, so CSRF
# protection is off for this one view. Nothing here acts on a logged-in user's behalf; instead
# the signed form key, the honeypot, the signed minimum-fill-time stamp and the per-IP and
# per-form rate limits guard it.
@csrf_exempt
@xframe_options_exempt
@require_POST
def public_submit(request: HttpRequest, token: str) -> HttpResponse:
    webform = webform_for_token(token=token)
    posted_key = request.POST.get(FORM_KEY_FIELD)
    if webform is None or not webform.is_active or (posted_key and posted_key != token):
        return _unavailable(request, webform)
    submission = submission_from_post(
        webform=webform, post=request.POST, query=request.GET, ip=client_ip(request)
    )
    submission.referral = referral_request_token(request)
    try:
        webform_submit(webform=webform, submission=submission)
    except DomainError as error:
        # The form comes back with the visitor's values and the message, so nothing is lost.
        errors = error.errors if isinstance(error, SubmissionInvalid) else {"": error.message}
        response = _render_public(
            request, webform, token, status=429 if isinstance(error, RateLimited) else 400,
            errors=errors, values=submission.values, utm=submission.utm,
            consent=submission.consent,
        )  # fmt: skip
        if isinstance(error, RateLimited):
            response["Retry-After"] = str(error.retry_after)
        return response
    return redirect(webform.redirect_url or reverse("webforms:public_thanks", args=[token]))


@xframe_options_exempt
@require_GET
def public_thanks(request: HttpRequest, token: str) -> HttpResponse:
    webform = webform_for_token(token=token)
    if webform is None:
        return _unavailable(request, webform)
    return render(request, "public/webform_thanks.html", {"webform": webform})


@require_GET
def public_started(request: HttpRequest, token: str) -> HttpResponse:
    """A fresh "form shown at" stamp for the plain HTML form embedded on another site."""
    webform = webform_for_token(token=token)
    if webform is None or not webform.is_active:
        response = JsonResponse({"error": "Not found"}, status=404)
    else:
        response = JsonResponse({"started": webform_started_token(webform)})
    # Read by a script on the customer's site: any origin may read it; it carries no cookies.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "no-store"
    return response
