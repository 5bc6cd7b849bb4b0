"""The private calendar feed: each user's meetings, calls and tasks as an ICS subscription.

Calendar apps (Google, Apple, Outlook) poll the feed URL without logging in, so the URL itself
is the credential: a signed token of the user's id and their `calendar_feed_key`. Resetting the
key makes every URL handed out before it fail the check, which is how a leaked link is revoked.
The link does not expire on its own: a subscription has to keep working for months.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from icalendar import vDuration

from closeloop.accounts.actors import require_admin
from closeloop.accounts.models import User
from closeloop.core.links import absolute_url

from .choices import PLANNED_KINDS, ActivityOutcome
from .invites import activity_event, calendar_build
from .models import Activity

FEED_SALT = "closeloop.activities.calendar-feed"
FEED_PAST = dt.timedelta(days=60)
FEED_AHEAD = dt.timedelta(days=365)
OTHERS_FEED = "Only admins can change someone else's calendar feed."
# how often calendar apps that honour it (Apple, Outlook) should poll
REFRESH = dt.timedelta(hours=1)


def calendar_feed_token(user: User) -> str:
    """The signed token of the user's current feed; empty when they have none."""
    if not user.calendar_feed_key:
        return ""
    # no timestamp: the same feed always has the same URL, and it does not expire
    return signing.Signer(salt=FEED_SALT).sign_object([user.pk, user.calendar_feed_key])


def calendar_feed_url(user: User) -> str:
    """The https address of the user's feed (empty when they have none)."""
    token = calendar_feed_token(user)
    if not token:
        return ""
    return absolute_url(reverse("calendar:feed", args=[token]))


def calendar_feed_user(token: str) -> User | None:
    """The active user whose current feed the token names; None for a bad, old or tampered one."""
    try:
        user_id, key = signing.Signer(salt=FEED_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not isinstance(key, int) or not key:
        return None
    return User.objects.filter(pk=user_id, calendar_feed_key=key, is_active=True).first()


@transaction.atomic
def calendar_feed_reset(*, actor: Any, user: User, enabled: bool = True) -> User:
    """Give the user a new feed URL (or none when not `enabled`); every older URL stops working."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor, OTHERS_FEED)
    # a random 62-bit key, never 0 (which means "no feed")
    user.calendar_feed_key = secrets.randbits(62) + 1 if enabled else 0
    user.save(update_fields=["calendar_feed_key"])
    return user


def calendar_feed_activities(*, user: User, now: dt.datetime | None = None) -> QuerySet[Activity]:
    """The user's own planned work (owned, or attended as a user) from 60 days back to a year
    ahead; cancelled work is left out, so calendar apps drop it on their next refresh."""
    now = now or timezone.now()
    return (
        Activity.objects.filter(
            kind__in=PLANNED_KINDS,
            due_at__gte=now - FEED_PAST,
            due_at__lte=now + FEED_AHEAD,
        )
        .exclude(outcome=ActivityOutcome.CANCELLED)
        .filter(Q(owner=user) | Q(attendees__user=user))
        .distinct()
        .select_related("owner")
        .prefetch_related("attendees")
        .order_by("due_at", "pk")
    )


def _refresh_interval() -> vDuration:
    value = vDuration(REFRESH)
    value.params["VALUE"] = "DURATION"  # RFC 7986 requires it
    return value


def calendar_feed_ics(*, user: User, now: dt.datetime | None = None) -> bytes:
    """The feed's VCALENDAR: one VEVENT per activity, in the zone each was planned in.

    DTSTAMP is the activity's last change (for a calendar without METHOD it means LAST-MODIFIED),
    so the same data gives the same bytes and the view can answer with an ETag.
    """
    events = []
    for activity in calendar_feed_activities(user=user, now=now):
        event = activity_event(activity, attendees=activity.attendees.all())
        event.pop("dtstamp")
        event.add("dtstamp", activity.updated_at.astimezone(dt.UTC))
        event.add("last-modified", activity.updated_at.astimezone(dt.UTC))
        if activity.done_at is not None:
            event["summary"] = f"✓ {event['summary']}"
        events.append(event)
    return calendar_build(
        events,
        name=f"Closeloop – {user.display_name}",
        properties={"refresh-interval": _refresh_interval(), "x-published-ttl": "PT1H"},
    )
