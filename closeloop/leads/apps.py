import datetime as dt

from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "closeloop.leads"
    label = "leads"

    def ready(self) -> None:
        from closeloop.core.schedule import periodic_job_register

        from .tasks import lead_nurture_sweep_task

        # Each lead also has its own delayed return job; the hourly sweep catches any that a
        # lost or failed job missed.
        periodic_job_register(
            "lead_nurture_sweep",
            interval=lambda: dt.timedelta(hours=1),
            task=lead_nurture_sweep_task,
        )
