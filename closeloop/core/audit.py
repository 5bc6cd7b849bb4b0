"""The audit log: who created, changed, trashed, restored or purged which record, and how.

Services call these helpers inside their own transaction, so an entry exists exactly when the
write it describes was committed. Values are stored JSON-safe (dates as ISO text, decimals as
text, foreign keys as {"id", "label"}); secrets (password hashes, token digests, signing
secrets) are never read, only the fact that they changed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.fields.files import FieldFile

from .models import AuditAction, AuditEntry

# bookkeeping every row has, or that trash/restore entries already say
SKIPPED_FIELDS = frozenset(
    {"id", "created_at", "updated_at", "deleted_at", "deleted_by", "version", "last_login"}
)
# secrets: their values never enter the log, only that they changed (named exactly, as
# `digest_hour` is no secret but the API token's `digest` is; and by part of the name)
SECRET_FIELDS = frozenset({"password", "digest", "calendar_feed_key"})
SECRET_MARKERS = ("password", "secret", "token")
SECRET = "(hidden)"  # noqa: S105 - the placeholder shown instead of a secret
TEXT_LIMIT = 2000


def _is_secret(name: str) -> bool:
    return name in SECRET_FIELDS or any(marker in name for marker in SECRET_MARKERS)


def _fields(obj: models.Model) -> list[models.Field]:
    return [
        f for f in obj._meta.concrete_fields if f.name not in SKIPPED_FIELDS and not f.primary_key
    ]


def json_safe(value: Any) -> Any:
    """A value as JSON can hold it: text for dates, decimals, UUIDs and files; lists kept."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= TEXT_LIMIT else value[:TEXT_LIMIT] + "…"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return str(value)


def audit_snapshot(obj: models.Model) -> dict[str, Any]:
    """The record's audited field values, foreign keys as bare ids (no queries)."""
    snapshot: dict[str, Any] = {}
    for field in _fields(obj):
        if field.is_relation:
            snapshot[field.name] = getattr(obj, field.attname)
        else:
            snapshot[field.name] = json_safe(getattr(obj, field.attname))
    return snapshot


def audit_stored(obj: models.Model) -> dict[str, Any]:
    """The snapshot of the record as the database has it now (one query), for writers that
    change the instance before they know they will save it."""
    stored = obj._meta.model._base_manager.get(pk=obj.pk)  # request.user is a lazy proxy
    return audit_snapshot(stored)


def _label(field: models.Field, obj: models.Model | None, pk: Any) -> dict[str, Any] | None:
    if pk is None:
        return None
    related = None
    if obj is not None and field.is_cached(obj):  # type: ignore[attr-defined]
        related = getattr(obj, field.name)
    if related is None or related.pk != pk:
        model = field.related_model
        related = model._base_manager.filter(pk=pk).first()  # type: ignore[union-attr]
    return {"id": pk, "label": str(related) if related is not None else f"#{pk}"}


def _shown(field: models.Field, obj: models.Model | None, value: Any) -> Any:
    if _is_secret(field.name):
        # the snapshot holds the value in memory to see that it changed; the log never does
        return SECRET if value else None
    if field.is_relation:
        return _label(field, obj, value)
    return value


def audit_diff(
    obj: models.Model, before: dict[str, Any], after: dict[str, Any] | None = None
) -> dict[str, list[Any]]:
    """{field: [before, after]} for each audited field whose value differs."""
    after = after if after is not None else audit_snapshot(obj)
    by_name = {f.name: f for f in _fields(obj)}
    changes: dict[str, list[Any]] = {}
    for name, new in after.items():
        old = before.get(name)
        if old == new:
            continue
        field = by_name[name]
        changes[name] = [_shown(field, None, old), _shown(field, obj, new)]
    return changes


def _actor_of(actor: Any) -> Any:
    from closeloop.accounts.actors import acting_user

    return acting_user(actor)


def _version_of(obj: models.Model) -> int | None:
    version = getattr(obj, "version", None)
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _actor_label(user: Any, actor: Any) -> str:
    # someone without an account (a customer answering a proposal) is named by the caller
    if user is not None:
        return str(user)[:200]
    return actor[:200] if isinstance(actor, str) else ""


def _entry(
    *, actor: Any, obj: models.Model, action: str, changes: dict[str, list[Any]]
) -> AuditEntry:
    user = _actor_of(actor)
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        object_label=str(obj)[:200],
        actor=user,
        actor_label=_actor_label(user, actor),
        action=action,
        changes=changes,
        record_version=_version_of(obj),
    )


def audit_record(
    *, actor: Any, obj: models.Model, action: str, changes: dict[str, list[Any]] | None = None
) -> AuditEntry:
    """Log a write that is not a plain field change (a merge, an import, an erasure); `changes`
    are {name: [before, after]} as the writer describes them, JSON-safe."""
    return _entry(actor=actor, obj=obj, action=action, changes=json_safe(changes or {}))


def audit_created(
    *, actor: Any, obj: models.Model, extra: dict[str, Any] | None = None
) -> AuditEntry:
    """Log a new record with every field that has a value (None → value); `extra` adds values
    of what is not a field of the record ({name: value}, as audit_changed's)."""
    empty = {name: None for name in audit_snapshot(obj)}
    changes = {
        name: change
        for name, change in audit_diff(obj, empty).items()
        if change[1] not in ("", None, [], {})
    }
    for name, value in (extra or {}).items():
        if value not in ("", None, [], {}):
            changes[name] = [None, json_safe(value)]
    return _entry(actor=actor, obj=obj, action=AuditAction.CREATE, changes=changes)


def audit_changed(
    *,
    actor: Any,
    obj: models.Model,
    before: dict[str, Any],
    extra: dict[str, list[Any]] | None = None,
) -> AuditEntry | None:
    """Log what changed since `before` (an audit_snapshot); nothing when nothing did. `extra`
    adds changes of what is not a field of the record (a contact's emails, a proposal's lines)
    as {name: [before, after]}; pairs that are equal are left out."""
    changes = audit_diff(obj, before)
    for name, (old, new) in (extra or {}).items():
        if old != new:
            changes[name] = [json_safe(old), json_safe(new)]
    if not changes:
        return None
    return _entry(actor=actor, obj=obj, action=AuditAction.UPDATE, changes=changes)


def audit_trashed(*, actor: Any, obj: models.Model) -> AuditEntry:
    """Log a record put in the trash."""
    return _entry(actor=actor, obj=obj, action=AuditAction.DELETE, changes={})


def audit_restored(*, actor: Any, obj: models.Model) -> AuditEntry:
    """Log a record taken out of the trash."""
    return _entry(actor=actor, obj=obj, action=AuditAction.RESTORE, changes={})


def audit_purged(*, actor: Any, obj: models.Model) -> AuditEntry:
    """Log a record deleted for good (the trash purge, or a hard delete)."""
    return _entry(actor=actor, obj=obj, action=AuditAction.PURGE, changes={})


def audit_bulk(
    *,
    actor: Any,
    objs: Iterable[models.Model],
    action: str,
    changes: Callable[[models.Model], dict[str, list[Any]]] | None = None,
) -> list[AuditEntry]:
    """Log one entry per record of a bulk write (bulk assign, status, trash) in one INSERT."""
    user = _actor_of(actor)
    rows = []
    for obj in objs:
        rows.append(
            AuditEntry(
                content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
                object_id=obj.pk,
                object_label=str(obj)[:200],
                actor=user,
                actor_label=_actor_label(user, actor),
                action=action,
                changes=changes(obj) if changes is not None else {},
                record_version=_version_of(obj),
            )
        )
    return AuditEntry.objects.bulk_create(rows)
