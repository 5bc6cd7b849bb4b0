"""Upkeep of the task queue itself."""

from __future__ import annotations

from django.core.management import call_command
from django.db import connection
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
def trash_purge_task() -> dict[str, object]:
    """The daily purge of records in the trash longer than TRASH_DAYS."""
    from .purge import trash_purge

    result = trash_purge()
    return {"purged": result.purged, "kept": result.kept[:100]}


def statistics_refresh() -> str:
    """Refresh the query planner's statistics with `ANALYZE` (on SQLite from a sample of each
    index, so it takes seconds on millions of rows; on PostgreSQL autovacuum does it too, this
    only makes sure). SQLite keeps no statistics of its own accord, and with missing or stale
    ones it may read a list from the wrong index: it once drove the deals list from the owners
    and sorted every deal (300 ms instead of 2)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit = 1000")
        cursor.execute("ANALYZE")
    return connection.vendor


@task()
def statistics_refresh_task() -> dict[str, object]:
    return {"database": statistics_refresh()}


@task()
def backup_nightly_task() -> dict[str, object]:
    """Today's backup archive into BACKUP_DIR, and the old ones pruned (docs/operations.md)."""
    from closeloop.core.backups import backup_nightly

    return backup_nightly()
