"""closeloop import {leads,organizations,contacts,deals} FILE [options]: import a CSV or XLSX file.

Runs in the foreground with a progress bar on stderr and ends with the reconciled counts.
Columns are mapped as the web page would suggest, or as a --mapping JSON file says:
{"columns": {"Header": "field", ...}, "values": {"field": {"their value": "ours"}},
 "date_order": "dmy"}. The command fails (exit status 1) when the file or the mapping is refused.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import ImportKind, ImportMode, ImportState
from closeloop.leads.imports.mapping import load_mapping_file
from closeloop.leads.imports.selectors import import_failed_rows
from closeloop.leads.imports.services import import_configure, import_run, import_start


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: Any) -> None:
        self.stream, self.last, self.started = stream, 0.0, time.monotonic()

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-6)
        if total:
            share = min(done / total, 1.0)
            bar = "#" * int(share * 30)
            text = f"\r[{bar:<30}] {share:4.0%} {done:,}/{total:,} rows, {rate:,.0f}/s "
        else:
            text = f"\r{done:,} rows, {rate:,.0f}/s "
        self.stream.write(text)
        self.stream.flush()

    def end(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Import leads, organizations, contacts or deals from a CSV or XLSX file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--mapping", type=Path, help="JSON file: columns, values, date_order")
        parser.add_argument("--dry-run", action="store_true", help="count only, write nothing")
        parser.add_argument("--mode", choices=ImportMode.values, default=ImportMode.CREATE)
        parser.add_argument(
            "--match", choices=["email", "phone", "external_id", "id", "domain", "name"]
        )
        parser.add_argument("--date-order", choices=["dmy", "mdy"], default="")
        parser.add_argument("--user", help="email of the user the import acts as (default: none)")
        parser.add_argument("--failed-csv", type=Path, help="write the failed rows here")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        actor = None
        if options["user"]:
            actor = User.objects.filter(email__iexact=options["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"There is no active user {options['user']}.")
        try:
            with path.open("rb") as stream:
                batch = import_start(
                    actor=actor, kind=options["kind"], stream=stream, file_name=path.name,
                    enforce_limit=False,
                )  # fmt: skip
            headers = batch.options["headers"]
            loaded = {"columns": batch.mapping, "values": {}, "date_order": ""}
            if options["mapping"]:
                text = options["mapping"].read_text(encoding="utf-8")
                loaded = load_mapping_file(text, kind=batch.kind, headers=headers)
            batch = import_configure(
                actor=actor,
                batch=batch,
                mapping=loaded["columns"],
                mode=options["mode"],
                match_on=options["match"] or "",
                date_order=options["date_order"] or loaded["date_order"],
                value_mapping=loaded["values"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self._describe(batch)
        if options["dry_run"]:
            batch.dry_run = True
            batch.save(update_fields=["dry_run"])
        progress = Progress(self.stderr._out)
        batch = import_run(actor=actor, batch=batch, progress=progress)
        progress.end()
        self._summary(batch)
        if options["failed_csv"] and batch.failed_count and not batch.dry_run:
            import csv

            from closeloop.core.export import neutralise_row

            with options["failed_csv"].open("w", newline="", encoding="utf-8-sig") as handle:
                rows = import_failed_rows(batch=batch)
                csv.writer(handle).writerows(neutralise_row(row) for row in rows)
            self.stdout.write(f"Failed rows written to {options['failed_csv']}.")
        if batch.state == ImportState.FAILED:
            raise CommandError(batch.error)

    def _describe(self, batch: Any) -> None:
        mapped = {h: f for h, f in batch.mapping.items() if f}
        ignored = [h for h, f in batch.mapping.items() if not f]
        self.stderr.write("Columns: " + ", ".join(f"{h} → {f}" for h, f in mapped.items()))
        if ignored:
            self.stderr.write("Ignored columns: " + ", ".join(ignored))

    def _summary(self, batch: Any) -> None:
        verb = "would be " if batch.dry_run else ""
        check = "reconciles" if batch.reconciles else "DOES NOT RECONCILE"
        self.stdout.write(
            f"{batch.rows_read:,} rows read: {batch.created_count:,} {verb}created, "
            f"{batch.updated_count:,} {verb}updated, {batch.skipped_count:,} skipped (duplicates), "
            f"{batch.failed_count:,} failed — {check}."
        )
        if batch.dry_run:
            self.stdout.write("Dry run: nothing was written.")
            for failure in batch.options.get("dry_run_failures", [])[:20]:
                self.stdout.write(f"  row {failure['row']}: {failure['error']}")
        elif batch.failed_count:
            self.stdout.write(f"Failed rows: /imports/{batch.pk}/failed.csv (import #{batch.pk}).")
        if batch.options.get("likely_duplicates"):
            self.stdout.write(f"Likely duplicates: {batch.options['likely_duplicates']}.")
