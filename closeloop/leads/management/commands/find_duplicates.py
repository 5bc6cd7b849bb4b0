"""`closeloop find_duplicates`: queue (or run here) the full scan for duplicate leads/contacts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from closeloop.core.exceptions import DomainError
from closeloop.leads.duplicate_scan import SCAN_BATCH, duplicates_scan, duplicates_scan_queue


class Command(BaseCommand):
    help = (
        "Scan existing leads and contacts for duplicates (the same email or phone, a similar "
        "name and company) and flag them for review on the Duplicates page. By default the "
        "scan is queued for the background worker; --now runs it in this process. Dismissed "
        "pairs stay dismissed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--now", action="store_true", help="run the scan here and wait for it to finish"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=SCAN_BATCH,
            help=f"with --now: records compared and saved per batch (default {SCAN_BATCH})",
        )

    def handle(self, *args: Any, now: bool, batch_size: int, **options: Any) -> None:
        if not now:
            try:
                scan = duplicates_scan_queue(actor=None)
            except DomainError as error:
                raise CommandError(error.message) from error
            self.stdout.write(
                f"Duplicate scan #{scan.pk} queued; the background worker runs it "
                "(see the Duplicates page)."
            )
            return
        result = duplicates_scan(actor=None, batch_size=max(1, batch_size))
        self.stdout.write(
            f"Checked {result.leads_checked} leads and {result.contacts_checked} contacts: "
            f"{result.pairs_flagged} new likely lead pair(s) and {result.contact_pairs} new "
            "contact pair(s) flagged."
        )
