"""Reads of booking links: pages, their members' free time, and bookings behind a token."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Max, Q, QuerySet

from closeloop.accounts.models import User

from ..selectors import activity_busy_intervals
from .models import AvailabilityRule, Booking, BookingPage, MeetingType
from .slots import (
    Interval,
    Member,
    SlotRules,
    WeeklyWindow,
    round_robin_order,
    team_free_slots,
)


def booking_page_public(*, slug: str) -> BookingPage | None:
    """An active page by its public slug (an inactive or unknown one looks the same: None)."""
    return (
        BookingPage.objects.filter(slug=slug, active=True).select_related("owner", "team").first()
    )


def meeting_types_public(*, page: BookingPage) -> QuerySet[MeetingType]:
    """The meeting types a visitor may book on a page."""
    return page.meeting_types.filter(active=True)


def meeting_type_public(*, page: BookingPage, pk: int) -> MeetingType | None:
    return meeting_types_public(page=page).filter(pk=pk).first()


def page_members(*, page: BookingPage) -> list[User]:
    """Who takes a page's meetings: its active owner, or the active members of its team."""
    if page.owner_id is not None:
        owner = page.owner
        return [owner] if owner is not None and owner.is_active else []
    return list(User.objects.filter(teams=page.team_id, is_active=True).order_by("pk"))


def slot_rules(meeting_type: MeetingType) -> SlotRules:
    """A meeting type's settings as the slot calculator takes them."""
    minutes = dt.timedelta(minutes=1)
    return SlotRules(
        duration=meeting_type.duration_minutes * minutes,
        buffer_before=meeting_type.buffer_before_minutes * minutes,
        buffer_after=meeting_type.buffer_after_minutes * minutes,
        notice=dt.timedelta(hours=meeting_type.notice_hours),
        horizon=dt.timedelta(days=meeting_type.horizon_days),
    )


def weekly_windows(*, users: list[User]) -> dict[int, tuple[WeeklyWindow, ...]]:
    """Each user's weekly availability, in one query."""
    windows: dict[int, list[WeeklyWindow]] = {user.pk: [] for user in users}
    rules = AvailabilityRule.objects.filter(user__in=users).order_by("weekday", "start_time")
    for rule in rules:
        windows[rule.user_id].append(WeeklyWindow(rule.weekday, rule.start_time, rule.end_time))
    return {pk: tuple(items) for pk, items in windows.items()}


def last_booked(*, page: BookingPage, users: list[User]) -> dict[int, dt.datetime]:
    """When each member last got a booking from this page (for taking turns)."""
    rows = (
        Booking.objects.filter(meeting_type__page=page, assigned_to__in=users)
        .values("assigned_to")
        .annotate(last=Max("created_at"))
    )
    return {row["assigned_to"]: row["last"] for row in rows}


def _without(busy: list[Interval], ignore: Interval | None) -> list[Interval]:
    # The meeting being rescheduled does not block its own new time.
    if ignore is not None and ignore in busy:
        busy = list(busy)
        busy.remove(ignore)
    return busy


def members_for(
    *,
    page: BookingPage,
    users: list[User],
    start: dt.datetime,
    end: dt.datetime,
    rules: SlotRules,
    ignore: Interval | None = None,
) -> list[Member]:
    """The slot calculator's view of each user: week, zone, busy times around the range."""
    windows = weekly_windows(users=users)
    last = last_booked(page=page, users=users)
    members = []
    # Busy times just outside the range still block slots at its edges through the buffers.
    margin = rules.buffer_before + rules.buffer_after + rules.duration
    for user in users:
        busy = activity_busy_intervals(user=user, start=start - margin, end=end + margin)
        members.append(
            Member(
                key=user.pk,
                windows=windows[user.pk],
                zone=user.zone,
                busy=tuple(_without(busy, ignore)),
                last_booked_at=last.get(user.pk),
            )
        )
    return members


def free_slots_for(
    *,
    meeting_type: MeetingType,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    users: list[User] | None = None,
    ignore: Interval | None = None,
) -> dict[dt.datetime, list[int]]:
    """Free start times of a meeting type in [start, end), each with the members free then."""
    page = meeting_type.page
    users = page_members(page=page) if users is None else users
    rules = slot_rules(meeting_type)
    members = members_for(page=page, users=users, start=start, end=end, rules=rules, ignore=ignore)
    return team_free_slots(members=members, rules=rules, now=now, start=start, end=end)


def slot_takers(
    *,
    meeting_type: MeetingType,
    starts_at: dt.datetime,
    now: dt.datetime,
    users: list[User],
    ignore: Interval | None = None,
) -> list[User]:
    """The users free to take a meeting at `starts_at`, whose turn it is first."""
    rules = slot_rules(meeting_type)
    end = starts_at + dt.timedelta(seconds=1)
    members = members_for(
        page=meeting_type.page, users=users, start=starts_at, end=end, rules=rules, ignore=ignore
    )
    free = team_free_slots(members=members, rules=rules, now=now, start=starts_at, end=end)
    keys = set(free.get(starts_at, []))
    by_pk = {user.pk: user for user in users}
    return [by_pk[key] for key in round_robin_order([m for m in members if m.key in keys])]


def booking_pages_managed_by(*, user: Any) -> QuerySet[BookingPage]:
    """The pages a user may edit: their own, and their teams' (managers) or every one (admins)."""
    pages = BookingPage.objects.select_related("owner", "team")
    if user.is_admin:
        return pages.all()
    mine = Q(owner=user)
    if user.is_manager:
        mine |= Q(team__in=user.teams.all())
    return pages.filter(mine)


def booking_get(*, pk: int) -> Booking | None:
    """A booking with everything its pages show (the caller has checked the token)."""
    return (
        Booking.objects.select_related(
            "activity", "assigned_to", "meeting_type", "meeting_type__page"
        )
        .filter(pk=pk)
        .first()
    )
