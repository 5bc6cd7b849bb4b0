import datetime as dt

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "closeloop.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.conf import settings

        from .schedule import periodic_job_register
        from .tasks import (
            backup_nightly_task,
            statistics_refresh_task,
            task_results_prune_task,
            trash_purge_task,
        )

        periodic_job_register(
            "task_results_prune",
            interval=lambda: dt.timedelta(days=1),
            task=task_results_prune_task,
        )
        periodic_job_register(
            "trash_purge", interval=lambda: dt.timedelta(days=1), task=trash_purge_task
        )
        periodic_job_register(
            "statistics_refresh",
            interval=lambda: dt.timedelta(days=1),
            task=statistics_refresh_task,
        )
        # One archive a day when BACKUP_DIR is set; the claim in the scheduler keeps it to one
        # even with a scheduler on every server.
        periodic_job_register(
            "backup_nightly",
            interval=lambda: dt.timedelta(days=1) if settings.BACKUP_DIR else None,
            task=backup_nightly_task,
        )
