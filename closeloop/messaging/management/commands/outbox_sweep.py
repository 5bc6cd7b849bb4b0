"""`closeloop outbox_sweep`: recover outbox messages a dead worker or a lost job left behind."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from closeloop.messaging.recovery import message_sweep


class Command(BaseCommand):
    help = (
        "Queue again messages whose worker died before handing them to the mail server, mark"
        " those it may have handed over as uncertain (never resent on their own), and give"
        " overdue messages a new job. Safe to run any time, e.g. every 5 minutes from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = message_sweep()
        self.stdout.write(
            f"{counts['requeued']} queued again, {counts['uncertain']} marked uncertain,"
            f" {counts['rescheduled']} given a new job."
        )
