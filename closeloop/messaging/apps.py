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

        from . import checks  # noqa: F401  (registers the EMAIL_URL start-up check)
        from .tasks import mailbox_poll_task, outbox_sweep_task

        periodic_job_register(
            "mailbox_poll", interval=_mailbox_poll_interval, task=mailbox_poll_task
        )
        # a worker killed mid-send is found by the sweep; without this it would wait for the
        # next email someone sends
        periodic_job_register(
            "outbox_sweep", interval=lambda: dt.timedelta(minutes=5), task=outbox_sweep_task
        )
