"""The task worker in tests: the db_worker command's own loop, run once in this process."""

from __future__ import annotations

from unittest import mock

from django_tasks_db.management.commands.db_worker import Worker


def run_worker() -> None:
    """Run every task that is due now, then return.

    The worker checks for stale connections like a request would; inside a test's transaction
    (autocommit off) Django takes that for a broken connection and closes it on PostgreSQL,
    which would end the test's transaction. The test database connection is never stale.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test",
            excluded_queue_names=[],
        ).run()
