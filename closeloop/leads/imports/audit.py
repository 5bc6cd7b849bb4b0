"""What an import leaves in the audit log: one entry for the import itself (its file and
reconciled counts), and one on each record it changed, marked with the import. Records it
created name their import batch on the record itself (`import_batch`), which the record's
history shows, so a million-row import does not write a million more rows for that."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from closeloop.accounts.actors import acting_user
from closeloop.core.audit import audit_record, json_safe
from closeloop.core.models import AuditAction, AuditEntry
from closeloop.people.models import Contact, Organization
from closeloop.pipeline.models import Deal

from ..choices import ImportKind, ImportState, RowOutcome
from ..models import ImportBatch, Lead

MODELS: dict[str, type[models.Model]] = {
    ImportKind.LEADS: Lead,
    ImportKind.ORGANIZATIONS: Organization,
    ImportKind.CONTACTS: Contact,
    ImportKind.DEALS: Deal,
}
# what an update adds besides field values (contacts' new emails and phones)
ADDED = {"added_emails": "emails_added", "added_phones": "phones_added"}
COUNTS = ("rows_read", "created_count", "updated_count", "skipped_count", "failed_count")


def import_ref(batch: ImportBatch) -> dict[str, Any]:
    """How an entry names the import a change came from (as a record's history names the
    import that created it, closeloop.core.selectors)."""
    return {"id": batch.pk, "label": f"{batch} (import #{batch.pk})"}


def _value(field: models.Field, value: Any) -> Any:
    if field.is_relation:
        return None if value is None else {"id": value, "label": f"#{value}"}
    return json_safe(value)


def import_updates_audit(*, batch: ImportBatch, actor: Any, outcomes: list[Any]) -> None:
    """An entry on each record the chunk's rows updated (before → after of what changed), in
    the chunk's transaction: one read of the changed records, one INSERT."""
    changed = {o.object_id: o.previous for o in outcomes if o.outcome == RowOutcome.UPDATED}
    changed = {pk: previous for pk, previous in changed.items() if pk and previous}
    if not changed:
        return
    model = MODELS[batch.kind]
    fields = {f.attname: f for f in model._meta.concrete_fields} | {
        f.name: f for f in model._meta.concrete_fields
    }
    user = acting_user(actor)
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    marker = import_ref(batch)
    entries = []
    for obj in model._base_manager.filter(pk__in=list(changed)):  # type: ignore[attr-defined]
        changes: dict[str, Any] = {}
        for key, before in changed[obj.pk].items():
            if key in ADDED:
                changes[ADDED[key]] = [None, json_safe(before)]
            elif key in fields:
                field = fields[key]
                changes[field.name] = [
                    _value(field, before),
                    _value(field, getattr(obj, field.attname)),
                ]
        changes["import"] = [None, marker]
        version = getattr(obj, "version", None)
        entries.append(
            AuditEntry(
                content_type=content_type,
                object_id=obj.pk,
                object_label=str(obj)[:200],
                actor=user,
                actor_label=str(user)[:200] if user is not None else "",
                action=AuditAction.UPDATE,
                changes=changes,
                record_version=version if isinstance(version, int) else None,
            )
        )
    AuditEntry.objects.bulk_create(entries)


def import_audit(*, actor: Any, batch: ImportBatch) -> None:
    """The one entry of a finished import: which file, what kind, how it ended, the counts."""
    if batch.dry_run:
        return  # a dry run writes nothing
    changes: dict[str, Any] = {
        "file_name": [None, batch.file_name],
        "kind": [None, batch.get_kind_display()],
        "mode": [None, batch.get_mode_display()],
        "state": [None, batch.get_state_display()],
        **{name: [None, getattr(batch, name)] for name in COUNTS},
    }
    if batch.error:
        changes["error"] = [None, batch.error]
    audit_record(actor=actor, obj=batch, action=AuditAction.IMPORT, changes=changes)


def import_undo_audit(*, actor: Any, batch: ImportBatch, trashed: int, restored: int) -> None:
    """The entry of an undone import: how many records went to the trash, how many got their
    values back."""
    audit_record(
        actor=actor,
        obj=batch,
        action=AuditAction.UPDATE,
        changes={
            "state": [ImportState.DONE.label, ImportState.UNDONE.label],
            "moved_to_the_trash": [None, trashed],
            "values_restored": [None, restored],
        },
    )
