"""Meeting reminders: an email to the owner of each meeting, demo and call a while before it.

The periodic job runs every minute. Each reminder is claimed with a conditional UPDATE of
`reminder_sent_at` (still empty, start unchanged) in the same transaction that queues the email,
so two workers, a retry or an overlapping run send it once; a rollback releases the claim.
Rescheduling empties `reminder_sent_at`, so the new time gets its own reminder.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from closeloop.accounts.actors import require_admin
from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.core.links import absolute_url

from .choices import ActivityKind
from .invites import activity_when_text
from .models import Activity
from .selectors import open_planned

logger = logging.getLogger(__name__)

# what the profile offers; 0 switches reminders off
REMINDER_CHOICES = (0, 10, 15, 30, 60, 120)
REMINDED_KINDS = (ActivityKind.MEETING, ActivityKind.DEMO, ActivityKind.CALL)
OTHERS_SETTINGS = "Only admins can change someone else's reminders."


@transaction.atomic
def user_reminders_update(
    *,
    actor: Any,
    user: User,
    reminder_minutes: int,
    digest_enabled: bool,
    digest_hour: int,
) -> User:
    """Set how long before a meeting a user is reminded and whether (and when) they get the
    morning digest (each user their own, admins anyone's)."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor, OTHERS_SETTINGS)
    if reminder_minutes not in REMINDER_CHOICES:
        choices = ", ".join(str(m) for m in REMINDER_CHOICES[1:])
        raise DomainError(f"Choose off or {choices} minutes before.", field="reminder_minutes")
    if not isinstance(digest_hour, int) or not 0 <= digest_hour <= 23:
        raise DomainError("Choose an hour from 0 to 23.", field="digest_hour")
    # digest_sent_on stays: a new hour never brings a second digest the same day
    user.reminder_minutes = reminder_minutes
    user.digest_enabled = bool(digest_enabled)
    user.digest_hour = digest_hour
    user.save(update_fields=["reminder_minutes", "digest_enabled", "digest_hour"])
    return user


def activity_record_url(activity: Activity) -> str:
    """The full address of the record the activity belongs to (deal, contact, lead or company)."""
    for record_id, name in (
        (activity.deal_id, "pipeline:deal_detail"),
        (activity.contact_id, "people:contact_detail"),
        (activity.lead_id, "leads:lead_detail"),
        (activity.organization_id, "people:organization_detail"),
    ):
        if record_id is not None:
            return absolute_url(reverse(name, args=[record_id]))
    return ""


def _reminder_body(activity: Activity, user: User) -> str:
    lines = [
        f"{activity.get_kind_display()}: {activity.subject}",
        "",
        f"When: {activity_when_text(activity, user.zone)}",
    ]
    if activity.location:
        label = "Video link" if activity.location.startswith(("https://", "http://")) else "Where"
        lines.append(f"{label}: {activity.location}")
    attendees = [a for a in activity.attendees.all() if a.email != user.email]
    if attendees:
        lines.append("With: " + ", ".join(_attendee_text(a) for a in attendees))
    link = activity_record_url(activity)
    if link:
        lines.append(f"Record: {link}")
    if activity.body:
        lines += ["", activity.body]
    lines += [
        "",
        f"Reminders are sent {user.reminder_minutes} minutes before; change that in your "
        f"profile: {absolute_url(reverse('accounts:profile'))}",
    ]
    return "\n".join(lines)


def _attendee_text(attendee: Any) -> str:
    if attendee.name and attendee.email:
        return f"{attendee.name} <{attendee.email}>"
    return str(attendee.name or attendee.email)


def _reminder_send(activity: Activity, now: dt.datetime) -> bool:
    """Claim the activity's reminder and queue its email in one transaction; False if taken."""
    from closeloop.messaging.services import message_queue

    owner = activity.owner
    assert owner is not None and activity.due_at is not None
    with transaction.atomic():
        claimed = Activity.objects.filter(
            open_planned(), pk=activity.pk, due_at=activity.due_at, reminder_sent_at__isnull=True
        ).update(reminder_sent_at=now)
        if not claimed:
            return False  # another run sent it, or the activity changed meanwhile
        start = timezone.localtime(activity.due_at, owner.zone)
        message_queue(
            actor=None,
            to=[owner.email],
            subject=f"Reminder: {activity.subject} at {start:%H:%M}"[:300],
            text_body=_reminder_body(activity, owner),
            # the reminder is the owner's own mail, not part of the customer's history
            timeline=False,
        )
    return True


def meeting_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Email each due reminder once; how many were sent.

    Due: an open meeting, demo or call whose start is still ahead but within its active owner's
    lead time. One that already started (after downtime, or planned at the last minute) gets none.
    """
    now = now or timezone.now()
    candidates = (
        Activity.objects.filter(
            open_planned(),
            kind__in=REMINDED_KINDS,
            reminder_sent_at__isnull=True,
            due_at__gt=now,
            due_at__lte=now + dt.timedelta(minutes=max(REMINDER_CHOICES)),
            owner__is_active=True,
            owner__reminder_minutes__gt=0,
        )
        .select_related("owner")
        .prefetch_related("attendees")
        .order_by("due_at", "pk")
    )
    sent = 0
    for activity in candidates:
        assert activity.owner is not None and activity.due_at is not None
        if activity.due_at > now + dt.timedelta(minutes=activity.owner.reminder_minutes):
            continue
        try:
            sent += _reminder_send(activity, now)
        except DomainError:  # e.g. an owner address the outbox refuses; the others still go
            logger.exception("reminder of activity %s not queued", activity.pk)
    return sent
