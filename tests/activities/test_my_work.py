"""'My work' (overdue, today, next 7 days, later, with quick complete) and the week calendar."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.choices import ActivityKind, ActivityOutcome
from closeloop.activities.models import Activity
from closeloop.activities.services import activity_cancel, activity_schedule
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db
WORK = reverse("work:my_work")
WEEK = reverse("work:week")
BERLIN = ZoneInfo("Europe/Berlin")


def _plan(owner: Any, when: dt.datetime, subject: str, **kwargs: Any) -> Activity:
    kwargs.setdefault("kind", ActivityKind.CALL)
    kwargs.setdefault("deal", DealFactory(owner=owner))
    return activity_schedule(
        actor=owner, owner=owner, subject=subject, starts_at=when, send_invites=False, **kwargs
    )


def _section(html: str, key: str) -> str:
    start = html.index(f'id="work-{key}"')
    return html[start : html.find("</section>", start)]


def test_my_work_sorts_open_items_by_when_they_are_due(rep: Any, rep_client: Any):
    rep.time_zone = "Europe/Berlin"
    rep.save()
    # noon in Berlin, so "later today" and "tomorrow" are clear
    noon = dt.datetime(2026, 12, 2, 12, tzinfo=BERLIN)
    with mock.patch("django.utils.timezone.now", return_value=noon - dt.timedelta(days=10)):
        _plan(rep, noon - dt.timedelta(days=1), "Yesterday's call")
        _plan(rep, noon + dt.timedelta(hours=3), "Afternoon call")
        _plan(rep, noon + dt.timedelta(days=3), "Thursday meeting", kind=ActivityKind.MEETING)
        _plan(rep, noon + dt.timedelta(days=20), "Quarterly review")
        done = _plan(rep, noon + dt.timedelta(hours=1), "Already done")
        Activity.objects.filter(pk=done.pk).update(done_at=noon, outcome=ActivityOutcome.HELD)
    with mock.patch("django.utils.timezone.now", return_value=noon):
        html = rep_client.get(WORK).content.decode()
    assert "Yesterday&#x27;s call" in _section(html, "overdue")
    assert "Afternoon call" in _section(html, "today")
    assert "Thursday meeting" in _section(html, "upcoming")
    assert "Quarterly review" in _section(html, "later")
    assert "Already done" not in html
    assert "4 open items" in html


def test_quick_complete_from_my_work(rep: Any, rep_client: Any):
    meeting = _plan(rep, timezone.now() + dt.timedelta(hours=1), "Demo", kind=ActivityKind.DEMO)
    html = rep_client.get(WORK).content.decode()
    assert f'hx-post="{reverse("activity:complete", args=[meeting.pk])}"' in html
    response = rep_client.post(
        reverse("activity:complete", args=[meeting.pk]),
        {"outcome": "no_show"},
        HTTP_HX_REQUEST="true",
    )
    assert "Done · No-show" in response.content.decode()
    assert "Demo" not in rep_client.get(WORK).content.decode().split("</h1>")[1]


def test_managers_switch_to_team_members_reps_and_outsiders_cannot(
    rep: Any, rep_client: Any, manager_client: Any, outsider: Any, outsider_client: Any,
    admin_client_: Any, teammate: Any, request: Any,
):  # fmt: skip
    # a Wednesday morning, so two hours on is still today and this week at any hour the suite runs
    traveller = time_machine.travel(dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC), tick=False)
    traveller.start()
    request.addfinalizer(traveller.stop)
    _plan(rep, timezone.now() + dt.timedelta(hours=2), "Rita's call")
    _plan(outsider, timezone.now() + dt.timedelta(hours=2), "Otto's call")
    html = manager_client.get(WORK, {"user": rep.pk}).content.decode()
    assert "Rita Rep’s work" in html and "Rita&#x27;s call" in html
    assert 'name="user"' in html
    assert manager_client.get(WORK, {"user": outsider.pk}).status_code == 404
    assert rep_client.get(WORK, {"user": teammate.pk}).status_code == 404
    assert outsider_client.get(WORK, {"user": rep.pk}).status_code == 404
    assert 'name="user"' not in rep_client.get(WORK).content.decode()
    html = admin_client_.get(WORK, {"user": outsider.pk}).content.decode()
    assert "Otto&#x27;s call" in html
    week = manager_client.get(WEEK, {"user": rep.pk}).content.decode()
    assert "Rita&#x27;s call" in week


def test_my_work_query_count_does_not_grow_with_items(
    rep: Any, rep_client: Any, django_assert_max_num_queries: Any
):
    start = timezone.now()
    _plan(rep, start - dt.timedelta(hours=1), "One")
    with django_assert_max_num_queries(30) as few:
        rep_client.get(WORK)
    for i in range(15):
        _plan(rep, start + dt.timedelta(days=i - 5), f"Call {i}", kind=ActivityKind.MEETING)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = rep_client.get(WORK).content.decode()
    assert "16 open items" in html
    with django_assert_max_num_queries(len(few.captured_queries)):
        rep_client.get(WEEK)


def _items(html: str) -> dict[str, tuple[int, str, int]]:
    """Subject → (day column, start shown, grid row) of each placed item."""
    found = {}
    for match in re.finditer(
        r'grid-row:(\d+) / span \d+" data-day="(\d)" data-start="([\d:]+)">.*?</span> (.+?)\n',
        html,
        re.S,
    ):
        row, day, start, subject = match.groups()
        found[subject.strip()] = (int(day), start, int(row))
    return found


def test_the_week_calendar_keeps_wall_clock_times_across_a_dst_change(rep: Any, rep_client: Any):
    rep.time_zone = "Europe/Berlin"
    rep.save()
    # Europe's clocks go back on Sunday 25 October 2026: the week Mon 19 – Sun 25 October
    for day in (19, 23, 24, 25):
        _plan(rep, dt.datetime(2026, 10, day, 10, tzinfo=BERLIN), f"Standup {day}",
              kind=ActivityKind.MEETING)  # fmt: skip
    _plan(rep, dt.datetime(2026, 10, 26, 10, tzinfo=BERLIN), "Next Monday",
          kind=ActivityKind.MEETING)  # fmt: skip
    _plan(rep, dt.datetime(2026, 10, 25, 23, 30, tzinfo=BERLIN), "Late Sunday",
          kind=ActivityKind.MEETING)  # fmt: skip
    _plan(rep, dt.datetime(2026, 10, 20, 6, tzinfo=BERLIN), "Early bird")
    _plan(rep, dt.datetime(2026, 10, 21, 17, tzinfo=BERLIN), "Send offer", kind=ActivityKind.TASK)
    cancelled = _plan(rep, dt.datetime(2026, 10, 22, 9, tzinfo=BERLIN), "Called off")
    activity_cancel(actor=rep, activity=cancelled)
    html = rep_client.get(WEEK, {"date": "2026-10-22"}).content.decode()
    assert "19 Oct – 25 Oct 2026" in html
    items = _items(html)
    ten = (10 - 7) * 4 + 1
    assert items["Standup 19"] == (0, "10:00", ten)
    assert items["Standup 24"] == (5, "10:00", ten)
    assert items["Standup 25"] == (6, "10:00", ten)  # CET now, still 10:00 on the wall
    assert items["Early bird"] == (1, "06:00", 1)  # clamped to the top and marked
    assert items["Late Sunday"][0] == 6 and items["Late Sunday"][2] == 56
    assert 'title="Starts before 07:00"' in html and 'title="Starts after 21:00"' in html
    assert "Next Monday" not in html and "Called off" not in html
    assert "Send offer" in html.split('class="week-grid"')[0]  # tasks on top of their day
    assert "?date=2026-10-12" in html and "?date=2026-10-26" in html
    following = rep_client.get(WEEK, {"date": "2026-10-26"}).content.decode()
    assert _items(following)["Next Monday"] == (0, "10:00", ten)


def test_the_week_shows_meetings_one_attends(rep: Any, teammate: Any, client_for: Any):
    noon = dt.datetime.combine(
        timezone.localdate(), dt.time(12), tzinfo=timezone.get_current_timezone()
    )
    _plan(rep, noon, "Joint demo", kind=ActivityKind.DEMO, attendee_users=[teammate])
    html = client_for(teammate).get(WEEK).content.decode()
    assert "Joint demo" in html
