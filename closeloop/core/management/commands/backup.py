"""`closeloop backup [--to FILE]`: the database and the uploaded files in one archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from closeloop.core.backups import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Write a consistent backup (database + uploaded files + manifest) into one .tar.gz;"
        " safe while the app runs. Default: var/backups/closeloop-<UTC time>.tar.gz."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--to", type=Path, help="the archive to write (must not exist)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            path = backup_create(to=options["to"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backup written to {path} ({path.stat().st_size:,} bytes).")
