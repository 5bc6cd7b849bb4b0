"""`closeloop copy_to_postgres --to postgres://…`: move a SQLite install's data to PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from closeloop.core.backups import BackupError
from closeloop.core.backups.copy import copy_to_postgres


class Command(BaseCommand):
    help = (
        "Copy every row of this (SQLite) database into an empty PostgreSQL database migrated"
        " with the same version (`DATABASE_URL=postgres://… closeloop migrate` first)."
        " Stop the app while it runs."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--to", required=True, help="postgres://user:pass@host:5432/name")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(label: str, rows: int) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"  {label}: {rows:,}")

        try:
            copied = copy_to_postgres(url=options["to"], progress=progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Copied {sum(copied.values()):,} rows in {len(copied)} tables. Now set"
            " DATABASE_URL to the PostgreSQL database and start the app."
        )
