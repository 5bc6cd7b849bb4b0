"""Calendar invites: the ICS of a meeting (RFC 5545 / iTIP) and the email that carries it.

One UID for a meeting's whole life and a SEQUENCE that grows with each change is what lets
Google Calendar, Outlook and Apple Calendar update or remove the event they already hold
instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from .models import Activity, ActivityAttendee

PRODID = "-//Closeloop//Closeloop CRM//EN"


def _address(email: str, name: str, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def organizer_of(activity: Activity) -> tuple[str, str]:
    """Who the invite is from: the owner, else the workspace's sending address."""
    if activity.owner is not None:
        return activity.owner.email, str(activity.owner)
    name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return email, name


def activity_event(
    activity: Activity, *, attendees: Iterable[ActivityAttendee] = (), cancelled: bool = False
) -> Event:
    """One VEVENT of an activity, its times in the zone it was planned in."""
    zone = activity.zone
    event = Event()
    event.add("uid", activity.ics_uid or f"activity-{activity.pk}@closeloop")
    event.add("sequence", activity.ics_sequence)
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    start = activity.due_at
    assert start is not None, "only planned activities become events"
    event.add("dtstart", start.astimezone(zone))
    end = activity.ends_at or start
    event.add("dtend", end.astimezone(zone))
    event.add("summary", activity.subject or activity.get_kind_display())
    if activity.location:
        event.add("location", activity.location)
        if activity.location.startswith(("https://", "http://")):
            event.add("url", activity.location)
    if activity.body:
        event.add("description", activity.body)
    email, name = organizer_of(activity)
    if email:
        event["organizer"] = _address(email, name)
    for attendee in attendees:
        if attendee.email:
            event.add(
                "attendee",
                _address(
                    attendee.email,
                    attendee.name,
                    ROLE="REQ-PARTICIPANT",
                    PARTSTAT="NEEDS-ACTION",
                    RSVP="TRUE",
                ),
            )
    cancelled = cancelled or activity.outcome == "cancelled"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


def calendar_build(
    events: Iterable[Event],
    *,
    method: str = "",
    name: str = "",
    properties: dict[str, Any] | None = None,
) -> bytes:
    """A VCALENDAR of the events, with a VTIMEZONE for each zone they use."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    for key, value in (properties or {}).items():
        calendar.add(key, value)
    for event in events:
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def activity_ics(activity: Activity, method: str = "REQUEST") -> bytes:
    """The invite (REQUEST) or cancellation (CANCEL) of a meeting, as calendar apps read it."""
    attendees = list(activity.attendees.all())
    event = activity_event(activity, attendees=attendees, cancelled=method == "CANCEL")
    return calendar_build([event], method=method)


def activity_when_text(activity: Activity, zone: Any) -> str:
    """When it is, in the reader's zone: "Tuesday 27 October 2026, 10:00–11:00 (Europe/Berlin)"."""
    assert activity.due_at is not None
    start = timezone.localtime(activity.due_at, zone)
    text = f"{start:%A %d %B %Y, %H:%M}"
    if activity.ends_at:
        text += f"–{timezone.localtime(activity.ends_at, zone):%H:%M}"
    return f"{text} ({zone.key})"


def invite_send(
    *,
    actor: Any,
    activity: Activity,
    method: str,
    include_owner: bool = False,
    extra_body: str = "",
) -> list[Any]:
    """Email each attendee with an address the meeting's invite (or cancellation) with its ICS.

    One message per attendee, so nobody sees the others' addresses in To and each copy is
    retried on its own. The owner gets a copy when asked (a booking tells both sides).
    """
    from closeloop.messaging.services import AttachmentIn, message_queue

    ics = activity_ics(activity, method)
    cancelled = method == "CANCEL"
    recipients: list[tuple[str, Any]] = []
    seen: set[str] = set()
    owner_email = activity.owner.email.lower() if activity.owner else ""
    for attendee in activity.attendees.select_related("user"):
        email = attendee.email.lower()
        if email and email not in seen and email != owner_email:
            seen.add(email)
            zone = attendee.user.zone if attendee.user else activity.zone
            recipients.append((attendee.email, zone))
    if include_owner and activity.owner is not None and owner_email not in seen:
        recipients.append((activity.owner.email, activity.owner.zone))
    verb = (
        "Cancelled"
        if cancelled
        else ("Updated invitation" if activity.ics_sequence else "Invitation")
    )
    subject = f"{verb}: {activity.subject} @ {activity_when_text(activity, activity.zone)}"
    organizer_email, organizer_name = organizer_of(activity)
    messages = []
    for email, zone in recipients:
        lines = [
            f"{activity.subject}",
            "",
            f"When: {activity_when_text(activity, zone)}",
        ]
        if activity.location:
            lines.append(f"Where: {activity.location}")
        if organizer_name or organizer_email:
            lines.append(f"Organiser: {organizer_name} <{organizer_email}>")
        if cancelled:
            lines += ["", "This meeting has been cancelled."]
        if activity.body and not cancelled:
            lines += ["", activity.body]
        if extra_body:
            lines += ["", extra_body]
        messages.append(
            message_queue(
                actor=actor,
                to=[email],
                subject=subject[:300],
                text_body="\n".join(lines),
                attachments=[
                    AttachmentIn(
                        filename="cancel.ics" if cancelled else "invite.ics",
                        content=ics,
                        content_type=f"text/calendar; method={method}; charset=utf-8",
                    )
                ],
                reply_to=organizer_email,
                deal=activity.deal,
                contact=activity.contact,
                lead=activity.lead,
                organization=activity.organization,
                # one timeline entry for the invite is the meeting itself
                timeline=False,
            )
        )
    return messages
