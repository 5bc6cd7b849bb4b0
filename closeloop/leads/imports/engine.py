"""Running an import: stream the file in chunks, hand each to the kind's handler, keep score.

Every row read ends created, updated, skipped or failed, so the counts always add up to the
rows read. Each chunk is one transaction holding its records, its ImportRow entries and the
batch's counts, so a crash leaves a batch that still reconciles for the rows it got through.
A chunk that fails as a whole (a database error no check foresaw) is retried row by row, and
only the rows that fail again are marked failed.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from closeloop.core.exceptions import DomainError

from ..assignment import leads_assign_auto_bulk
from ..choices import ImportKind, RowOutcome
from ..models import AssignmentRule, ImportBatch, ImportRow, Lead
from .audit import import_updates_audit
from .readers import (
    PROCESS_MIN_BYTES,
    RowIn,
    can_fork,
    read_ahead,
    read_in_process,
    rows_in,
)
from .reading import Table, open_table
from .values import cell_text
from .writes import RowInserter

logger = logging.getLogger(__name__)
SQLITE_CACHE_KB = 16 * 1024
SQLITE_CHECKPOINT_PAGES = 256 * 1024  # 1 GB of 4 KB pages: more than a million-row import
GC_THRESHOLD = 100_000
DRY_RUN_FAILURES_KEPT = 100
Progress = Callable[[int, int | None], None]


class RowError(Exception):
    """One row cannot be imported; the message names the field and the problem."""

    def __init__(self, label: str, problem: str) -> None:
        super().__init__(f"{label}: {problem}")
        self.message = f"{label}: {problem}"

    @classmethod
    def from_message(cls, message: str) -> RowError:
        label, _, problem = message.partition(": ")
        return cls(label, problem)


@dataclass(slots=True)
class Outcome:
    """What became of one row."""

    number: int
    outcome: str
    object_id: int | None = None
    error: str = ""
    previous: dict[str, Any] | None = None
    values: dict[str, Any] | None = None


@dataclass
class RunContext:
    """Everything a handler needs to know about the run it is part of."""

    batch: ImportBatch
    actor: Any
    dry_run: bool
    preview: bool = False
    now: Any = field(default_factory=timezone.now)

    @property
    def mode(self) -> str:
        return self.batch.mode

    @property
    def match_on(self) -> str:
        return self.batch.match_on

    @property
    def date_order(self) -> str:
        return str(self.batch.options.get("date_order") or "")

    def value_map(self, field_name: str) -> dict[str, str]:
        return dict((self.batch.value_mapping or {}).get(field_name) or {})


class Handler:
    """Imports chunks of rows of one kind (leads, organizations, contacts or deals)."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.seen: dict[str, dict[Any, int]] = {}
        self.pending: dict[str, dict[Any, int]] = {}

    @staticmethod
    def prepare(row: RowIn) -> None:
        """Checks that need neither the database nor the handler, run ahead on the reading side
        (a thread or a child process) before `process` gets the row."""

    def process(self, rows: list[RowIn]) -> list[Outcome]:
        raise NotImplementedError

    def finish(self) -> dict[str, Any]:
        """Work after the last chunk (e.g. flagging likely duplicates); returns notes to keep."""
        return {}

    # In-file duplicates: keys become `seen` only once their chunk is committed.
    def first_row(self, kind: str, value: Any) -> int | None:
        if not value:
            return None
        return self.seen.get(kind, {}).get(value) or self.pending.get(kind, {}).get(value)

    def remember(self, kind: str, value: Any, number: int) -> None:
        if value:
            self.pending.setdefault(kind, {}).setdefault(value, number)

    def committed(self) -> None:
        for kind, values in self.pending.items():
            target = self.seen.setdefault(kind, {})
            for value, number in values.items():
                target.setdefault(value, number)
        self.pending = {}

    def rolled_back(self) -> None:
        self.pending = {}


def _handler_class(kind: str) -> type[Handler]:
    from .contacts import ContactHandler
    from .deals import DealHandler
    from .leads import LeadHandler
    from .organizations import OrganizationHandler

    handlers: dict[str, type[Handler]] = {
        "leads": LeadHandler,
        "organizations": OrganizationHandler,
        "contacts": ContactHandler,
        "deals": DealHandler,
    }
    return handlers[kind]


def _handler_for(ctx: RunContext) -> Handler:
    return _handler_class(ctx.batch.kind)(ctx)


def _import_rows(batch: ImportBatch, rows: dict[int, RowIn], outcomes: list[Outcome]) -> None:
    inserter = RowInserter(
        ImportRow,
        varying=["row_number", "outcome", "object_id", "error", "data", "previous"],
        constants={"batch": batch},
    )
    records = []
    for o in outcomes:
        if o.outcome == RowOutcome.CREATED:
            continue
        data = ""
        if o.outcome != RowOutcome.UPDATED:
            data = json.dumps({"cells": [cell_text(c) for c in rows[o.number].cells]})
        previous = json.dumps(o.previous, default=str) if o.previous is not None else None
        records.append((o.number, o.outcome, o.object_id, o.error, data or "{}", previous))
    inserter.insert(records)


def _count(totals: dict[str, int], outcomes: list[Outcome]) -> None:
    for o in outcomes:
        totals[o.outcome] += 1


def _save_counts(batch: ImportBatch, totals: dict[str, int], rows_read: int) -> None:
    batch.rows_read = rows_read
    batch.created_count = totals[RowOutcome.CREATED]
    batch.updated_count = totals[RowOutcome.UPDATED]
    batch.skipped_count = totals[RowOutcome.SKIPPED]
    batch.failed_count = totals[RowOutcome.FAILED]
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows_read=batch.rows_read,
        created_count=batch.created_count,
        updated_count=batch.updated_count,
        skipped_count=batch.skipped_count,
        failed_count=batch.failed_count,
        rows_total=max(batch.rows_total or 0, rows_read),
        updated_at=timezone.now(),
    )


def _ragged(rows: list[RowIn]) -> tuple[list[RowIn], list[Outcome]]:
    good, bad = [], []
    for row in rows:
        if row.problem:
            bad.append(Outcome(row.number, RowOutcome.FAILED, error=row.problem))
        else:
            good.append(row)
    return good, bad


def _commit_without_waiting() -> None:
    """PostgreSQL: this chunk's commit does not wait for its WAL to reach the disk.

    A crash can lose the last chunks committed (never corrupt them); each chunk holds its rows
    with the batch's counts, so the batch still reconciles, and the batch's final save is an
    ordinary commit that flushes everything before it. SQLite (WAL, synchronous=NORMAL)
    already commits without a sync, and its settings are left as they are.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _process(handler: Handler, rows: list[RowIn], write: Callable[[list[Outcome]], None]):
    good, outcomes = _ragged(rows)
    try:
        with transaction.atomic():
            _commit_without_waiting()
            outcomes += handler.process(good)
            write(outcomes)
        handler.committed()
        return outcomes
    except DomainError:
        handler.rolled_back()
        raise
    except Exception:
        handler.rolled_back()
        logger.exception("import %s: chunk failed, retrying row by row", handler.ctx.batch.pk)
    outcomes = []
    for row in rows:
        try:
            with transaction.atomic():
                done = handler.process([row]) if not row.problem else _ragged([row])[1]
                write(done)
            handler.committed()
        except Exception as exc:
            handler.rolled_back()
            done = [
                Outcome(row.number, RowOutcome.FAILED, error=f"Row: could not be saved ({exc})")
            ]
            with transaction.atomic():
                write(done)
        outcomes += done
    return outcomes


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """No full garbage collections over the run's long-lived lookups while rows stream through.

    A big import allocates millions of short-lived objects, and every few thousand the cyclic
    collector walks all tracked objects, the existing-records index among them: a fifth of
    the run's time. Rows make no reference cycles, so the objects alive at the start are set
    aside (gc.freeze) and young ones are collected less often; all is as before afterwards.
    """
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


@contextmanager
def _sqlite_cache() -> Iterator[None]:
    """SQLite while importing: a bigger page cache (the indexes of a large table stay in
    memory) and one WAL checkpoint at the end instead of one after nearly every chunk.

    A checkpoint writes the changed pages into the database file and syncs it; chunks touch
    the same index pages again and again, so checkpointing each chunk writes them many times
    (a tenth of a second a chunk). The WAL is synced as before (synchronous=NORMAL), so what
    is committed stays as safe as ever; the WAL file just grows to the import's size until
    the checkpoint at the end, and the settings go back to what they were.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-SQLITE_CACHE_KB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")
            if not connection.in_atomic_block:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")


@contextmanager
def _reader(batch: ImportBatch, table: Table) -> Iterator[Iterator[list[RowIn]]]:
    """The batch's rows in prepared chunks: a large CSV file is read by a second process, the
    rest on a thread."""
    prepare = _handler_class(batch.kind).prepare
    if table.kind == "csv" and batch.file.size >= PROCESS_MIN_BYTES and can_fork():
        storage, name = batch.file.storage, batch.file.name
        with read_in_process(
            lambda: storage.open(name, "rb"), batch.file_name, batch.mapping, prepare
        ) as chunks:
            yield chunks
        return
    chunks = read_ahead(rows_in(batch.mapping, table.headers, table.rows()), prepare)
    try:
        yield chunks
    finally:
        chunks.close()


def run_batch(batch: ImportBatch, *, actor: Any, progress: Progress | None = None) -> ImportBatch:
    """Import every row of the batch's file (or only pretend to, for a dry run)."""
    ctx = RunContext(batch=batch, actor=actor, dry_run=batch.dry_run)
    totals = {o: 0 for o in RowOutcome.values}
    rows_read = 0
    failures: list[dict[str, Any]] = []

    def write(outcomes: list[Outcome]) -> None:
        nonlocal rows_read
        _count(totals, outcomes)
        rows_read += len(outcomes)
        if batch.dry_run:
            failures.extend(
                {"row": o.number, "error": o.error}
                for o in outcomes
                if o.outcome == RowOutcome.FAILED and len(failures) < DRY_RUN_FAILURES_KEPT
            )
        else:
            _import_rows(batch, current, outcomes)
            import_updates_audit(batch=batch, actor=actor, outcomes=outcomes)
        _save_counts(batch, totals, rows_read)

    with (
        _quiet_gc(),
        _sqlite_cache(),
        batch.file.open("rb") as stream,
        open_table(stream, name=batch.file_name) as table,
    ):
        if table.rows_estimate:
            ImportBatch.objects.filter(pk=batch.pk).update(rows_total=table.rows_estimate)
            batch.rows_total = table.rows_estimate
        reader = _reader(batch, table)
        # the child process (if any) is forked before the handler loads its lookups
        with reader as chunks:
            handler = _handler_for(ctx)
            for chunk in chunks:
                current = {row.number: row for row in chunk}
                _process(handler, chunk, write)
                if progress:
                    progress(rows_read, batch.rows_total)
    notes = handler.finish()
    if (  # one assignment pass per import, when there are rules to apply
        not batch.dry_run
        and batch.kind == ImportKind.LEADS
        and AssignmentRule.objects.filter(is_active=True).exists()
    ):
        unowned = Lead.objects.filter(import_batch=batch, owner__isnull=True)
        leads_assign_auto_bulk(unowned.values_list("pk", flat=True))
    if batch.dry_run:
        notes["dry_run_failures"] = failures
    batch.options = {**batch.options, **notes}
    batch.rows_total = rows_read
    return batch


def preview_batch(
    batch: ImportBatch, *, actor: Any, limit: int = 20
) -> list[tuple[RowIn, Outcome]]:
    """The first rows as they would be imported (nothing is written)."""
    ctx = RunContext(batch=batch, actor=actor, dry_run=True, preview=True)
    handler = _handler_for(ctx)
    with batch.file.open("rb") as stream, open_table(stream, name=batch.file_name) as table:
        rows = list(islice(rows_in(batch.mapping, table.headers, table.rows()), limit))
    good, outcomes = _ragged(rows)
    with transaction.atomic():
        outcomes += handler.process(good)
        transaction.set_rollback(True)
    by_number = {o.number: o for o in outcomes}
    return [(row, by_number[row.number]) for row in rows]


def mark_finished(batch: ImportBatch, *, state: str, error: str = "") -> None:
    batch.state = state
    batch.error = error
    batch.finished_at = timezone.now()
