"""`closeloop rebuild_deal_facts`: recompute the reports' read model from the stage history."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from closeloop.pipeline.facts import deal_facts_rebuild, deal_facts_sync
from closeloop.pipeline.rollups.maintain import deal_rollups_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every deal's report facts (time in stage, cycle, stages reached) from its "
        "stage history. The app keeps them current by itself; run this after restoring a "
        "database by hand or to check. --stale-only rebuilds just the missing or outdated ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stale-only", action="store_true")
        parser.add_argument(
            "--cells-only",
            action="store_true",
            help="recompute only the monthly rollup cells from the facts (after changing "
            "TIME_ZONE: the cells' months are the server's)",
        )
        parser.add_argument("--pipeline", type=int, default=None, help="one pipeline's id")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["cells_only"]:
            cells = deal_rollups_rebuild()
            took = time.monotonic() - started
            self.stdout.write(f"{sum(cells.values())} rollup cell(s) rebuilt in {took:.1f} s.")
            return
        if options["stale_only"]:
            n = deal_facts_sync(limit=10**9)
        else:
            n = deal_facts_rebuild(pipeline_id=options["pipeline"])
        self.stdout.write(f"Facts of {n} deal(s) rebuilt in {time.monotonic() - started:.1f} s.")
