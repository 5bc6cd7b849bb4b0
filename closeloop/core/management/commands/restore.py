"""`closeloop restore FILE [--force]`: put a backup archive back into an empty install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from closeloop.core.backups import BackupError, backup_restore
from closeloop.core.backups.archive import pending_migrations


class Command(BaseCommand):
    help = (
        "Restore the database and the uploaded files from a `closeloop backup` archive into"
        " an empty install (--force replaces an install that has data). Stop the app first."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="the archive made by `closeloop backup`")
        parser.add_argument(
            "--force", action="store_true", help="replace the data of an install that has some"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup_restore(source=options["file"], force=options["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the {manifest.vendor} database of {manifest.created_at}"
            f" (Closeloop {manifest.version}) and {manifest.files} files."
        )
        if pending := pending_migrations():
            self.stdout.write(
                f"This version has {len(pending)} migrations the backup had not applied:"
                " run `closeloop migrate` before starting the app."
            )
