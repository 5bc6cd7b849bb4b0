"""The private calendar feed: what it lists, how calendar apps read it, and who can open it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from closeloop.accounts.models import User
from closeloop.activities.choices import ActivityKind
from closeloop.activities.feed import calendar_feed_reset, calendar_feed_token, calendar_feed_url
from closeloop.activities.models import Activity
from closeloop.activities.services import (
    activity_cancel,
    activity_complete,
    activity_reschedule,
    activity_schedule,
)
from closeloop.core.exceptions import DomainError

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# a week before Europe's clocks go back (25 October 2026, 03:00 CEST → 02:00 CET)
NOW = dt.datetime(2026, 10, 18, 8, 0, tzinfo=dt.UTC)
BEFORE_DST_END = dt.datetime(2026, 10, 24, 10, 0, tzinfo=BERLIN)
AFTER_DST_END = dt.datetime(2026, 10, 26, 10, 0, tzinfo=BERLIN)


@pytest.fixture(autouse=True)
def _now() -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def _plan(actor: Any, deal: Any, kind: str, subject: str, starts_at: dt.datetime, **kw: Any) -> Any:
    return activity_schedule(
        actor=actor,
        kind=kind,
        subject=subject,
        starts_at=starts_at,
        time_zone="Europe/Berlin",
        deal=deal,
        send_invites=False,
        **kw,
    )


def _feed_of(user: User) -> str:
    calendar_feed_reset(actor=user, user=user)
    return f"/calendar/{calendar_feed_token(user)}.ics"


def _events(response: Any) -> dict[str, Any]:
    calendar = Calendar.from_ical(response.content)
    return {str(event["summary"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_lists_the_users_own_work_with_times_right_across_the_dst_change(
    rep: Any, teammate: Any, outsider: Any, bakery_deal: Any
):
    demo = _plan(
        rep, bakery_deal, ActivityKind.DEMO, "Product demo", BEFORE_DST_END,
        ends_at=BEFORE_DST_END + dt.timedelta(hours=1), location="https://meet.example.com/demo",
        attendee_contacts=[bakery_deal.contact],
    )  # fmt: skip
    follow_up = _plan(rep, bakery_deal, ActivityKind.MEETING, "Follow-up", AFTER_DST_END)
    task = _plan(rep, bakery_deal, ActivityKind.TASK, "Send the quote", AFTER_DST_END)
    call = _plan(rep, bakery_deal, ActivityKind.CALL, "Intro call", NOW - dt.timedelta(days=3))
    activity_complete(actor=rep, activity=call)
    dropped = _plan(rep, bakery_deal, ActivityKind.MEETING, "Dropped", BEFORE_DST_END)
    activity_cancel(actor=rep, activity=dropped, send_invites=False)
    # a teammate's meeting rep attends is rep's too; an outsider's and a note are not
    joint = _plan(
        teammate, bakery_deal, ActivityKind.MEETING, "Joint visit", AFTER_DST_END,
        attendee_users=[rep],
    )  # fmt: skip
    _plan(outsider, bakery_deal, ActivityKind.MEETING, "Not rep's", AFTER_DST_END)
    # outside the window: more than 60 days back, more than a year ahead
    _plan(rep, bakery_deal, ActivityKind.TASK, "Long ago", NOW - dt.timedelta(days=61))
    _plan(rep, bakery_deal, ActivityKind.TASK, "Far ahead", NOW + dt.timedelta(days=366))

    response = Client().get(_feed_of(rep))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"] and response["ETag"]
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["x-wr-calname"]) == "Closeloop – Rita Rep"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.content
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = _events(response)
    assert set(events) == {
        "Product demo", "Follow-up", "Send the quote", "✓ Intro call", "Joint visit"
    }, "cancelled, other people's and out-of-window work is left out; done work stays"  # fmt: skip
    uids = {str(e["uid"]) for e in events.values()}
    assert uids == {a.ics_uid for a in (demo, follow_up, task, call, joint)}

    start, end = events["Product demo"].decoded("dtstart"), events["Product demo"].decoded("dtend")
    assert (start, start.utcoffset()) == (BEFORE_DST_END, dt.timedelta(hours=2))
    assert end - start == dt.timedelta(hours=1)
    assert str(events["Product demo"]["location"]) == "https://meet.example.com/demo"
    attendee = events["Product demo"]["attendee"]
    assert str(attendee) == "mailto:lena@bakery.example"
    start = events["Follow-up"].decoded("dtstart")
    # 10:00 in Berlin both times, once in summer time and once not
    assert (start.hour, start.utcoffset()) == (10, dt.timedelta(hours=1))
    assert events["Follow-up"]["dtstart"].params["TZID"] == "Europe/Berlin"
    # a task is an event at its due time
    assert events["Send the quote"].decoded("dtstart") == AFTER_DST_END


def test_a_rescheduled_meeting_keeps_its_uid_with_a_higher_sequence(rep: Any, bakery_deal: Any):
    meeting = _plan(rep, bakery_deal, ActivityKind.MEETING, "Review", BEFORE_DST_END)
    url = _feed_of(rep)
    first = Client().get(url)
    assert Client().get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert Client().head(url).status_code == 200
    assert Client().post(url).status_code == 405

    activity_reschedule(actor=rep, activity=meeting, starts_at=AFTER_DST_END, send_invites=False)
    response = Client().get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200, "a change gives a new ETag"
    event = _events(response)["Review"]
    assert str(event["uid"]) == meeting.ics_uid and int(event["sequence"]) == 1
    assert event.decoded("dtstart") == AFTER_DST_END


def test_the_query_count_does_not_grow_with_the_activities(rep: Any, bakery_deal: Any):
    url = _feed_of(rep)
    _plan(rep, bakery_deal, ActivityKind.DEMO, "Demo 0", BEFORE_DST_END,
          attendee_contacts=[bakery_deal.contact])  # fmt: skip
    Client().get(url)  # the first request of a rate-limit window also creates its row
    with CaptureQueriesContext(connection) as few:
        assert Client().get(url).status_code == 200
    for n in range(1, 8):
        _plan(rep, bakery_deal, ActivityKind.DEMO, f"Demo {n}", AFTER_DST_END,
              attendee_contacts=[bakery_deal.contact])  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        response = Client().get(url)
    assert len(_events(response)) == 8
    assert len(many) == len(few) <= 8


def test_resetting_the_link_revokes_the_old_one(rep: Any, bakery_deal: Any):
    assert calendar_feed_url(rep) == "", "no feed until the user asks for one"
    old = _feed_of(rep)
    assert f"/calendar/{calendar_feed_token(rep)}.ics" == old, "one feed, one stable URL"
    assert Client().get(old).status_code == 200
    new = _feed_of(rep)
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    calendar_feed_reset(actor=rep, user=rep, enabled=False)
    assert Client().get(new).status_code == 404
    assert calendar_feed_url(rep) == ""


def test_only_admins_reset_someone_elses_feed(rep: Any, teammate: Any, admin: Any):
    with pytest.raises(DomainError, match="Only admins"):
        calendar_feed_reset(actor=teammate, user=rep)
    old = _feed_of(rep)
    calendar_feed_reset(actor=admin, user=rep)
    assert Client().get(old).status_code == 404


def test_tampered_foreign_and_deactivated_links_are_not_found(rep: Any, teammate: Any):
    url = _feed_of(rep)
    token = url.removeprefix("/calendar/").removesuffix(".ics")
    payload, signature = token.rsplit(":", 1)
    teammate_payload = signing.dumps([teammate.pk, rep.calendar_feed_key], compress=False)
    wrong_salt = signing.dumps([rep.pk, rep.calendar_feed_key], compress=False)
    for bad in (
        f"{payload}:{signature[:-2]}xx",
        f"{teammate_payload.rsplit(':', 1)[0]}:{signature}",  # another user's id, rep's signature
        wrong_salt,
        "nonsense",
    ):
        response = Client().get(f"/calendar/{bad}.ics")
        assert response.status_code == 404
        assert b"rep@example.com" not in response.content and b"BEGIN" not in response.content

    User.objects.filter(pk=rep.pk).update(is_active=False)
    assert Client().get(url).status_code == 404


def test_the_feed_is_rate_limited_per_address(rep: Any, settings: Any):
    settings.CALENDAR_FEED_RATE_PER_IP = 2
    url = _feed_of(rep)
    assert [Client().get(url).status_code for _ in range(2)] == [200, 200]
    refused = Client().get(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    # guessing tokens counts too
    assert Client().get("/calendar/guess.ics").status_code == 429
    assert Client(REMOTE_ADDR="10.0.0.9").get(url).status_code == 200


def test_the_profile_offers_the_link_and_resets_it_with_a_csrf_protected_post(
    rep: Any, rep_client: Client
):
    page = rep_client.get("/accounts/profile/")
    assert b"Create feed link" in page.content

    response = rep_client.post("/calendar/feed/reset/", {"action": "reset"}, follow=True)
    rep.refresh_from_db()
    url = calendar_feed_url(rep)
    assert url.startswith("http") and url.endswith(".ics")
    content = response.content.decode()
    assert "Your calendar feed link is ready." in content
    assert url in content and "webcal://" + url.split("://")[1] in content
    assert "Reset link" in content and "Google Calendar" in content

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rep)
    assert strict.post("/calendar/feed/reset/", {"action": "reset"}).status_code == 403
    assert Client().post("/calendar/feed/reset/").status_code == 302, "login first"
    assert rep_client.get("/calendar/feed/reset/").status_code == 405
    rep.refresh_from_db()
    assert calendar_feed_url(rep) == url, "nothing changed without a valid post"

    rep_client.post("/calendar/feed/reset/", {"action": "reset"})
    rep.refresh_from_db()
    assert calendar_feed_url(rep) != url
    assert Activity.objects.count() == 0
