"""Every write an import makes goes through these: start, configure, queue, run, undo."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.core.uploads import size_text
from closeloop.people.models import Contact, ContactEmail, ContactPhone, Organization
from closeloop.pipeline.models import Deal

from ..choices import ImportKind, ImportMode, ImportState, RowOutcome
from ..models import ImportBatch, ImportRow, Lead
from .audit import MODELS, import_audit, import_undo_audit
from .engine import mark_finished, run_batch
from .mapping import DEFAULT_MATCH, check_mapping, duplicate_targets, field_spec, suggest_mapping
from .reading import open_table
from .values import DATE_ORDERS

logger = logging.getLogger(__name__)
SAMPLE_ROWS = 2000


def _actor(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


def require_importer(actor: Any) -> None:
    """Admins and managers import (and the command line, which acts as nobody in particular)."""
    if actor is not None and getattr(actor, "role", None) not in ("admin", "manager"):
        raise DomainError("Only admins and managers can import.")


def _size(stream: IO[bytes]) -> int:
    size = stream.seek(0, 2)
    stream.seek(0)
    return size


@transaction.atomic
def import_start(
    *, actor: Any, kind: str, stream: IO[bytes], file_name: str, enforce_limit: bool = True
) -> ImportBatch:
    """Accept a file for import: refuse empty, oversized, unreadable or data-less files."""
    require_importer(actor)
    if kind not in ImportKind.values:
        raise DomainError(f"“{kind}” cannot be imported.", field="kind")
    file_name = Path(file_name or "upload").name[:200]
    size = _size(stream)
    if size == 0:
        raise DomainError(f"“{file_name}” is empty (0 bytes): there is nothing to import.")
    limit = settings.IMPORT_MAX_BYTES
    if enforce_limit and size > limit:
        raise DomainError(
            f"“{file_name}” is {size_text(size)}; files up to {size_text(limit)} can be imported."
        )
    with open_table(stream, name=file_name) as table:
        samples: dict[str, list[Any]] = {h: [] for h in table.headers}
        count = 0
        for _, cells in table.rows():
            for header, cell in zip(table.headers, cells, strict=False):
                samples[header].append(cell)
            count += 1
            if count >= 50:
                break
        if count == 0:
            raise DomainError(f"“{file_name}” has a header row but no data rows.")
        headers, encoding, delimiter = table.headers, table.encoding, table.delimiter
    stream.seek(0)
    batch = ImportBatch(
        kind=kind,
        file_name=file_name,
        mode=ImportMode.CREATE,
        match_on=DEFAULT_MATCH[kind],
        mapping=suggest_mapping(kind, headers, samples),
        options={"headers": headers, "encoding": encoding, "delimiter": delimiter},
        created_by=_actor(actor),
    )
    batch.file.save(file_name, File(stream, name=file_name), save=False)
    batch.save()
    return batch


def _date_columns(batch: ImportBatch, mapping: dict[str, str]) -> dict[str, int]:
    """Date columns with values that read both day-first and month-first: header -> count."""
    from itertools import islice

    from .values import analyse_dates

    dated = [
        (i, h)
        for i, h in enumerate(batch.options.get("headers", []))
        if mapping.get(h) and field_spec(batch.kind, mapping[h]).type in ("date", "datetime")
    ]
    if not dated:
        return {}
    columns: dict[str, list[Any]] = {h: [] for _, h in dated}
    with batch.file.open("rb") as stream, open_table(stream, name=batch.file_name) as table:
        for _, cells in islice(table.rows(), SAMPLE_ROWS):
            for i, h in dated:
                if i < len(cells):
                    columns[h].append(cells[i])
    reports = {h: analyse_dates(values) for h, values in columns.items()}
    return {h: r.ambiguous for h, r in reports.items() if r.ambiguous}


@transaction.atomic
def import_configure(
    *,
    actor: Any,
    batch: ImportBatch,
    mapping: dict[str, str],
    mode: str = ImportMode.CREATE,
    match_on: str = "",
    date_order: str = "",
    value_mapping: dict[str, dict[str, str]] | None = None,
    mapping_name: str = "",
) -> ImportBatch:
    """Set how columns and values map; refuse a mapping that could not import (before running)."""
    require_importer(actor)
    if batch.state not in (ImportState.UPLOADED, ImportState.DONE) or (
        batch.state == ImportState.DONE and not batch.dry_run
    ):
        raise DomainError("This import has already run; start a new one to change its mapping.")
    headers = batch.options.get("headers", [])
    mapping = {h: (mapping.get(h) or "") for h in headers}
    if mode not in ImportMode.values:
        raise DomainError(f"“{mode}” is not an import mode.", field="mode")
    match_on = match_on or DEFAULT_MATCH[batch.kind]
    repeated = duplicate_targets(mapping)
    if repeated:
        labels = ", ".join(field_spec(batch.kind, f).label for f in repeated)
        raise DomainError(f"More than one column is mapped to {labels}; keep one.", field="mapping")
    check_mapping(kind=batch.kind, mapping=mapping, mode=mode, match_on=match_on)
    if date_order and date_order not in DATE_ORDERS:
        raise DomainError("The date order is day/month/year (dmy) or month/day/year (mdy).")
    ambiguous = _date_columns(batch, mapping)
    if ambiguous and not date_order:
        names = ", ".join(f"“{h}”" for h in ambiguous)
        raise DomainError(
            f"The dates in {names} read both ways (01/02/2024 is 1 February or 2 January): "
            "choose the date order.",
            field="date_order",
        )
    batch.mapping = mapping
    batch.mode = mode
    batch.match_on = match_on
    batch.value_mapping = value_mapping or {}
    batch.options = {
        **batch.options,
        "date_order": date_order,
        "mapping_name": mapping_name.strip()[:100],
        "configured": True,
        "ignored": [h for h in headers if not mapping[h]],
    }
    batch.save()
    return batch


def import_queue(*, actor: Any, batch: ImportBatch, dry_run: bool) -> ImportBatch:
    """Hand the batch to the background worker (a dry run first, if wanted)."""
    require_importer(actor)
    from .tasks import import_run_task

    with transaction.atomic():
        current = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if not current.options.get("configured"):
            raise DomainError("Map the columns before running the import.")
        runnable = current.state == ImportState.UPLOADED or (
            current.state == ImportState.DONE and current.dry_run
        )
        if not runnable:
            raise DomainError("This import has already run.")
        current.state = ImportState.QUEUED
        current.dry_run = dry_run
        current.save(update_fields=["state", "dry_run", "updated_at"])
    # enqueued after the commit, so the worker never sees the batch before it is queued
    import_run_task.enqueue(batch_id=current.pk, actor_id=getattr(actor, "pk", None))
    current.refresh_from_db()
    return current


def import_run(
    *, actor: Any, batch: ImportBatch, progress: Callable[[int, int | None], None] | None = None
) -> ImportBatch:
    """Import the file now (the worker and the command line call this); counts reconcile."""
    require_importer(actor)
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state not in (ImportState.QUEUED, ImportState.UPLOADED) and not (
            batch.state == ImportState.DONE and batch.dry_run
        ):
            raise DomainError("This import has already run.")
        batch.rows.all().delete()
        batch.state, batch.started_at, batch.finished_at, batch.error = (
            ImportState.RUNNING, timezone.now(), None, "",
        )  # fmt: skip
        batch.rows_read = batch.created_count = batch.updated_count = 0
        batch.skipped_count = batch.failed_count = 0
        batch.save()
    try:
        run_batch(batch, actor=actor, progress=progress)
    except DomainError as exc:
        mark_finished(batch, state=ImportState.FAILED, error=exc.message)
    except Exception as exc:
        logger.exception("import %s failed", batch.pk)
        mark_finished(batch, state=ImportState.FAILED, error=f"The import stopped: {exc}")
    else:
        mark_finished(batch, state=ImportState.DONE)
    counts = ImportBatch.objects.filter(pk=batch.pk).values(
        "rows_read", "created_count", "updated_count", "skipped_count", "failed_count"
    )[0]
    for name, value in counts.items():
        setattr(batch, name, value)
    batch.save()
    import_audit(actor=actor, batch=batch)
    return batch


def _restore(model: Any, row: ImportRow, previous: dict[str, Any]) -> None:
    obj = model.with_trashed.filter(pk=row.object_id).first()
    if obj is None:
        return
    added_emails = previous.pop("added_emails", [])
    added_phones = previous.pop("added_phones", [])
    for name, value in previous.items():
        setattr(obj, name, value)
    fields = list(previous)
    if model in (Deal, Lead, Contact) and (fields or added_emails or added_phones):
        obj.version += 1
        fields.append("version")
    if fields:
        obj.save(update_fields=[*fields, "updated_at"])
    if added_emails:
        ContactEmail.objects.filter(contact_id=obj.pk, email__in=added_emails).delete()
    if added_phones:
        ContactPhone.objects.filter(contact_id=obj.pk, raw__in=added_phones).delete()


@transaction.atomic
def import_undo(*, actor: Any, batch: ImportBatch) -> ImportBatch:
    """Put what the import created in the trash and give updated records their old values back."""
    require_importer(actor)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != ImportState.DONE or batch.dry_run:
        raise DomainError("Only a finished import (not a dry run) can be undone.")
    now = timezone.now()
    trashed = 0
    for kind in (Deal, Contact, Organization, Lead):
        bump = {"version": F("version") + 1} if kind is not Organization else {}
        manager: Any = kind.with_trashed  # type: ignore[attr-defined]
        trashed += manager.filter(import_batch=batch, deleted_at__isnull=True).update(
            deleted_at=now, deleted_by=_actor(actor), updated_at=now, **bump
        )
    model = MODELS[batch.kind]
    updated = batch.rows.filter(outcome=RowOutcome.UPDATED).order_by("-row_number")
    restored = 0
    for row in updated.iterator(chunk_size=1000):
        if row.previous:
            _restore(model, row, dict(row.previous))
            restored += 1
    import_undo_audit(actor=actor, batch=batch, trashed=trashed, restored=restored)
    batch.state = ImportState.UNDONE
    batch.finished_at = batch.finished_at or now
    batch.options = {**batch.options, "undone_at": now.isoformat()}
    batch.save()
    return batch
