"""Background tasks of messaging: sending what the outbox holds."""

from __future__ import annotations

from django_tasks import task


@task()
def message_send_task(*, message_id: int) -> dict[str, str]:
    """Try to send one queued message; the message row records the outcome."""
    from .sending import message_send

    return {"state": message_send(message_id=message_id)}
