from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from .models import Activity, Notification


def notification_list(*, user: Any) -> QuerySet[Notification]:
    """A user's own notifications, newest first (nobody sees anyone else's)."""
    return Notification.objects.filter(recipient=user)


def notification_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def open_planned() -> Q:
    """Planned work not yet done or cancelled."""
    return Q(due_at__isnull=False, done_at__isnull=True, outcome="")


def activity_busy_intervals(
    *, user: Any, start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The times a user is taken between start and end: their open meetings, calls and tasks
    with a time, as owner or attendee (a task or call with no end takes 30 minutes)."""
    rows = (
        Activity.objects.filter(open_planned(), due_at__lt=end)
        .filter(Q(owner=user) | Q(attendees__user=user))
        .filter(Q(ends_at__gt=start) | Q(ends_at__isnull=True, due_at__gt=start - _NO_END))
        .values_list("due_at", "ends_at")
        .distinct()
    )
    busy: list[tuple[dt.datetime, dt.datetime]] = []
    for begins, ends in rows:
        if begins is not None:
            busy.append((begins, ends or begins + _NO_END))
    return sorted(busy)


_NO_END = dt.timedelta(minutes=30)
