"""Backups of a whole install (database + uploaded files) and the move from SQLite to PostgreSQL."""

from .archive import (
    BackupError,
    Manifest,
    backup_create,
    backup_default_path,
    backup_restore,
    database_has_data,
)
from .retention import backup_nightly, backups_prune

__all__ = [
    "BackupError",
    "Manifest",
    "backup_create",
    "backup_default_path",
    "backup_nightly",
    "backup_restore",
    "backups_prune",
    "database_has_data",
]
