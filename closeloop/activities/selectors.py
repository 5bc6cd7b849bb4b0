from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, prefetch_related_objects

from closeloop.accounts.choices import Role

from .choices import ActivityOutcome
from .models import Activity, ActivityAttendee, Notification


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


def planned_attendees_attach(entries: list[Activity]) -> list[Activity]:
    """Load the attendees of a timeline's planned entries (one query, none without any)."""
    prefetch_related_objects([e for e in entries if e.due_at is not None], "attendees")
    return entries


def activity_visible_to(user: Any) -> QuerySet[Activity]:
    """Activities `user` may see: ones they own, recorded or attend, and ones on records they
    may see. An activity on a deal follows the deal (as on the organization's timeline, a
    private deal's meeting does not show through its shared organization); one without a deal
    shows when its lead, contact or organization does. One query: the rules are subqueries."""
    from closeloop.accounts.visibility import owner_filter
    from closeloop.leads.models import Lead
    from closeloop.people.models import Contact, Organization
    from closeloop.pipeline.models import Deal

    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Activity.objects.none()
    everything = owner_filter(user)
    deals = Deal.objects.visible_to(user).values("pk")
    on_records = Q(deal__isnull=False, deal__in=deals) | Q(
        Q(deal__isnull=True)
        & (
            Q(lead__in=Lead.objects.visible_to(user).values("pk"))
            | Q(contact__in=Contact.objects.visible_to(user).values("pk"))
            | Q(organization__in=Organization.objects.visible_to(user).values("pk"))
        )
    )
    if everything is None and user.role == Role.ADMIN:
        return Activity.objects.all()
    mine = Q(owner=user) | Q(actor=user)
    attending = Exists(ActivityAttendee.objects.filter(activity=OuterRef("pk"), user=user))
    return Activity.objects.filter(mine | attending | on_records)


def activity_get(*, user: Any, pk: int) -> Activity | None:
    """One activity if `user` may see it, with its records, people and attendees."""
    return (
        activity_visible_to(user)
        .select_related("owner", "actor", "deal", "contact", "organization", "lead")
        .prefetch_related("attendees__contact", "attendees__user", "attendees__lead")
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class ActivityFilters:
    """What a list of activities is narrowed to; every field is optional."""

    owner_id: int | None = None
    deal_id: int | None = None
    lead_id: int | None = None
    contact_id: int | None = None
    organization_id: int | None = None
    kind: str | None = None
    done: bool | None = None  # True: done; False: open planned work (neither done nor cancelled)
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None


def activity_list(*, user: Any, filters: ActivityFilters) -> QuerySet[Activity]:
    """Activities `user` may see, narrowed by `filters`, with their owner and attendees loaded
    (two queries for any number of rows)."""
    qs = activity_visible_to(user)
    exact = {
        "owner_id": filters.owner_id,
        "deal_id": filters.deal_id,
        "lead_id": filters.lead_id,
        "contact_id": filters.contact_id,
        "organization_id": filters.organization_id,
        "kind": filters.kind,
        "due_at__gte": filters.due_from,
        "due_at__lt": filters.due_to,
    }
    qs = qs.filter(**{name: value for name, value in exact.items() if value is not None})
    if filters.done is True:
        qs = qs.filter(done_at__isnull=False)
    elif filters.done is False:
        qs = qs.filter(open_planned())
    return qs.select_related("owner").prefetch_related("attendees")


def activity_history(*, activity: Activity) -> QuerySet[Activity]:
    """The change entries (rescheduled, done, cancelled) about one planned activity, in order."""
    return activity.changes.select_related("actor").order_by("created_at", "pk")


def activity_open_for(*, user: Any, owner: Any) -> QuerySet[Activity]:
    """A person's open planned work that `user` may see, earliest first, with what a row shows."""
    return (
        activity_visible_to(user)
        .filter(open_planned(), owner=owner)
        .select_related("owner", "deal", "contact", "organization", "lead")
        .prefetch_related("attendees")
        .order_by("due_at", "pk")
    )


def activity_calendar(
    *, user: Any, person: Any, start: dt.datetime, end: dt.datetime
) -> list[Activity]:
    """Planned work `person` owns or attends that starts in [start, end) and `user` may see,
    cancelled ones left out."""
    attending = ActivityAttendee.objects.filter(user=person).values("activity_id")
    return list(
        activity_visible_to(user)
        .filter(due_at__gte=start, due_at__lt=end)
        .exclude(outcome=ActivityOutcome.CANCELLED)
        .filter(Q(owner=person) | Q(pk__in=attending))
        .select_related("owner", "deal", "contact", "organization", "lead")
        .order_by("due_at", "pk")
    )


def work_people(*, user: Any) -> QuerySet[Any]:
    """Whose "My work" `user` may open: their own; a manager their teams' members; an admin
    everyone active."""
    from closeloop.accounts.models import User

    qs = User.objects.filter(is_active=True)
    if user.role == Role.ADMIN:
        return qs.order_by("full_name", "email")
    if user.role == Role.MANAGER:
        return qs.filter(Q(pk=user.pk) | Q(teams__members=user)).distinct().order_by("full_name")
    return qs.filter(pk=user.pk)
