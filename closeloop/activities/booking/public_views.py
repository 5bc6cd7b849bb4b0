"""The public booking pages under /book/: no login, rate limited, CSRF-protected forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from closeloop.aftersales.referral_views import referral_request_token
from closeloop.core.exceptions import DomainError
from closeloop.core.ratelimit import RateLimited, client_ip, rate_limit_enforce
from closeloop.core.zones import zone_names, zone_or_default

from .forms import VisitorForm
from .models import Booking, BookingPage, MeetingType
from .selectors import (
    booking_page_public,
    free_slots_for,
    meeting_type_public,
    meeting_types_public,
    slot_rules,
)
from .services import (
    SlotTaken,
    TokenExpired,
    booking_cancel,
    booking_create,
    booking_for_token,
    booking_reschedule,
    booking_token,
)
from .slots import day_range, group_by_day, zone_or_none

DAYS_SHOWN = 7
View = Callable[..., HttpResponse]


def rate_limited(view: View) -> View:
    """Count each request per address: page views and posts have their own limits."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        posting = request.method == "POST"
        kind, limit = (
            ("post", settings.BOOKING_RATE_PER_IP)
            if posting
            else ("view", settings.BOOKING_VIEW_RATE_PER_IP)
        )
        try:
            rate_limit_enforce(
                key=f"booking:{kind}:{client_ip(request)}",
                limit=int(limit),
                message="Too many requests from your network. Please wait a minute and try again.",
            )
        except RateLimited as error:
            response = render(
                request, "public/booking_error.html", {"message": error.message}, status=429
            )
            response["Retry-After"] = str(error.retry_after)
            return response
        return view(request, *args, **kwargs)

    return wrapped


def _not_found(request: HttpRequest) -> HttpResponse:
    message = "This booking page does not exist or is not taking bookings."
    return render(request, "public/booking_error.html", {"message": message}, status=404)


def _visitor_zone(params: Mapping[str, str]) -> tuple[str, ZoneInfo, bool]:
    """The visitor's zone from ?tz= (set by the page's script or the picker), else the default.

    The third value says whether it was chosen: without one, the page's script asks the browser.
    """
    name = (params.get("tz") or "").strip()
    zone = zone_or_none(name)
    if zone is None:
        return settings.TIME_ZONE, zone_or_default(""), False
    return name, zone, True


def _first_day(params: Mapping[str, str], zone: ZoneInfo, now: dt.datetime) -> dt.date:
    today = now.astimezone(zone).date()
    try:
        asked = dt.date.fromisoformat(params.get("day") or "")
    except ValueError:
        return today
    return max(today, min(asked, today + dt.timedelta(days=400)))


def _slot_days(
    params: Mapping[str, str], meeting_type: MeetingType, *, users: Any = None,
    ignore: Any = None,
) -> dict[str, Any]:  # fmt: skip
    """The week of free slots the visitor asked for, in their zone, with the way on and back."""
    tz_name, zone, chosen = _visitor_zone(params)
    now = timezone.now()
    first = _first_day(params, zone, now)
    start, end = day_range(first, DAYS_SHOWN, zone)
    free = free_slots_for(
        meeting_type=meeting_type, start=start, end=end, now=now, users=users, ignore=ignore
    )
    by_day = group_by_day(free, zone)
    days = [
        (first + dt.timedelta(days=n), by_day.get(first + dt.timedelta(days=n), []))
        for n in range(DAYS_SHOWN)
    ]
    today = now.astimezone(zone).date()
    last_day = (now + slot_rules(meeting_type).horizon).astimezone(zone).date()
    step = dt.timedelta(days=DAYS_SHOWN)
    return {
        "tz": tz_name,
        "tz_chosen": chosen,
        "zones": zone_names(),
        "days": days,
        "any_slot": bool(free),
        "previous_day": (first - step).isoformat() if first > today else "",
        "next_day": (first + step).isoformat() if first + step <= last_day else "",
        "day": first.isoformat(),
    }


def _query(**params: str) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v})


def _page_and_type(slug: str, type_pk: int) -> tuple[BookingPage | None, MeetingType | None]:
    page = booking_page_public(slug=slug)
    if page is None:
        return None, None
    return page, meeting_type_public(page=page, pk=type_pk)


@rate_limited
@require_GET
def page_view(request: HttpRequest, slug: str) -> HttpResponse:
    page = booking_page_public(slug=slug)
    if page is None:
        return _not_found(request)
    types = list(meeting_types_public(page=page))
    tz_name, _, chosen = _visitor_zone(request.GET)
    context = {"page": page, "meeting_types": types, "tz": tz_name if chosen else ""}
    return render(request, "public/booking_page.html", context)


@rate_limited
@require_GET
def slots_view(request: HttpRequest, slug: str, type_pk: int) -> HttpResponse:
    page, meeting_type = _page_and_type(slug, type_pk)
    if page is None or meeting_type is None:
        return _not_found(request)
    context = {"page": page, "meeting_type": meeting_type, **_slot_days(request.GET, meeting_type)}
    context["book_url"] = reverse("booking:book", args=[page.slug, meeting_type.pk])
    return render(request, "public/booking_slots.html", context)


def _parse_start(value: str) -> dt.datetime | None:
    try:
        start = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return start if start.tzinfo is not None else None


@rate_limited
@require_http_methods(["GET", "POST"])
def book_view(request: HttpRequest, slug: str, type_pk: int) -> HttpResponse:
    page, meeting_type = _page_and_type(slug, type_pk)
    if page is None or meeting_type is None:
        return _not_found(request)
    tz_name, zone, _ = _visitor_zone(request.POST if request.method == "POST" else request.GET)
    start = _parse_start(request.POST.get("start") or request.GET.get("start") or "")
    slots_url = reverse("booking:slots", args=[page.slug, meeting_type.pk]) + _query(tz=tz_name)
    if start is None:
        return redirect(slots_url)
    form = VisitorForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            booking = booking_create(
                meeting_type=meeting_type, starts_at=start,
                visitor=form.visitor(tz_name, referral=referral_request_token(request)),
            )  # fmt: skip
        except SlotTaken as error:
            # Back to the week of the slot that was taken, to pick a neighbour.
            params = {"tz": tz_name, "day": start.astimezone(zone).date().isoformat()}
            context = {"page": page, "meeting_type": meeting_type, "taken": error.message}
            context |= _slot_days(params, meeting_type)
            context["book_url"] = reverse("booking:book", args=[page.slug, meeting_type.pk])
            return render(request, "public/booking_slots.html", context, status=409)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            status = 400
        else:
            return redirect("booking:manage", token=booking_token(booking))
    elif request.method == "POST":
        status = 400
    context = {
        "page": page,
        "meeting_type": meeting_type,
        "form": form,
        "start": start.astimezone(dt.UTC).isoformat(),
        "local_start": start.astimezone(zone),
        "local_end": (start + dt.timedelta(minutes=meeting_type.duration_minutes)).astimezone(zone),
        "tz": tz_name,
        "slots_url": slots_url,
    }
    return render(request, "public/booking_form.html", context, status=status)


# --- the visitor's own booking, behind the signed token in their email -----------------------


def _token_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    # Nothing about the booking is shown: a forged link learns nothing, a stale one only that.
    status = 410 if isinstance(error, TokenExpired) else 400
    return render(request, "public/booking_error.html", {"message": error.message}, status=status)


def _booking_context(booking: Booking, token: str) -> dict[str, Any]:
    zone = zone_or_default(booking.visitor_time_zone)
    activity = booking.activity
    return {
        "booking": booking,
        "meeting_type": booking.meeting_type,
        "page": booking.meeting_type.page,
        "token": token,
        "tz": booking.visitor_time_zone,
        "local_start": activity.due_at.astimezone(zone) if activity.due_at else None,
        "local_end": activity.ends_at.astimezone(zone) if activity.ends_at else None,
        "location": activity.location,
    }


def _with_booking(view: Callable[..., HttpResponse]) -> View:
    """Resolve the token to the booking, or answer 400 (forged) / 410 (over) revealing nothing."""

    @wraps(view)
    def wrapped(request: HttpRequest, token: str) -> HttpResponse:
        try:
            booking = booking_for_token(token=token)
        except DomainError as error:
            return _token_error(request, error)
        return view(request, booking, token)

    return wrapped


@rate_limited
@require_GET
@_with_booking
def manage_view(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    return render(request, "public/booking_done.html", _booking_context(booking, token))


@rate_limited
@require_http_methods(["GET", "POST"])
@_with_booking
def reschedule_view(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    context = _booking_context(booking, token)
    status = 200
    if request.method == "POST":
        start = _parse_start(request.POST.get("start") or "")
        try:
            if start is None:
                raise SlotTaken()
            booking_reschedule(booking=booking, starts_at=start)
        except DomainError as error:
            context["taken"], status = error.message, 409
        else:
            return redirect("booking:manage", token=token)
    params = {"tz": booking.visitor_time_zone} | request.GET.dict()
    activity = booking.activity
    current = (activity.due_at, activity.ends_at)
    context |= _slot_days(params, booking.meeting_type, users=[booking.assigned_to], ignore=current)
    return render(request, "public/booking_reschedule.html", context, status=status)


@rate_limited
@require_http_methods(["GET", "POST"])
@_with_booking
def cancel_view(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            booking_cancel(booking=booking)
        except DomainError as error:  # e.g. the rep already marked it done
            return render(
                request, "public/booking_error.html", {"message": error.message}, status=400
            )
        context = {"page": booking.meeting_type.page, "meeting_type": booking.meeting_type}
        return render(request, "public/booking_cancelled.html", context)
    return render(request, "public/booking_cancel.html", _booking_context(booking, token))
