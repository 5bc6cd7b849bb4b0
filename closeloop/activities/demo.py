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
