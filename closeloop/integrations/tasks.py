"""Background tasks of webhooks: one job per delivery attempt, and the sweep behind them."""

from __future__ import annotations

from django_tasks import task


@task()
def webhook_deliver_task(*, delivery_id: int, manual: bool = False) -> dict[str, str]:
    """Make the delivery's next attempt if it is due; a duplicated job does nothing."""
    from .services import webhook_delivery_attempt

    return {"state": webhook_delivery_attempt(delivery_id=delivery_id, manual=manual)}


@task()
def webhook_deliveries_sweep_task() -> dict[str, int]:
    """The periodic sweep (every 5 minutes): new jobs for due deliveries whose job was lost."""
    from .services import webhook_deliveries_due_enqueue

    return {"enqueued": webhook_deliveries_due_enqueue()}


@task()
def webhook_history_purge_task() -> dict[str, int]:
    """The daily purge of deliveries over for longer than WEBHOOK_KEEP_DAYS, and their events."""
    from .services.history import webhook_history_purge

    return webhook_history_purge()
