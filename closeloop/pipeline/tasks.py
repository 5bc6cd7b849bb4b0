"""Background tasks of the pipeline: keeping the reports' read model in step with the history."""

from __future__ import annotations

from django_tasks import task


@task()
def deal_facts_sync_task() -> dict[str, int]:
    """Rebuild the facts of deals changed around the services (or never computed)."""
    from .facts import deal_facts_sync

    return {"rebuilt": deal_facts_sync()}
