"""Both sides of a booking get the invitation with its ICS through a real SMTP server."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar

from closeloop.activities.booking.services import (
    booking_cancel,
    booking_create,
    booking_for_token,
    booking_reschedule,
)

from .conftest import free_starts, run_worker, visitor

pytestmark = pytest.mark.django_db(transaction=True)


def _calendar(message) -> Calendar:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_payload(decode=True))
    raise AssertionError("no text/calendar part")


def _by_recipient(server) -> dict[str, object]:
    return {m["To"].addresses[0].addr_spec: m for m in server.recorder.messages()}


def test_visitor_and_rep_get_the_invite_with_the_manage_links(
    berlin_rep, demo, smtp_server, settings
):
    start = free_starts(demo)[0]
    booking = booking_create(meeting_type=demo, starts_at=start, visitor=visitor())
    run_worker()

    received = _by_recipient(smtp_server)
    assert set(received) == {"vera@visitor.example", "rep@example.com"}
    for message in received.values():
        calendar = _calendar(message)
        assert str(calendar["METHOD"]) == "REQUEST"
        [event] = calendar.walk("VEVENT")
        assert event.decoded("DTSTART") == start
        assert str(event["UID"]) == booking.activity.ics_uid
        text = message.get_body(preferencelist=("plain",)).get_content()
        assert "Booker's time: " in text and "(America/New_York)" in text
        links = re.findall(rf"{re.escape(settings.SITE_URL)}/book/manage/([^/\s]+)/(\w+)/", text)
        assert [action for _, action in links] == ["reschedule", "cancel"]
        for token, _ in links:
            assert booking_for_token(token=token) == booking


def test_reschedule_and_cancel_update_both_calendars(berlin_rep, demo, smtp_server):
    first, second = free_starts(demo)[:2]
    booking = booking_create(meeting_type=demo, starts_at=first, visitor=visitor())
    run_worker()
    booking_reschedule(booking=booking, starts_at=second)
    run_worker()
    booking_cancel(booking=booking)
    run_worker()

    events = {}
    for message in smtp_server.recorder.messages():
        calendar = _calendar(message)
        [event] = calendar.walk("VEVENT")
        to = message["To"].addresses[0].addr_spec
        events.setdefault(to, []).append(
            (str(calendar["METHOD"]), int(event["SEQUENCE"]), event.decoded("DTSTART"))
        )
    for to in ("vera@visitor.example", "rep@example.com"):
        methods = [method for method, _, _ in events[to]]
        assert methods == ["REQUEST", "REQUEST", "CANCEL"], to
        sequences = [sequence for _, sequence, _ in events[to]]
        assert sequences == sorted(sequences) and sequences[0] < sequences[1], to
        assert events[to][1][2] == second
