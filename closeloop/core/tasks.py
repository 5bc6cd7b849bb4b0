"""Upkeep of the task queue itself."""

from __future__ import annotations

from django.core.management import call_command
from django_tasks import task

# Finished task results are kept this long for looking into what ran, then deleted: the
# minute-by-minute jobs (reminders) alone would add some 1,500 rows a day for ever.
TASK_RESULTS_KEEP_DAYS = 7


def task_results_prune() -> bool:
    """Delete finished (successful or failed) task results older than a week, with the queue
    library's own command; False when tasks do not run on the database backend."""
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(task_backends["default"], DatabaseBackend):
        return False
    call_command(
        "prune_db_task_results", min_age_days=TASK_RESULTS_KEEP_DAYS, queue_name="*", verbosity=0
    )
    return True


@task()
def task_results_prune_task() -> dict[str, object]:
    return {"pruned": task_results_prune()}


@task()
def backup_nightly_task() -> dict[str, object]:
    """Today's backup archive into BACKUP_DIR, and the old ones pruned (docs/operations.md)."""
    from closeloop.core.backups import backup_nightly

    return backup_nightly()
