"""Serve the app with gunicorn, the task worker and the scheduler beside it; Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the production web server, the background-task worker and the scheduler."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 5))),
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="serve pages only (no worker, no scheduler)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # A supervisor's SIGTERM stops both children the same way Ctrl-C does.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        call_command("collectstatic", interactive=False, verbosity=0)
        host, port = options["host"], options["port"]
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
            "--chdir",
            str(settings.BASE_DIR),
        ]
        children = [subprocess.Popen(web)]
        if not options["no_worker"]:
            worker = [sys.executable, "-m", "closeloop", "db_worker", "--interval", "2"]
            children.append(subprocess.Popen(worker))
            scheduler = [sys.executable, "-m", "closeloop", "scheduler"]
            children.append(subprocess.Popen(scheduler))
        self.stdout.write(f"Closeloop is running on http://{host}:{port}/ — Ctrl-C stops it.")
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            failed = [c for c in children if c.returncode not in (None, 0)]
            if failed:
                self.stderr.write(f"A process stopped unexpectedly (exit {failed[0].returncode}).")
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
