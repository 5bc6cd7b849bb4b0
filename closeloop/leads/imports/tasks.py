"""The background task that runs an import, so a large file never holds up a web request."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from closeloop.accounts.models import User

from ..models import ImportBatch


@task()
def import_run_task(*, batch_id: int, actor_id: int | None) -> dict[str, Any]:
    """Run one queued import; progress is written to the batch after every chunk."""
    from .services import import_run

    batch = ImportBatch.objects.get(pk=batch_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    batch = import_run(actor=actor, batch=batch)
    return {"state": batch.state, "rows_read": batch.rows_read, "reconciles": batch.reconciles}
