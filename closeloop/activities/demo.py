"""Planned work for the demo workspace: past calls done, a few overdue, some today, more to
come, and some open deals deliberately left without a next step (so the marks show)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from .choices import ActivityKind
from .services import activity_complete, activity_schedule

SUBJECTS = {
    ActivityKind.CALL: ["Follow-up call", "Check the budget", "Call about the quote"],
    ActivityKind.MEETING: ["On-site visit", "Kick-off meeting", "Requirements workshop"],
    ActivityKind.DEMO: ["Product demo", "Demo for the team"],
    ActivityKind.TASK: ["Send the proposal", "Prepare references", "Update the quote"],
}


def _at(owner: Any, day: dt.date, rng: random.Random) -> dt.datetime:
    """A round working hour on `day` in the owner's zone."""
    hour = rng.choice([9, 10, 11, 13, 14, 15, 16])
    return dt.datetime.combine(day, dt.time(hour, rng.choice([0, 30])), tzinfo=owner.zone)


def create_planned_work(
    *, deals: Sequence[Any], rng: random.Random, now: dt.datetime | None = None
) -> int:
    """Schedule calls, meetings, demos and tasks on open deals through the services (no invites
    are sent: the demo's addresses are made up). Returns how many were planned."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    planned = 0
    for deal in deals:
        owner = deal.owner
        kind = rng.choice(list(SUBJECTS))
        meets = kind in (ActivityKind.MEETING, ActivityKind.DEMO)
        common = {
            "actor": owner,
            "owner": owner,
            "deal": deal,
            "send_invites": False,
            "location": "https://meet.example.com/demo" if meets else "",
            "attendee_contacts": [deal.contact] if deal.contact and meets else [],
        }
        if rng.random() < 0.5:  # something already done last week
            past = _at(owner, today - dt.timedelta(days=rng.randint(2, 9)), rng)
            done = activity_schedule(
                kind=ActivityKind.CALL, subject="Intro call", starts_at=past, **common
            )
            activity_complete(actor=owner, activity=done, notes="Good first conversation.")
            planned += 1
        roll = rng.random()
        if roll < 0.25:
            continue  # no next step: the board and list mark it
        if roll < 0.35:
            when = now - dt.timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 5))
        elif roll < 0.55:
            when = _at(owner, today, rng)
        else:
            when = _at(owner, today + dt.timedelta(days=rng.randint(1, 12)), rng)
        length = (
            None if kind == ActivityKind.TASK else dt.timedelta(minutes=rng.choice([30, 45, 60]))
        )
        activity_schedule(
            kind=kind,
            subject=rng.choice(SUBJECTS[kind]),
            starts_at=when,
            ends_at=when + length if length else None,
            **common,
        )
        planned += 1
    return planned


def create_booking_demo(*, reps: Sequence[Any], team: Any) -> list[Any]:
    """A booking page for each rep and one for their team (weekdays 09:00–17:00 on each rep's
    clock, a 30-minute demo and a 15-minute intro call), so `make run` has public pages to try."""
    from .booking.services import (
        MeetingTypeInput,
        availability_set,
        booking_page_save,
        meeting_type_save,
    )
    from .booking.slots import WeeklyWindow

    weekdays = [WeeklyWindow(day, dt.time(9), dt.time(17)) for day in range(5)]
    pages = []
    for rep in reps:
        availability_set(actor=None, user=rep, windows=weekdays)
        slug = (rep.email.split("@")[0] or f"rep-{rep.pk}").lower()
        pages.append(booking_page_save(actor=None, owner=rep, slug=slug, title=f"Meet {rep}"))
    pages.append(booking_page_save(actor=None, team=team, slug="sales", title="Talk to sales"))
    for page in pages:
        meeting_type_save(
            actor=None,
            page=page,
            data=MeetingTypeInput(
                name="Product demo",
                kind=ActivityKind.DEMO,
                duration_minutes=30,
                location="https://meet.example.com/demo",
                buffer_after_minutes=10,
            ),
        )
        meeting_type_save(
            actor=None,
            page=page,
            data=MeetingTypeInput(name="Intro call", duration_minutes=15, notice_hours=2),
        )
    return pages
