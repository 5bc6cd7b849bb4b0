"""Planned work: scheduling, rescheduling, completing and cancelling calls, meetings and tasks.

Each change lands on the timelines of the records the activity concerns, and a meeting with
attendees sends them a calendar invite (a new SEQUENCE of the same UID) once it has committed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.choices import Role
from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.core.zones import zone_clean
from closeloop.integrations.payloads import activity_data
from closeloop.integrations.services import webhook_event_emit

from ..choices import MEETING_KINDS, PLANNED_KINDS, ActivityKind, ActivityOutcome
from ..models import Activity, ActivityAttendee
from .timeline import MAX_NOTE_LENGTH, timeline_records

MAX_MEETING = dt.timedelta(days=14)
DEFAULT_LENGTH = dt.timedelta(minutes=30)


def _when(starts_at: Any, field: str = "starts_at") -> dt.datetime:
    if not isinstance(starts_at, dt.datetime):
        raise DomainError("Give a date and time.", field=field)
    if timezone.is_naive(starts_at):
        raise DomainError("The time has no time zone.", field=field)
    return starts_at


def _span(kind: str, starts_at: Any, ends_at: Any) -> tuple[dt.datetime, dt.datetime | None]:
    """A meeting has an end after its start (30 minutes when none is given); a task has none."""
    start = _when(starts_at)
    if ends_at is None:
        return start, (start + DEFAULT_LENGTH if kind in MEETING_KINDS else None)
    end = _when(ends_at, "ends_at")
    if end <= start:
        raise DomainError("The end must be after the start.", field="ends_at")
    if end - start > MAX_MEETING:
        raise DomainError("An activity can last at most 14 days.", field="ends_at")
    return start, end


def _text(value: str, *, field: str, limit: int, label: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise DomainError(f"{label} can be at most {limit:,} characters long.", field=field)
    return value


def activity_require_editable(actor: Any, activity: Activity) -> None:
    """Its owner, whoever planned it, an admin, or a manager of the owner's team may change it."""
    user = acting_user(actor)
    if user is None:  # the system (a booking page, a task) acts for the owner
        return
    if user.role == Role.ADMIN or user.pk in (activity.owner_id, activity.actor_id):
        return
    if (
        user.role == Role.MANAGER
        and activity.owner_id
        and User.objects.filter(pk=activity.owner_id, teams__members=user).exists()
    ):
        return
    raise DomainError("Only its owner, a manager of their team or an admin can change this.")


def _attendees(
    activity: Activity,
    *,
    contacts: Iterable[Any],
    users: Iterable[Any],
    leads: Iterable[Any],
) -> None:
    """Invite each person once: by record, with the address the invite goes to."""
    seen: set[str] = set()
    rows: list[ActivityAttendee] = []
    for user in users:
        if user.email.lower() not in seen:
            seen.add(user.email.lower())
            rows.append(
                ActivityAttendee(activity=activity, user=user, email=user.email, name=str(user))
            )
    for contact in contacts:
        email = contact.primary_email
        key = (email or f"contact:{contact.pk}").lower()
        if key not in seen:
            seen.add(key)
            rows.append(
                ActivityAttendee(
                    activity=activity, contact=contact, email=email or "", name=str(contact)
                )
            )
    for lead in leads:
        key = (lead.email or f"lead:{lead.pk}").lower()
        if key not in seen:
            seen.add(key)
            rows.append(
                ActivityAttendee(activity=activity, lead=lead, email=lead.email, name=str(lead))
            )
    ActivityAttendee.objects.bulk_create(rows)


def _invite_after_commit(actor: Any, activity: Activity, method: str) -> None:
    from ..invites import invite_send

    activity_id = activity.pk

    def send() -> None:
        fresh = Activity.objects.select_related("owner").get(pk=activity_id)
        invite_send(actor=actor, activity=fresh, method=method)

    transaction.on_commit(send)


def _log(activity: Activity, *, actor: Any, subject: str, body: str = "") -> Activity:
    """A change entry on the same records' timelines, so the history reads in order."""
    return Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject=subject[:200],
        body=body,
        actor=acting_user(actor),
        deal_id=activity.deal_id,
        contact_id=activity.contact_id,
        organization_id=activity.organization_id,
        lead_id=activity.lead_id,
        about=activity,
    )


def _format(activity: Activity, when: dt.datetime | None) -> str:
    if when is None:
        return "no time"
    local = timezone.localtime(when, activity.zone)
    return f"{local:%a %d %b %Y, %H:%M} ({activity.zone.key})"


@transaction.atomic
def activity_schedule(
    *,
    actor: Any,
    kind: str,
    subject: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    time_zone: str = "",
    location: str = "",
    body: str = "",
    owner: Any = None,
    deal: Any = None,
    lead: Any = None,
    contact: Any = None,
    organization: Any = None,
    attendee_contacts: Iterable[Any] = (),
    attendee_users: Iterable[Any] = (),
    attendee_leads: Iterable[Any] = (),
    send_invites: bool = True,
    move_deal_to_demo: bool = False,
) -> Activity:
    """Plan a call, meeting, demo or task on a record; a meeting invites its attendees.

    The owner (the actor when none is given) does it; its time zone is the one it was planned
    in (the owner's when none is given). Invites go out after commit, so a rollback mails no one.
    """
    if kind not in PLANNED_KINDS:
        raise DomainError("Only calls, meetings, demos and tasks can be scheduled.", field="kind")
    subject = _text(subject, field="subject", limit=200, label="The subject")
    if not subject:
        raise DomainError("Give the activity a subject.", field="subject")
    start, end = _span(kind, starts_at, ends_at)
    contact, organization = timeline_records(
        deal=deal, contact=contact, organization=organization, lead=lead
    )
    owner = owner or acting_user(actor)
    if owner is None:
        raise DomainError("Say who does it.", field="owner")
    if not owner.is_active:
        raise DomainError(f"{owner} is deactivated and cannot own activities.", field="owner")
    activity = Activity.objects.create(
        kind=kind,
        subject=subject,
        body=_text(body, field="body", limit=MAX_NOTE_LENGTH, label="The notes"),
        actor=acting_user(actor),
        owner=owner,
        deal=deal,
        contact=contact,
        organization=organization,
        lead=lead,
        due_at=start,
        ends_at=end,
        time_zone=zone_clean(time_zone),
        location=_text(location, field="location", limit=500, label="The location"),
        ics_uid=f"{uuid.uuid4()}@{_uid_domain()}",
    )
    _attendees(activity, contacts=attendee_contacts, users=attendee_users, leads=attendee_leads)
    if move_deal_to_demo and deal is not None:
        _deal_to_demo_stage(actor=actor, deal=deal)
    if send_invites and kind in MEETING_KINDS:
        _invite_after_commit(actor, activity, "REQUEST")
    return activity


def _uid_domain() -> str:
    from urllib.parse import urlsplit

    return urlsplit(settings.SITE_URL).hostname or "closeloop.local"


def deal_demo_stage(deal: Any) -> Any:
    """The pipeline's demo stage (its first stage named for a demo or meeting), if any."""
    for stage in deal.pipeline.stages.all():
        name = stage.name.lower()
        if "demo" in name or "meeting" in name:
            return stage
    return None


def _deal_to_demo_stage(*, actor: Any, deal: Any) -> None:
    """Move an open deal forward to its demo stage; a deal already there or past it stays."""
    from closeloop.pipeline.choices import DealStatus
    from closeloop.pipeline.services import deal_move_to_stage

    stage = deal_demo_stage(deal)
    if stage is None or deal.status != DealStatus.OPEN:
        return
    if deal.stage.position >= stage.position and deal.stage.pipeline_id == stage.pipeline_id:
        return
    deal_move_to_stage(actor=actor, deal=deal, stage=stage)


def _lock_open(actor: Any, activity: Activity, refusal: str) -> Activity:
    """The activity, locked for this transaction, if the actor may change it and it is open."""
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    activity_require_editable(actor, activity)
    if not activity.is_open:
        raise DomainError(refusal)
    return activity


@transaction.atomic
def activity_reschedule(
    *,
    actor: Any,
    activity: Activity,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    time_zone: str | None = None,
    location: str | None = None,
    subject: str | None = None,
    send_invites: bool = True,
) -> Activity:
    """Move open planned work to a new time; a meeting's attendees get the updated invite."""
    activity = _lock_open(actor, activity, "Only open activities can be rescheduled.")
    if ends_at is None and activity.ends_at and activity.due_at:
        ends_at = _when(starts_at) + (activity.ends_at - activity.due_at)
    start, end = _span(activity.kind, starts_at, ends_at)
    before = _format(activity, activity.due_at)
    activity.due_at, activity.ends_at = start, end
    fields = ["due_at", "ends_at", "ics_sequence", "reminder_sent_at", "updated_at"]
    if time_zone is not None:
        activity.time_zone = zone_clean(time_zone)
        fields.append("time_zone")
    if location is not None:
        activity.location = _text(location, field="location", limit=500, label="The location")
        fields.append("location")
    if subject is not None:
        activity.subject = _text(subject, field="subject", limit=200, label="The subject")
        if not activity.subject:
            raise DomainError("Give the activity a subject.", field="subject")
        fields.append("subject")
    activity.ics_sequence += 1
    activity.reminder_sent_at = None  # the new time gets its own reminder
    activity.save(update_fields=fields)
    _log(
        activity,
        actor=actor,
        subject=f"Rescheduled: {activity.subject}",
        body=f"{before} → {_format(activity, start)}",
    )
    if send_invites and activity.kind in MEETING_KINDS:
        _invite_after_commit(actor, activity, "REQUEST")
    return activity


@transaction.atomic
def activity_complete(
    *, actor: Any, activity: Activity, outcome: str = "", notes: str = ""
) -> Activity:
    """Mark open planned work done, with how a meeting went (held or no-show) and notes."""
    activity = _lock_open(actor, activity, "This activity is already done or cancelled.")
    if activity.kind in MEETING_KINDS or activity.kind == ActivityKind.CALL:
        outcome = outcome or ActivityOutcome.HELD
    if outcome and outcome not in (
        ActivityOutcome.HELD,
        ActivityOutcome.NO_SHOW,
        ActivityOutcome.RESCHEDULED,
    ):
        raise DomainError("Choose held, no-show or rescheduled.", field="outcome")
    notes = _text(notes, field="notes", limit=MAX_NOTE_LENGTH, label="The notes")
    activity.done_at = timezone.now()
    activity.outcome = outcome
    fields = ["done_at", "outcome", "updated_at"]
    if notes:
        activity.body = f"{activity.body}\n\n{notes}".strip() if activity.body else notes
        fields.append("body")
    activity.save(update_fields=fields)
    label = f" ({activity.get_outcome_display().lower()})" if outcome else ""
    _log(activity, actor=actor, subject=f"Done{label}: {activity.subject}", body=notes)
    webhook_event_emit(
        name="activity.completed", payload=activity_data(activity), owners=_seen_with(activity)
    )
    return activity


def _seen_with(activity: Activity) -> list[int | None]:
    """Whose records an activity is seen with (the rule of `activity_visible_to`): its owner's,
    and its deal's, else its lead's, contact's or organization's."""
    records: list[Any] = (
        [activity.deal]
        if activity.deal_id
        else [r for r in (activity.lead, activity.contact, activity.organization) if r is not None]
    )
    owners: list[int | None] = [r.owner_id for r in records]
    if activity.owner_id is not None or not owners:
        owners.append(activity.owner_id)
    return owners


@transaction.atomic
def activity_cancel(
    *, actor: Any, activity: Activity, reason: str = "", send_invites: bool = True
) -> Activity:
    """Call off open planned work; a meeting's attendees get the cancellation for their calendar."""
    activity = _lock_open(actor, activity, "This activity is already done or cancelled.")
    reason = _text(reason, field="reason", limit=2000, label="The reason")
    activity.outcome = ActivityOutcome.CANCELLED
    activity.ics_sequence += 1
    activity.save(update_fields=["outcome", "ics_sequence", "updated_at"])
    _log(activity, actor=actor, subject=f"Cancelled: {activity.subject}", body=reason)
    if send_invites and activity.kind in MEETING_KINDS:
        _invite_after_commit(actor, activity, "CANCEL")
    return activity
