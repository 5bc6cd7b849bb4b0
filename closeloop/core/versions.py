"""Record versions: every edit of a deal, lead, contact or proposal names the version it was
based on, and a stale one is refused with what the others changed since, never written over it.

Services lock the row, then call `version_check`; every write to such a record adds one to its
`version` (in the same statement as the write) and the audit entry it leaves carries the new
number, so the entries a stale edit missed are exactly those above the version it saw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from .exceptions import StaleEditError
from .models import AuditAction, AuditEntry
from .models import audit_value_shown as shown_value
from .selectors import audit_since

SHOWN_CHANGES = 8  # the message names the last few; the page lists them all


@dataclass(frozen=True)
class OtherChange:
    """One change someone else made since a version: who, when, which field, from → to (as the
    audit log holds the values; `field` is empty for a whole-record action such as a merge)."""

    who: str
    at: dt.datetime
    action: str
    field: str
    label: str
    before: Any
    after: Any

    @property
    def when(self) -> str:
        local = timezone.localtime(self.at)
        if local.date() == timezone.localdate():
            return f"at {local:%H:%M}"
        return f"on {local:%d %b %Y} at {local:%H:%M}"

    @property
    def sentence(self) -> str:
        """“Anna changed Phone from +49 30 1 to +49 30 2 at 10:42”."""
        if not self.field:
            verb = (
                AuditAction(self.action).label if self.action in AuditAction.values else "changed"
            )
            return f"{self.who} {verb} it {self.when}"
        return (
            f"{self.who} changed {self.label} from “{shown_value(self.before)}” "
            f"to “{shown_value(self.after)}” {self.when}"
        )


def _who(entry: AuditEntry) -> str:
    if entry.actor is not None:
        return str(entry.actor.display_name)
    return entry.actor_label or "the system"


def changes_since(*, obj: models.Model, version: int) -> list[OtherChange]:
    """What was changed on `obj` after `version`, oldest first, one item per field changed."""
    changes: list[OtherChange] = []
    for entry in audit_since(obj=obj, version=version):
        rows = entry.change_rows()
        if not rows or entry.action not in (AuditAction.UPDATE, AuditAction.MERGE):
            changes.append(
                OtherChange(_who(entry), entry.created_at, entry.action, "", "", None, None)
            )
            continue
        for (name, pair), (label, _, _) in zip(entry.changes.items(), rows, strict=True):
            before, after = pair if isinstance(pair, list) and len(pair) == 2 else (None, pair)
            changes.append(
                OtherChange(_who(entry), entry.created_at, entry.action, name, label, before, after)
            )
    return changes


def stale_message(record: models.Model, changes: list[OtherChange]) -> str:
    """The refusal in words: whose change the edit would have overwritten."""
    head = f"“{record}” was changed by someone else since you opened it"
    if not changes:
        return f"{head}. Nothing of yours was saved: look at it again, then make your change."
    named = "; ".join(change.sentence for change in changes[-SHOWN_CHANGES:])
    more = len(changes) - SHOWN_CHANGES
    if more > 0:
        named += f" (and {more} earlier change{'s' if more != 1 else ''})"
    return f"{head}: {named}. Nothing of yours was saved."


def version_check(current: Any, expected_version: int | None) -> None:
    """Refuse an edit based on another version than `current` (locked by the caller) has.
    None: the caller names no version (the command line, jobs, older API clients)."""
    if expected_version is None or current.version == expected_version:
        return
    changes = changes_since(obj=current, version=expected_version)
    raise StaleEditError(
        stale_message(current, changes),
        record=current,
        seen_version=expected_version,
        changes=changes,
    )


def version_check_fields(current: Any, expected_version: int | None, fields: set[str]) -> None:
    """Like `version_check`, for an edit of a part of the record (one scorecard answer): only
    changes since to one of `fields`, or to the whole record (a merge, the trash), refuse it."""
    if expected_version is None or current.version == expected_version:
        return
    missed = [
        change
        for change in changes_since(obj=current, version=expected_version)
        if change.field in fields or not change.field
    ]
    if missed:
        raise StaleEditError(
            stale_message(current, missed),
            record=current,
            seen_version=expected_version,
            changes=missed,
        )


def original_values(changes: list[OtherChange]) -> dict[str, Any]:
    """Each changed field's value at the version the stale edit was based on (the `before` of
    the first change to it since)."""
    originals: dict[str, Any] = {}
    for change in changes:
        if change.field:
            originals.setdefault(change.field, change.before)
    return originals


def comparable(value: Any) -> Any:
    """A value as the audit log writes it, so a form's value compares with a logged one: a
    record by its id, dates, decimals and the like as text."""
    from .audit import json_safe

    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict) and "id" in value:
        return value["id"]
    return json_safe(value)
