"""Background tasks of activities: meeting reminders and the morning digest."""

from __future__ import annotations

from django_tasks import task


@task()
def meeting_reminders_task() -> dict[str, int]:
    """The periodic run: email every meeting, demo and call reminder that is due."""
    from .reminders import meeting_reminders_send

    return {"sent": meeting_reminders_send()}


@task()
def digests_task() -> dict[str, int]:
    """The periodic run: send the morning digest to each user whose hour has come."""
    from .digest import digests_send

    return {"sent": digests_send()}
