from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule a user broke; the message is shown to them as it is (form error or 4xx)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(DomainError):
    """The change collides with the current state: a stale version or a duplicate record.

    Pages show it like any DomainError; the API answers 409 so a client knows to re-read.
    """


class StaleEditError(ConflictError):
    """An edit based on an older version of a record than the one stored: someone else saved
    it meanwhile, and nothing of this edit was written.

    `record` is the record as stored now, `seen_version` the version the edit was based on and
    `changes` what the others changed since (closeloop.core.versions), for the page to show.
    """

    def __init__(self, message: str, *, record: Any, seen_version: int, changes: list[Any]) -> None:
        super().__init__(message)
        self.record = record
        self.seen_version = seen_version
        self.changes = changes
