"""Visitors' bookings of a rep's time: the record, the meeting, the invites, the links."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.aftersales.referrals import referral_record_for_lead
from closeloop.core.exceptions import DomainError
from closeloop.core.links import absolute_url
from closeloop.leads.dedupe import find_exact
from closeloop.leads.models import Lead, Source
from closeloop.leads.services import LeadInput, lead_create
from closeloop.leads.services.sources import source_create
from closeloop.people.models import Contact
from closeloop.pipeline.choices import DealStatus

from ...choices import ActivityKind
from ...invites import invite_send
from ...models import Activity
from ...services import (
    activity_cancel,
    activity_reschedule,
    activity_schedule,
    notification_create,
)
from ..models import Booking, BookingLock, MeetingType
from ..selectors import booking_get, page_members, slot_takers
from ..slots import zone_or_none

BOOKING_SOURCE_NAME = "Booking page"
TOKEN_SALT = "closeloop.booking.manage"  # noqa: S105 (a signing salt, not a secret)
SLOT_TAKEN = "This time was just taken. Please pick another slot."
MAX_QUESTION = 5_000


class SlotTaken(DomainError):
    """The slot is no longer free (someone else booked it, or it was never offered)."""

    def __init__(self) -> None:
        super().__init__(SLOT_TAKEN, field="start")


class TokenInvalid(DomainError):
    """A booking link that was not made by us (tampered, truncated) or names nothing."""


class TokenExpired(DomainError):
    """A genuine booking link whose meeting has ended or was cancelled."""


@dataclass
class Visitor:
    """Who is booking, as typed on the public form: nothing in it is trusted yet."""

    name: str
    email: str
    company: str = ""
    question: str = ""
    time_zone: str = ""
    referral: str = ""  # the referral token the visitor came with (cookie or ?ref=), if any


def visitor_clean(visitor: Visitor) -> Visitor:
    """The visitor's details trimmed and checked; a DomainError names the first bad field."""
    name = " ".join((visitor.name or "").replace("\x00", "").split())
    email = (visitor.email or "").strip().lower()
    company = " ".join((visitor.company or "").replace("\x00", "").split())
    question = (visitor.question or "").replace("\x00", "").strip()
    if not name:
        raise DomainError("Please tell us your name.", field="name")
    if len(name) > 150:
        raise DomainError("Your name can be at most 150 characters long.", field="name")
    try:
        validate_email(email)
    except ValidationError:
        raise DomainError(
            "Please enter a valid email address, like name@example.com.", field="email"
        ) from None
    if len(company) > 200:
        raise DomainError("The company can be at most 200 characters long.", field="company")
    if len(question) > MAX_QUESTION:
        raise DomainError(
            f"The question can be at most {MAX_QUESTION:,} characters long.", field="question"
        )
    if zone_or_none(visitor.time_zone) is None:
        raise DomainError("Pick your time zone from the list.", field="tz")
    return Visitor(name, email, company, question, visitor.time_zone.strip(), visitor.referral)


def booking_source() -> Source:
    """The lead source of leads made by bookings, created if the workspace has none."""
    source = Source.objects.filter(name__iexact=BOOKING_SOURCE_NAME).first()
    if source is not None:
        return source
    try:
        with transaction.atomic():
            return source_create(actor=None, name=BOOKING_SOURCE_NAME)
    except IntegrityError:  # the first bookings of two reps at once: the other one made it
        return Source.objects.get(name__iexact=BOOKING_SOURCE_NAME)


@dataclass(frozen=True)
class _Record:
    lead: Lead | None = None
    contact: Contact | None = None
    deal: Any = None


def _visitor_record(visitor: Visitor, rep: User) -> _Record:
    """The visitor's contact or lead by the duplicate rules (same email), or a new lead."""
    match = find_exact(email=visitor.email)
    if match is not None and match.contact_id:
        contact = Contact.objects.get(pk=match.contact_id)
        # The meeting belongs on the contact's current deal, if they have one open.
        deal = contact.deals.filter(status=DealStatus.OPEN).order_by("-created_at").first()
        return _Record(contact=contact, deal=deal)
    if match is not None and match.lead_id:
        return _Record(lead=Lead.objects.get(pk=match.lead_id))
    first, _, last = visitor.name.rpartition(" ")
    data = LeadInput(
        first_name=first,
        last_name=last,
        email=visitor.email,
        company_name=visitor.company,
        notes=visitor.question,
        owner=rep,
        source=booking_source(),
    )
    result = lead_create(actor=None, data=data)
    assert result.lead is not None
    referral_record_for_lead(lead=result.lead, token=visitor.referral)
    return _Record(lead=result.lead)


def _lock(user_ids: list[int]) -> None:
    """Serialise bookings of these reps until commit (see BookingLock); in one order, always."""
    now = timezone.now()
    BookingLock.objects.bulk_create(
        [BookingLock(user_id=pk) for pk in user_ids], ignore_conflicts=True
    )
    for pk in sorted(user_ids):
        BookingLock.objects.filter(user_id=pk).update(locked_at=now)


def booking_token(booking: Booking) -> str:
    """The signed key of a booking's manage (reschedule / cancel) links."""
    return signing.dumps({"b": booking.pk}, salt=TOKEN_SALT, compress=True)


def booking_for_token(*, token: str, now: dt.datetime | None = None) -> Booking:
    """The booking a link names; TokenInvalid when forged, TokenExpired once the meeting is over.

    A link lives as long as its meeting: until the (possibly rescheduled) end, until it is
    cancelled, or until the rep marks it done.
    """
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
        booking = booking_get(pk=int(payload["b"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        booking = None
    if booking is None:
        raise TokenInvalid("This link is not valid. Please use the link from your email.")
    activity = booking.activity
    ends = activity.ends_at or activity.due_at
    over = ends is None or ends <= (now or timezone.now())
    # Done or called off in the CRM (not through the link) ends the link too.
    if booking.cancelled_at is not None or over or not activity.is_open:
        raise TokenExpired("This link has expired: the meeting is over or was cancelled.")
    return booking


def _manage_links(booking: Booking) -> str:
    """The visitor's own time and the signed links to move or cancel, below the invite text."""
    token = booking_token(booking)
    activity = booking.activity
    zone = zone_or_none(booking.visitor_time_zone)
    reschedule = absolute_url(reverse("booking:reschedule", args=[token]))
    cancel = absolute_url(reverse("booking:cancel", args=[token]))
    lines = []
    if zone is not None and activity.due_at and activity.ends_at:
        start, end = activity.due_at.astimezone(zone), activity.ends_at.astimezone(zone)
        lines.append(f"Booker's time: {start:%A %d %B %Y, %H:%M}–{end:%H:%M} ({zone.key})")
    lines += [f"Need another time? Reschedule: {reschedule}", f"Can't make it? Cancel: {cancel}"]
    return "\n".join(lines)


def _subject(meeting_type: MeetingType, visitor_name: str, rep: User) -> str:
    return f"{meeting_type.name}: {visitor_name} with {rep.display_name}"[:200]


def booking_create(
    *,
    meeting_type: MeetingType,
    starts_at: dt.datetime,
    visitor: Visitor,
    now: dt.datetime | None = None,
) -> Booking:
    """Book a free slot for a visitor: their lead or contact, the meeting, invites to both sides.

    Two visitors racing for one slot: each takes the reps' booking locks, then checks the slot
    again inside the transaction, so exactly one gets it and the other gets SlotTaken.
    """
    visitor = visitor_clean(visitor)
    page = meeting_type.page
    if not (page.active and meeting_type.active):
        raise DomainError("This meeting type can no longer be booked.")
    now = now or timezone.now()
    starts_at = starts_at.astimezone(dt.UTC)
    # First without locks: which reps could take it at all (and a quick answer when none can).
    candidates = slot_takers(
        meeting_type=meeting_type, starts_at=starts_at, now=now, users=page_members(page=page)
    )
    if not candidates:
        raise SlotTaken()
    return _book(meeting_type, starts_at, visitor, now, candidates)


@transaction.atomic
def _book(
    meeting_type: MeetingType, starts_at: dt.datetime, visitor: Visitor,
    now: dt.datetime, candidates: list[User],
) -> Booking:  # fmt: skip
    # The lock comes first in the transaction: on SQLite nothing may be read before it.
    _lock([user.pk for user in candidates])
    # Again under the locks: a booking that committed meanwhile is seen now.
    takers = slot_takers(meeting_type=meeting_type, starts_at=starts_at, now=now, users=candidates)
    if not takers:
        raise SlotTaken()
    rep = takers[0]
    record = _visitor_record(visitor, rep)
    activity = activity_schedule(
        actor=None,
        kind=meeting_type.kind,
        subject=_subject(meeting_type, visitor.name, rep),
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=meeting_type.duration_minutes),
        location=meeting_type.location,
        body=_booking_body(visitor),
        owner=rep,
        deal=record.deal,
        lead=record.lead,
        contact=record.contact,
        attendee_contacts=[record.contact] if record.contact else (),
        attendee_leads=[record.lead] if record.lead else (),
        send_invites=False,
        # a booked demo on a known customer's open deal moves it forward to the demo stage
        move_deal_to_demo=meeting_type.kind == ActivityKind.DEMO,
    )
    if record.contact is not None:
        # The invite goes where the visitor asked for it, not to the contact's primary address.
        activity.attendees.filter(contact=record.contact).update(email=visitor.email)
    booking = Booking.objects.create(
        meeting_type=meeting_type,
        activity=activity,
        assigned_to=rep,
        visitor_name=visitor.name,
        visitor_email=visitor.email,
        visitor_company=visitor.company,
        visitor_question=visitor.question,
        visitor_time_zone=visitor.time_zone,
    )
    invite_send(
        actor=None,
        activity=activity,
        method="REQUEST",
        include_owner=True,
        extra_body=_manage_links(booking),
    )
    notification_create(
        recipient=rep,
        kind="booking",
        title=f"New booking: {activity.subject}",
        body=f"{visitor.name} <{visitor.email}> booked {meeting_type.name}.",
        url=_record_url(record),
    )
    return booking


def _record_url(record: _Record) -> str:
    """Where the rep sees the meeting: the deal, else the contact, else the lead."""
    if record.deal is not None:
        return reverse("pipeline:deal_detail", args=[record.deal.pk])
    if record.contact is not None:
        return reverse("people:contact_detail", args=[record.contact.pk])
    assert record.lead is not None
    return reverse("leads:lead_detail", args=[record.lead.pk])


def _booking_body(visitor: Visitor) -> str:
    lines = [f"Booked by {visitor.name} <{visitor.email}>"]
    if visitor.company:
        lines.append(f"Company: {visitor.company}")
    if visitor.question:
        lines += ["", visitor.question]
    return "\n".join(lines)


@transaction.atomic
def booking_reschedule(
    *, booking: Booking, starts_at: dt.datetime, now: dt.datetime | None = None
) -> Booking:
    """Move a booked meeting to another free slot of the same rep; both sides get the update."""
    if booking.cancelled_at is not None:
        raise DomainError("This meeting was cancelled.")
    now = now or timezone.now()
    starts_at = starts_at.astimezone(dt.UTC)
    rep = booking.assigned_to
    _lock([rep.pk])
    activity = Activity.objects.get(pk=booking.activity_id)
    current = (activity.due_at, activity.ends_at) if activity.due_at and activity.ends_at else None
    if not slot_takers(
        meeting_type=booking.meeting_type, starts_at=starts_at, now=now, users=[rep],
        ignore=current,
    ):  # fmt: skip
        raise SlotTaken()
    activity = activity_reschedule(
        actor=None,
        activity=activity,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=booking.meeting_type.duration_minutes),
        send_invites=False,
    )
    booking.activity = activity
    invite_send(
        actor=None,
        activity=activity,
        method="REQUEST",
        include_owner=True,
        extra_body=_manage_links(booking),
    )
    return booking


@transaction.atomic
def booking_cancel(*, booking: Booking) -> Booking:
    """Cancel a booked meeting from the visitor's link; both sides get the cancellation."""
    if booking.cancelled_at is not None:
        return booking
    activity = activity_cancel(
        actor=None, activity=Activity.objects.get(pk=booking.activity_id), send_invites=False
    )
    invite_send(actor=None, activity=activity, method="CANCEL", include_owner=True)
    booking.cancelled_at = timezone.now()
    booking.save(update_fields=["cancelled_at", "updated_at"])
    return booking
