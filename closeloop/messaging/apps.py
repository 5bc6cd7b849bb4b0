import datetime as dt

from django.apps import AppConfig
from django.conf import settings


def _mailbox_poll_interval() -> dt.timedelta | None:
    if not settings.IMAP_URL:
        return None
    return dt.timedelta(minutes=max(settings.IMAP_POLL_MINUTES, 1))


class MessagingConfig(AppConfig):
    name = "closeloop.messaging"
    label = "messaging"

    def ready(self) -> None:
        from closeloop.core.schedule import periodic_job_register

        from .tasks import mailbox_poll_task

        periodic_job_register(
            "mailbox_poll", interval=_mailbox_poll_interval, task=mailbox_poll_task
        )
