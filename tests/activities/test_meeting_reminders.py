"""Meeting reminders: one email to the owner before each meeting, demo and call they own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.reminders import (
    _reminder_send,
    meeting_reminders_send,
    user_reminders_update,
)
from closeloop.activities.services import activity_cancel, activity_reschedule, activity_schedule
from closeloop.core.exceptions import DomainError
from closeloop.core.links import absolute_url
from closeloop.core.schedule import jobs_due_enqueue
from closeloop.messaging.models import Message
from tests.mail import Server
from tests.worker import run_worker

pytestmark = pytest.mark.django_db


def _meeting(owner: Any, deal: Any, in_minutes: float, **kw: Any) -> Activity:
    return activity_schedule(
        actor=owner,
        kind=kw.pop("kind", ActivityKind.MEETING),
        subject=kw.pop("subject", "Site visit"),
        starts_at=kw.pop("starts_at", timezone.now() + dt.timedelta(minutes=in_minutes)),
        location=kw.pop("location", "https://meet.example.com/visit"),
        deal=deal,
        attendee_contacts=[deal.contact],
        send_invites=False,
        **kw,
    )


def _send(capture: Any, now: dt.datetime | None = None) -> int:
    """Run the reminder job; its emails are queued (and their sending enqueued) on commit."""
    with capture(execute=True):
        return meeting_reminders_send(now=now)


# The tests that run the worker use real transactions: db_worker closes a connection that is
# inside a transaction (as each test otherwise is), which PostgreSQL does not survive.
through_the_worker = pytest.mark.django_db(transaction=True)


def _reminders() -> list[Message]:
    return list(Message.objects.filter(subject__startswith="Reminder:").order_by("pk"))


@through_the_worker
def test_the_owner_gets_one_reminder_in_their_zone_through_smtp(
    rep: Any, bakery_deal: Any, smtp_server: Server, django_capture_on_commit_callbacks: Any
):
    User.objects.filter(pk=rep.pk).update(time_zone="America/New_York")
    rep.refresh_from_db()
    meeting = _meeting(rep, bakery_deal, 25, time_zone="Europe/Berlin")

    assert _send(django_capture_on_commit_callbacks) == 1
    assert _send(django_capture_on_commit_callbacks) == 0, "run twice, still one reminder"
    run_worker()

    (mail,) = smtp_server.recorder.messages()
    assert mail["To"] == "rep@example.com"
    start = timezone.localtime(meeting.due_at, rep.zone)
    assert mail["Subject"] == f"Reminder: Site visit at {start:%H:%M}"
    text = mail.get_body(("plain",)).get_content()
    assert f"{start:%H:%M}" in text and "(America/New_York)" in text, "in the reader's zone"
    assert "Video link: https://meet.example.com/visit" in text
    assert "With: Lena Lind <lena@bakery.example>" in text
    assert f"Record: {absolute_url(f'/deals/{bakery_deal.pk}/')}" in text
    meeting.refresh_from_db()
    assert meeting.reminder_sent_at is not None
    assert not Activity.objects.filter(kind=ActivityKind.EMAIL).exists(), "not on the timeline"


def test_a_reminder_waits_for_the_owners_lead_time_and_a_reschedule_gets_a_new_one(
    rep: Any, bakery_deal: Any, django_capture_on_commit_callbacks: Any
):
    meeting = _meeting(rep, bakery_deal, 45)
    assert _send(django_capture_on_commit_callbacks) == 0, "45 minutes ahead, reminded at 30"
    now = timezone.now()
    assert _send(django_capture_on_commit_callbacks, now + dt.timedelta(minutes=14)) == 0
    assert _send(django_capture_on_commit_callbacks, now + dt.timedelta(minutes=16)) == 1

    activity_reschedule(
        actor=rep, activity=meeting, starts_at=now + dt.timedelta(hours=3), send_invites=False
    )
    assert _send(django_capture_on_commit_callbacks, now + dt.timedelta(minutes=16)) == 0
    assert _send(django_capture_on_commit_callbacks, now + dt.timedelta(minutes=155)) == 1
    assert _send(django_capture_on_commit_callbacks, now + dt.timedelta(minutes=170)) == 0
    assert len(_reminders()) == 2


def test_started_cancelled_and_task_work_gets_no_reminder(
    rep: Any, bakery_deal: Any, django_capture_on_commit_callbacks: Any
):
    _meeting(rep, bakery_deal, -5, subject="Already started")
    cancelled = _meeting(rep, bakery_deal, 20, subject="Called off")
    activity_cancel(actor=rep, activity=cancelled, send_invites=False)
    _meeting(rep, bakery_deal, 20, kind=ActivityKind.TASK, subject="A task")
    assert _send(django_capture_on_commit_callbacks) == 0

    # after downtime the job first runs when the meeting has begun: no late reminder
    late = _meeting(rep, bakery_deal, 20, subject="Missed")
    assert _send(django_capture_on_commit_callbacks, late.due_at + dt.timedelta(minutes=1)) == 0
    assert _reminders() == []


def test_each_owner_chooses_the_lead_time_or_switches_reminders_off(
    rep: Any,
    teammate: Any,
    outsider: Any,
    bakery_deal: Any,
    django_capture_on_commit_callbacks: Any,
):
    user_reminders_update(
        actor=rep, user=rep, reminder_minutes=10, digest_enabled=False, digest_hour=7
    )
    user_reminders_update(
        actor=teammate, user=teammate, reminder_minutes=0, digest_enabled=False, digest_hour=7
    )
    _meeting(rep, bakery_deal, 20, kind=ActivityKind.CALL, subject="Rep's call")
    _meeting(teammate, bakery_deal, 5, subject="Teammate's meeting")
    _meeting(outsider, bakery_deal, 90, kind=ActivityKind.DEMO, subject="Outsider's demo")
    User.objects.filter(pk=outsider.pk).update(reminder_minutes=120)
    assert _send(django_capture_on_commit_callbacks) == 1  # only the outsider's, 2 hours ahead
    now = timezone.now()
    assert _send(django_capture_on_commit_callbacks, now + dt.timedelta(minutes=11)) == 1
    assert [m.to for m in _reminders()] == [["outsider@example.com"], ["rep@example.com"]]

    _meeting(outsider, bakery_deal, 60, subject="After leaving")
    User.objects.filter(pk=outsider.pk).update(is_active=False)
    assert _send(django_capture_on_commit_callbacks) == 0, "deactivated users get nothing"


def test_two_runs_racing_for_one_reminder_send_it_once(rep: Any, bakery_deal: Any):
    meeting = _meeting(rep, bakery_deal, 20)
    seen_by_both = Activity.objects.select_related("owner").get(pk=meeting.pk)
    now = timezone.now()
    assert _reminder_send(seen_by_both, now) is True
    assert _reminder_send(seen_by_both, now) is False
    assert len(_reminders()) == 1


@through_the_worker
def test_the_scheduler_runs_the_job_every_minute(
    rep: Any, bakery_deal: Any, smtp_server: Server, django_capture_on_commit_callbacks: Any
):
    _meeting(rep, bakery_deal, 20)
    with django_capture_on_commit_callbacks(execute=True):
        assert "meeting_reminders" in jobs_due_enqueue()
        run_worker()
    run_worker()
    (mail,) = smtp_server.recorder.messages()
    assert mail["Subject"].startswith("Reminder: Site visit")
    assert "meeting_reminders" not in jobs_due_enqueue(
        now=timezone.now() + dt.timedelta(seconds=30)
    )
    assert "meeting_reminders" in jobs_due_enqueue(now=timezone.now() + dt.timedelta(minutes=1))


def test_bad_settings_are_refused_naming_the_field(rep: Any, teammate: Any):
    with pytest.raises(DomainError) as error:
        user_reminders_update(
            actor=rep, user=rep, reminder_minutes=7, digest_enabled=False, digest_hour=7
        )
    assert error.value.field == "reminder_minutes"
    with pytest.raises(DomainError) as error:
        user_reminders_update(
            actor=rep, user=rep, reminder_minutes=10, digest_enabled=True, digest_hour=24
        )
    assert error.value.field == "digest_hour"
    with pytest.raises(DomainError, match="Only admins"):
        user_reminders_update(
            actor=teammate, user=rep, reminder_minutes=10, digest_enabled=False, digest_hour=7
        )
    assert User.objects.filter(Q(pk=rep.pk), reminder_minutes=30).exists()
