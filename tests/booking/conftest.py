"""A rep's booking page (Rita, Europe/Berlin, weekdays 09–17), a demo type, and helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.activities.booking.models import BookingPage, MeetingType
from closeloop.activities.booking.selectors import free_slots_for
from closeloop.activities.booking.services import (
    MeetingTypeInput,
    Visitor,
    availability_set,
    booking_page_save,
    meeting_type_save,
)
from closeloop.activities.booking.slots import WeeklyWindow
from tests.worker import run_worker as run_worker

ALL_WEEK = [WeeklyWindow(day, dt.time(0), dt.time(23, 30)) for day in range(7)]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def hours(user: User, windows: list[WeeklyWindow] | None = None) -> None:
    """Give `user` weekly hours (every day, all day, unless told)."""
    availability_set(actor=None, user=user, windows=ALL_WEEK if windows is None else windows)


@pytest.fixture
def berlin_rep(rep: User) -> User:
    rep.time_zone = "Europe/Berlin"
    rep.save(update_fields=["time_zone"])
    hours(rep)
    return rep


@pytest.fixture
def booking_page(berlin_rep: User) -> BookingPage:
    return booking_page_save(
        actor=berlin_rep, owner=berlin_rep, slug="rita", title="Book a demo with Rita"
    )


@pytest.fixture
def demo(booking_page: BookingPage) -> MeetingType:
    return meeting_type_save(
        actor=None,
        page=booking_page,
        data=MeetingTypeInput(
            name="Product demo",
            kind="demo",
            duration_minutes=30,
            location="https://meet.example/rita",
            notice_hours=1,
            horizon_days=30,
        ),
    )


def free_starts(meeting_type: MeetingType, days: int = 7, **kwargs: Any) -> list[dt.datetime]:
    now = timezone.now()
    return list(
        free_slots_for(
            meeting_type=meeting_type, start=now, end=now + dt.timedelta(days=days), now=now,
            **kwargs,
        )
    )  # fmt: skip


def visitor(**kwargs: Any) -> Visitor:
    values = {
        "name": "Vera Visitor",
        "email": "vera@visitor.example",
        "company": "Visitor GmbH",
        "question": "Does it do X?",
        "time_zone": "America/New_York",
    }
    return Visitor(**(values | kwargs))
