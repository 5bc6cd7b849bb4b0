"""Enqueue periodic jobs when they are due, in a loop; `closeloop serve` starts it."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from closeloop.core.schedule import PERIODIC_JOBS, jobs_due_enqueue


class Command(BaseCommand):
    help = "Enqueue the periodic jobs (mailbox poll, nurture sweep…) when they are due."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=15.0, help="seconds between checks")
        parser.add_argument("--once", action="store_true", help="check once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        if options["once"]:
            self._tick()
            return
        self.stdout.write(f"Scheduler: {', '.join(sorted(PERIODIC_JOBS)) or 'no jobs'}.")
        try:
            while True:
                # A long-lived loop drops connections past their age or broken by a database
                # restart, as Django does between requests.
                close_old_connections()
                self._tick()
                time.sleep(options["interval"])
        except KeyboardInterrupt:
            pass

    def _tick(self) -> None:
        # A database restart must not end the loop: the error is logged, the next tick retries.
        try:
            for name in jobs_due_enqueue():
                self.stdout.write(f"enqueued {name}")
        except Exception as exc:
            self.stderr.write(f"Scheduler error: {exc}")
