"""Periodic jobs: apps register (name, interval, task); the scheduler process enqueues them.

django-tasks has no cron, so `closeloop scheduler` wakes every few seconds and enqueues each
job whose time has come. Each job has a `ScheduledJob` row; a run is claimed with a conditional
UPDATE on its `next_run_at`, so several scheduler processes (one per server) never enqueue the
same run twice. The task itself runs in the ordinary worker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ScheduledJob


@dataclass(frozen=True)
class PeriodicJob:
    """A task enqueued every `interval()`; an interval of None switches the job off."""

    name: str
    interval: Callable[[], dt.timedelta | None]
    task: Any  # a django_tasks Task, enqueued without arguments


PERIODIC_JOBS: dict[str, PeriodicJob] = {}


def periodic_job_register(
    name: str, *, interval: Callable[[], dt.timedelta | None], task: Any
) -> PeriodicJob:
    """Add (or replace) a periodic job; apps call this from AppConfig.ready()."""
    job = PeriodicJob(name=name, interval=interval, task=task)
    PERIODIC_JOBS[name] = job
    return job


def _row(name: str, now: dt.datetime) -> ScheduledJob:
    try:
        with transaction.atomic():
            row, _ = ScheduledJob.objects.get_or_create(name=name, defaults={"next_run_at": now})
    except IntegrityError:  # another scheduler created it a moment ago
        row = ScheduledJob.objects.get(name=name)
    return row


def jobs_due_enqueue(*, now: dt.datetime | None = None) -> list[str]:
    """Enqueue every enabled job whose next run has come; the names of those enqueued.

    The next run is set from the claim time, not from the previous schedule, so a scheduler
    that was down for a day enqueues one catch-up run, not a day's worth.
    """
    now = now or timezone.now()
    enqueued: list[str] = []
    for job in list(PERIODIC_JOBS.values()):
        interval = job.interval()
        if interval is None:
            continue
        row = _row(job.name, now)
        if row.next_run_at > now:
            continue
        claimed = ScheduledJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
            next_run_at=now + interval, last_enqueued_at=now
        )
        if claimed:
            job.task.enqueue()
            enqueued.append(job.name)
    return enqueued
