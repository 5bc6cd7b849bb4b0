"""Background tasks of messaging: sending what the outbox holds."""

from __future__ import annotations

from django_tasks import task


@task()
def message_send_task(*, message_id: int) -> dict[str, object]:
    """Try to send one due message, then recover what dead workers or lost jobs left behind."""
    from .recovery import message_sweep
    from .sending import message_send

    return {"state": message_send(message_id=message_id), "sweep": message_sweep()}
