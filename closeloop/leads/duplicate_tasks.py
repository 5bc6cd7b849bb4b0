"""The background task that runs the full duplicate scan, so no web request waits for it."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from .models import DuplicateScan


@task()
def duplicates_scan_task(*, scan_id: int) -> dict[str, Any]:
    """Run one queued duplicate scan; its row says when it ran and what it found."""
    from .duplicate_scan import duplicates_scan_run

    scan = duplicates_scan_run(scan=DuplicateScan.objects.get(pk=scan_id))
    return {"state": scan.state, "pairs_flagged": scan.pairs_flagged}
