"""Background tasks of messaging: sending what the outbox holds."""

from __future__ import annotations

from django_tasks import task


@task()
def message_send_task(*, message_id: int) -> dict[str, object]:
    """Try to send one due message, then recover what dead workers or lost jobs left behind."""
    from .recovery import message_sweep
    from .sending import message_send

    return {"state": message_send(message_id=message_id), "sweep": message_sweep()}


@task()
def mailbox_poll_task() -> dict[str, object]:
    """Read new mail from the lead mailbox (IMAP_URL); the poll row records the outcome."""
    from django.conf import settings

    from .inbound.polling import mailbox_poll

    if not settings.IMAP_URL:
        return {"skipped": "IMAP_URL is not set"}
    poll = mailbox_poll()
    if poll is None:
        return {"skipped": "another poll is running"}
    return {
        "ok": poll.ok,
        "error": poll.error,
        "read": poll.messages_read,
        "leads_created": poll.leads_created,
        "activities_added": poll.activities_added,
    }


@task()
def outbox_sweep_task() -> dict[str, int]:
    """Recover stale claims and lost jobs even when no other email is being sent."""
    from .recovery import message_sweep

    return message_sweep()
