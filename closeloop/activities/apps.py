import datetime as dt

from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "closeloop.activities"
    label = "activities"

    def ready(self) -> None:
        from closeloop.core.schedule import periodic_job_register

        from .tasks import digests_task, meeting_reminders_task

        # every minute, so a 10-minute reminder is at most a minute late
        periodic_job_register(
            "meeting_reminders",
            interval=lambda: dt.timedelta(minutes=1),
            task=meeting_reminders_task,
        )
        periodic_job_register(
            "morning_digest", interval=lambda: dt.timedelta(minutes=15), task=digests_task
        )
