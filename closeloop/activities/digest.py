"""The morning digest: once a local day, each user who asked for it gets today's and overdue work.

The periodic job runs every 15 minutes. A user's day, and the hour from which the digest goes,
are in their own time zone (a day across a DST change has 23 or 25 hours). The day is claimed
with a conditional UPDATE of `digest_sent_on` in the transaction that queues the email, so two
workers or overlapping runs send one digest; a day with nothing to list sends no mail.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.core.links import absolute_url

from .choices import PLANNED_KINDS
from .models import Activity
from .reminders import activity_record_url
from .selectors import open_planned

logger = logging.getLogger(__name__)


def local_day(day: dt.date, zone: Any) -> tuple[dt.datetime, dt.datetime]:
    """The start of the day and of the next one in the zone (23 or 25 hours apart across DST)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def digest_activities(*, user: User, day: dt.date) -> tuple[QuerySet[Activity], QuerySet[Activity]]:
    """The user's open work of the local day (owned or attended), and their overdue work
    (owned, due before the day began)."""
    start, end = local_day(day, user.zone)
    base = Activity.objects.filter(open_planned(), kind__in=PLANNED_KINDS).select_related("owner")
    today = (
        base.filter(due_at__gte=start, due_at__lt=end)
        .filter(Q(owner=user) | Q(attendees__user=user))
        .distinct()
        .order_by("due_at", "pk")
    )
    overdue = base.filter(owner=user, due_at__lt=start).order_by("due_at", "pk")
    return today, overdue


def _line(activity: Activity, zone: Any, *, with_date: bool) -> str:
    assert activity.due_at is not None
    local = timezone.localtime(activity.due_at, zone)
    when = f"{local:%a %d %b, %H:%M}" if with_date else f"{local:%H:%M}"
    text = f"- {when}  {activity.get_kind_display()}: {activity.subject}"
    if activity.location:
        text += f" ({activity.location})"
    link = activity_record_url(activity)
    return f"{text}\n  {link}" if link else text


def digest_body(user: User, today: list[Activity], overdue: list[Activity]) -> str:
    """The digest's text: today's work by time, then what is overdue, each with its link."""
    lines: list[str] = []
    if today:
        lines += ["Today", *(_line(a, user.zone, with_date=False) for a in today), ""]
    if overdue:
        lines += ["Overdue", *(_line(a, user.zone, with_date=True) for a in overdue), ""]
    lines.append(
        "You get this digest because you asked for it; switch it off in your profile: "
        f"{absolute_url(reverse('accounts:profile'))}"
    )
    return "\n".join(lines)


def _digest_send(user: User, day: dt.date) -> bool:
    """Claim the user's day and queue their digest in one transaction; False if nothing to send."""
    from closeloop.messaging.services import message_queue

    with transaction.atomic():
        claimed = (
            User.objects.filter(pk=user.pk)
            .filter(Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=day))
            .update(digest_sent_on=day)
        )
        if not claimed:
            return False
        today_qs, overdue_qs = digest_activities(user=user, day=day)
        today, overdue = list(today_qs), list(overdue_qs)
        if not today and not overdue:
            return False  # the day stays claimed: an empty morning sends nothing, later too
        parts = [f"{len(today)} today"] if today else []
        if overdue:
            parts.append(f"{len(overdue)} overdue")
        message_queue(
            actor=None,
            to=[user.email],
            subject=f"Your day, {day:%a %d %b}: {', '.join(parts)}",
            text_body=digest_body(user, today, overdue),
            timeline=False,
        )
    return True


def digests_send(*, now: dt.datetime | None = None) -> int:
    """Send each opted-in active user their digest once their hour has come; how many went."""
    now = now or timezone.now()
    sent = 0
    for user in User.objects.filter(is_active=True, digest_enabled=True).order_by("pk"):
        local = now.astimezone(user.zone)
        if local.hour < user.digest_hour:
            continue
        if user.digest_sent_on is not None and user.digest_sent_on >= local.date():
            continue
        try:
            sent += _digest_send(user, local.date())
        except DomainError:  # an address the outbox refuses; the others still get theirs
            logger.exception("digest of user %s not queued", user.pk)
    return sent
