"""The morning digest: once a local day, after the user's hour, only when there is something."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from closeloop.accounts.models import User
from closeloop.activities.choices import ActivityKind
from closeloop.activities.digest import digests_send
from closeloop.activities.reminders import user_reminders_update
from closeloop.activities.services import activity_cancel, activity_complete, activity_schedule
from closeloop.core.links import absolute_url
from closeloop.messaging.models import Message
from tests.mail import Server
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# Europe's clocks go back on Sunday 25 October 2026 at 03:00 CEST (01:00 UTC)
DST_END_DAY = dt.date(2026, 10, 25)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)


def _plan(owner: Any, deal: Any, subject: str, when: dt.datetime, **kw: Any) -> Any:
    return activity_schedule(
        actor=owner,
        kind=kw.pop("kind", ActivityKind.TASK),
        subject=subject,
        starts_at=when,
        deal=deal,
        send_invites=False,
        **kw,
    )


@pytest.fixture
def rita(rep: User) -> User:
    """Rita in Berlin, with the digest at 07:00."""
    User.objects.filter(pk=rep.pk).update(time_zone="Europe/Berlin", digest_enabled=True)
    rep.refresh_from_db()
    return rep


def _digests() -> list[Message]:
    return list(Message.objects.filter(subject__startswith="Your day").order_by("pk"))


# db_worker closes a connection inside a transaction, which PostgreSQL does not survive
@pytest.mark.django_db(transaction=True)
def test_the_digest_lists_today_and_overdue_work_once_after_the_hour_through_smtp(
    rita: User,
    teammate: User,
    bakery_deal: Any,
    smtp_server: Server,
    django_capture_on_commit_callbacks: Any,
):
    day = DST_END_DAY
    _plan(rita, bakery_deal, "Call the bakery", _at(day, 9), kind=ActivityKind.CALL)
    _plan(rita, bakery_deal, "Late review", _at(day, 23, 30), kind=ActivityKind.MEETING)
    _plan(rita, bakery_deal, "Send the quote", _at(day - dt.timedelta(days=2), 16))
    _plan(teammate, bakery_deal, "Joint visit", _at(day, 11), kind=ActivityKind.MEETING,
          attendee_users=[rita])  # fmt: skip
    # not listed: tomorrow's, done, cancelled, and a colleague's own work
    _plan(rita, bakery_deal, "Tomorrow's", _at(day + dt.timedelta(days=1), 0, 30))
    done = _plan(rita, bakery_deal, "Done already", _at(day, 8))
    activity_complete(actor=rita, activity=done)
    dropped = _plan(rita, bakery_deal, "Dropped", _at(day, 10), kind=ActivityKind.MEETING)
    activity_cancel(actor=rita, activity=dropped, send_invites=False)
    _plan(teammate, bakery_deal, "Tom's task", _at(day, 10))

    # 05:30 UTC is 06:30 in Berlin that day (winter time again): not yet
    assert digests_send(now=dt.datetime(2026, 10, 25, 5, 30, tzinfo=dt.UTC)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_send(now=dt.datetime(2026, 10, 25, 6, 5, tzinfo=dt.UTC)) == 1
        assert digests_send(now=dt.datetime(2026, 10, 25, 6, 20, tzinfo=dt.UTC)) == 0
        assert digests_send(now=dt.datetime(2026, 10, 25, 22, 50, tzinfo=dt.UTC)) == 0
    run_worker()

    (mail,) = smtp_server.recorder.messages()
    assert mail["To"] == "rep@example.com"
    assert mail["Subject"] == "Your day, Sun 25 Oct: 3 today, 1 overdue"
    text = mail.get_body(("plain",)).get_content()
    today, overdue = text.split("Overdue")
    assert [line.split("  ", 1)[1] for line in today.splitlines() if line.startswith("- ")] == [
        "Call: Call the bakery",
        "Meeting: Joint visit",
        "Meeting: Late review",
    ]
    assert "- 09:00  Call: Call the bakery" in today and "- 23:30  Meeting: Late review" in today
    assert "- Fri 23 Oct, 16:00  Task: Send the quote" in overdue
    assert absolute_url(f"/deals/{bakery_deal.pk}/") in text
    for absent in ("Tomorrow's", "Done already", "Dropped", "Tom's task"):
        assert absent not in text


def test_the_next_local_day_gets_the_next_digest_and_an_empty_day_none(
    rita: User, bakery_deal: Any
):
    day = DST_END_DAY
    _plan(rita, bakery_deal, "Monday task", _at(day + dt.timedelta(days=1), 9))
    # Sunday: nothing due that day and nothing overdue, so no mail, also not later that day
    assert digests_send(now=_at(day, 7, 5)) == 0
    assert digests_send(now=_at(day, 12)) == 0
    # Monday 06:59 is too early, 07:00 is the hour
    assert digests_send(now=_at(day + dt.timedelta(days=1), 6, 59)) == 0
    assert digests_send(now=_at(day + dt.timedelta(days=1), 7, 0)) == 1
    assert [m.subject for m in _digests()] == ["Your day, Mon 26 Oct: 1 today"]
    # a later hour chosen the same day brings no second digest that day
    user_reminders_update(
        actor=rita, user=rita, reminder_minutes=30, digest_enabled=True, digest_hour=9
    )
    assert digests_send(now=_at(day + dt.timedelta(days=1), 9, 30)) == 0
    # Tuesday, from the new hour on, the task is overdue
    assert digests_send(now=_at(day + dt.timedelta(days=2), 8)) == 0
    assert digests_send(now=_at(day + dt.timedelta(days=2), 9)) == 1
    assert _digests()[-1].subject == "Your day, Tue 27 Oct: 1 overdue"


def test_the_hour_is_the_users_own_and_only_opted_in_active_users_get_it(
    rita: User, teammate: User, outsider: User, bakery_deal: Any
):
    User.objects.filter(pk=teammate.pk).update(
        time_zone="America/New_York", digest_enabled=True, digest_hour=6
    )
    User.objects.filter(pk=outsider.pk).update(digest_enabled=True, is_active=False)
    for user in (rita, teammate, outsider):
        _plan(user, bakery_deal, f"{user.display_name}'s task", _at(DST_END_DAY, 18))
    _plan(User.objects.get(pk=teammate.pk), bakery_deal, "Opted out", _at(DST_END_DAY, 18))

    # 07:00 in Berlin is 02:00 in New York: Rita only
    assert digests_send(now=_at(DST_END_DAY, 7)) == 1
    # 06:00 in New York (EDT until 1 November) is 10:00 UTC
    assert digests_send(now=dt.datetime(2026, 10, 25, 9, 59, tzinfo=dt.UTC)) == 0
    assert digests_send(now=dt.datetime(2026, 10, 25, 10, 0, tzinfo=dt.UTC)) == 1
    assert [m.to for m in _digests()] == [["rep@example.com"], ["teammate@example.com"]]


def test_the_profile_saves_the_digest_and_reminder_settings(rep: User, rep_client: Any):
    page = rep_client.get("/accounts/profile/")
    assert b"Send me a morning digest" in page.content and b"Meeting reminders" in page.content
    response = rep_client.post(
        "/calendar/reminders/",
        {"reminder_minutes": "60", "digest_enabled": "on", "digest_hour": "8"},
        follow=True,
    )
    assert "Your reminder settings are saved." in response.content.decode()
    rep.refresh_from_db()
    assert (rep.reminder_minutes, rep.digest_enabled, rep.digest_hour) == (60, True, 8)

    response = rep_client.post(
        "/calendar/reminders/",
        {"reminder_minutes": "7", "digest_hour": "8"},
        follow=True,
    )
    assert "Select a valid choice" in response.content.decode()
    rep.refresh_from_db()
    assert rep.reminder_minutes == 60
