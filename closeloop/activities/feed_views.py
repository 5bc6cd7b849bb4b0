"""The public calendar feed, and the profile's calendar feed and reminder settings."""

from __future__ import annotations

import hashlib
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect
from django.views.decorators.http import require_POST, require_safe

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.core.ratelimit import RateLimited, client_ip, rate_limit_enforce

from .calendar_forms import ReminderSettingsForm
from .feed import calendar_feed_ics, calendar_feed_reset, calendar_feed_user
from .reminders import user_reminders_update


@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The user's activities as ICS, for calendar apps; no login, the signed token is the key."""
    try:
        rate_limit_enforce(
            key=f"calendar-feed:{client_ip(request)}",
            limit=settings.CALENDAR_FEED_RATE_PER_IP,
            message="Too many calendar requests; try again in a minute.",
        )
    except RateLimited as error:
        refused = HttpResponse(error.message, status=429, content_type="text/plain")
        refused["Retry-After"] = str(error.retry_after)
        return refused
    user = calendar_feed_user(token)
    if user is None:
        raise Http404  # the same answer for a tampered, revoked or deactivated user's link
    body = calendar_feed_ics(user=user)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {
        "ETag": etag,
        # the link is a secret: no shared cache may keep it; apps poll at most every few minutes
        "Cache-Control": "private, max-age=300",
        "X-Robots-Tag": "noindex",
    }
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="closeloop.ics"'
    for name, value in headers.items():
        response[name] = value
    return response


@login_required
@require_POST
def feed_reset(request: HttpRequest) -> HttpResponse:
    """A new feed link (or none, when switched off); every older link stops working."""
    enabled = request.POST.get("action") != "off"
    user = cast(User, request.user)
    had_one = bool(user.calendar_feed_key)
    calendar_feed_reset(actor=user, user=user, enabled=enabled)
    if not enabled:
        messages.success(request, "Your calendar feed is switched off; its link no longer works.")
    elif had_one:
        messages.success(request, "Your calendar feed has a new link; the old one no longer works.")
    else:
        messages.success(request, "Your calendar feed link is ready.")
    return redirect("accounts:profile")


@login_required
@require_POST
def reminders(request: HttpRequest) -> HttpResponse:
    """Save the meeting reminder and morning digest settings of the profile."""
    user = cast(User, request.user)
    form = ReminderSettingsForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for text in errors:
                messages.error(request, str(text))
        return redirect("accounts:profile")
    try:
        user_reminders_update(actor=user, user=user, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your reminder settings are saved.")
    return redirect("accounts:profile")
