import datetime as dt

from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "closeloop.pipeline"
    label = "pipeline"

    def ready(self) -> None:
        from closeloop.core.schedule import periodic_job_register

        from .tasks import deal_facts_sync_task

        # The services refresh a deal's facts as they change it; this catches anything that
        # changed a deal around them (an admin edit, a bulk update, an upgrade).
        periodic_job_register(
            "deal_facts_sync",
            interval=lambda: dt.timedelta(minutes=10),
            task=deal_facts_sync_task,
        )
