"""`closeloop find_duplicates`: flag likely duplicate leads among the existing ones."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from closeloop.leads.merge import SCAN_BATCH, duplicates_scan


class Command(BaseCommand):
    help = (
        "Scan existing leads for likely duplicates (similar name and company, same email or "
        "phone) and flag them for review on the Duplicates page. Dismissed pairs stay dismissed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=SCAN_BATCH,
            help=f"leads compared and saved per batch (default {SCAN_BATCH})",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        result = duplicates_scan(actor=None, batch_size=max(1, batch_size))
        self.stdout.write(
            f"Checked {result.leads_checked} leads: {result.pairs_flagged} new likely "
            f"pair(s) flagged; {result.contact_pairs} contact pair(s) look alike."
        )
