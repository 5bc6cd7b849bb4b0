"""`closeloop nurture_sweep`: bring back every nurtured lead whose revisit date has come."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from closeloop.leads.qualification import lead_nurture_return_due


class Command(BaseCommand):
    help = (
        "Return nurtured leads whose revisit date has come to their owner's inbox (with a "
        "notification). Safe to run any time, e.g. daily from cron: a lead never returns twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        n = lead_nurture_return_due()
        self.stdout.write(f"{n} nurtured lead(s) returned.")
