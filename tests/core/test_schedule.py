"""The periodic scheduler: each job is enqueued once per interval, however many schedulers run."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from closeloop.core import schedule
from closeloop.core.models import ScheduledJob
from closeloop.core.schedule import PERIODIC_JOBS, jobs_due_enqueue
from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import Lead

pytestmark = pytest.mark.django_db

POLL = "closeloop.messaging.tasks.mailbox_poll_task"
SWEEP = "closeloop.leads.tasks.lead_nurture_sweep_task"


def _enqueued(path: str) -> int:
    return DBTaskResult.objects.filter(task_path=path).count()


def test_the_apps_register_the_mailbox_poll_and_the_sweeps() -> None:
    assert {"mailbox_poll", "lead_nurture_sweep", "outbox_sweep"} <= set(PERIODIC_JOBS)


def test_due_jobs_are_enqueued_once_per_interval(settings: Any) -> None:
    settings.IMAP_URL = "imap://u:p@127.0.0.1:1/INBOX"
    settings.IMAP_POLL_MINUTES = 3
    now = timezone.now()

    first = jobs_due_enqueue(now=now)
    again = jobs_due_enqueue(now=now + dt.timedelta(minutes=2))
    later = jobs_due_enqueue(now=now + dt.timedelta(minutes=3))

    # (the minute-by-minute jobs of other apps are left out of the comparison)
    watched = {"mailbox_poll", "lead_nurture_sweep"}
    assert watched <= set(first)
    assert watched & set(again) == set()
    assert watched & set(later) == {"mailbox_poll"}  # the sweep is hourly
    assert (_enqueued(POLL), _enqueued(SWEEP)) == (2, 1)
    job = ScheduledJob.objects.get(name="mailbox_poll")
    assert job.next_run_at == now + dt.timedelta(minutes=6)
    assert job.last_enqueued_at == now + dt.timedelta(minutes=3)


def test_a_scheduler_that_was_down_enqueues_one_catch_up_run(settings: Any) -> None:
    settings.IMAP_URL = ""
    now = timezone.now()
    jobs_due_enqueue(now=now)

    jobs_due_enqueue(now=now + dt.timedelta(days=1))

    assert _enqueued(SWEEP) == 2


def test_the_mailbox_poll_is_off_without_imap_url(settings: Any) -> None:
    settings.IMAP_URL = ""

    assert "mailbox_poll" not in jobs_due_enqueue()
    assert _enqueued(POLL) == 0


def test_two_schedulers_never_enqueue_the_same_run(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.IMAP_URL = ""
    now = timezone.now()
    jobs_due_enqueue(now=now)  # creates the rows
    later = now + dt.timedelta(hours=1)
    # Server B read the job's row before server A claimed this run…
    seen_by_b = {row.name: row for row in ScheduledJob.objects.all()}
    assert {"lead_nurture_sweep", "outbox_sweep"} <= set(jobs_due_enqueue(now=later))  # server A
    monkeypatch.setattr(schedule, "_row", lambda name, now: seen_by_b[name])

    assert jobs_due_enqueue(now=later) == []  # …so its conditional UPDATE claims nothing
    assert _enqueued(SWEEP) == 2


def test_the_scheduler_command_enqueues_due_jobs(settings: Any, capsys: Any) -> None:
    settings.IMAP_URL = "imap://u:p@127.0.0.1:1/INBOX"

    call_command("scheduler", "--once")

    out = capsys.readouterr().out
    assert "enqueued mailbox_poll" in out and "enqueued lead_nurture_sweep" in out
    assert _enqueued(POLL) == 1


def test_the_nurture_sweep_returns_due_leads(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    due = Lead.objects.create(
        last_name="Due",
        status=LeadStatus.NURTURING,
        nurture_until=timezone.localdate() - dt.timedelta(days=1),
    )
    later = Lead.objects.create(
        last_name="Later",
        status=LeadStatus.NURTURING,
        nurture_until=timezone.localdate() + dt.timedelta(days=9),
    )

    result = PERIODIC_JOBS["lead_nurture_sweep"].task.enqueue()

    assert result.return_value == {"returned": 1}
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (LeadStatus.NEW, LeadStatus.NURTURING)


def test_finished_task_results_older_than_a_week_are_pruned_daily() -> None:
    from closeloop.core.tasks import task_results_prune

    assert "task_results_prune" in PERIODIC_JOBS
    assert PERIODIC_JOBS["task_results_prune"].interval() == dt.timedelta(days=1)
    now = timezone.now()
    for days, status in ((8, "SUCCESSFUL"), (8, "FAILED"), (6, "SUCCESSFUL"), (8, "READY")):
        DBTaskResult.objects.create(
            task_path=SWEEP,
            queue_name="default",
            backend_name="default",
            priority=0,
            args_kwargs={"args": [], "kwargs": {}},
            status=status,
            finished_at=now - dt.timedelta(days=days) if status != "READY" else None,
        )
    assert task_results_prune() is True
    # the week-old results went; the recent one and the one still waiting stay
    assert sorted(DBTaskResult.objects.values_list("status", flat=True)) == ["READY", "SUCCESSFUL"]
