import datetime as dt

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "closeloop.api"
    label = "api"

    def ready(self) -> None:
        from closeloop.core.schedule import periodic_job_register

        from .tasks import idempotency_keys_purge_task

        periodic_job_register(
            "idempotency_keys_purge",
            interval=lambda: dt.timedelta(hours=1),
            task=idempotency_keys_purge_task,
        )
