"""Background tasks of the API: forgetting old Idempotency-Key answers."""

from __future__ import annotations

from django_tasks import task


@task()
def idempotency_keys_purge_task() -> dict[str, int]:
    """Delete the Idempotency-Key answers older than API_IDEMPOTENCY_HOURS."""
    from .idempotency import idempotency_keys_purge

    return {"purged": idempotency_keys_purge()}
