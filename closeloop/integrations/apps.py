import datetime as dt

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "closeloop.integrations"
    label = "integrations"

    def ready(self) -> None:
        from closeloop.core.schedule import periodic_job_register

        from .tasks import webhook_deliveries_sweep_task, webhook_history_purge_task

        # each attempt has its own delayed job; the sweep sends any whose job was lost
        periodic_job_register(
            "webhook_deliveries_sweep",
            interval=lambda: dt.timedelta(minutes=5),
            task=webhook_deliveries_sweep_task,
        )
        periodic_job_register(
            "webhook_history_purge",
            interval=lambda: dt.timedelta(days=1),
            task=webhook_history_purge_task,
        )
