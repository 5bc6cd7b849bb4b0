"""Nightly backups: one archive a day into BACKUP_DIR, archives past BACKUP_KEEP_DAYS deleted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .archive import NAME_PATTERN, backup_create, backup_default_path


def backups_prune(*, directory: Path, keep_days: int, now: dt.datetime | None = None) -> list[Path]:
    """Delete the archives in `directory` made more than `keep_days` ago; the paths deleted.

    The age comes from the time in the file name (written in UTC by `backup_create`), not
    from the file's mtime, which a copy or a restore from elsewhere would change. Only files
    named as our archives are touched.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=keep_days)
    deleted = []
    for path in sorted(Path(directory).glob("closeloop-*.tar.gz")):
        found = NAME_PATTERN.match(path.name)
        if found is None:
            continue
        made = dt.datetime.strptime(found.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=dt.UTC)
        if made < cutoff:
            path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def backup_nightly(*, now: dt.datetime | None = None) -> dict[str, object]:
    """Make today's archive in BACKUP_DIR and prune the old ones; off without BACKUP_DIR."""
    if not settings.BACKUP_DIR:
        return {"skipped": "BACKUP_DIR is not set"}
    now = now or timezone.now()
    directory = Path(settings.BACKUP_DIR)
    made = backup_create(to=backup_default_path(directory, now=now), now=now)
    deleted = backups_prune(directory=directory, keep_days=settings.BACKUP_KEEP_DAYS, now=now)
    return {"archive": str(made), "deleted": [str(path) for path in deleted]}
