"""Every read about imports: which batches a user sees, samples for mapping, failed rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as default
from itertools import islice
from typing import Any

from django.db.models import QuerySet

from closeloop.accounts.visibility import owner_filter

from ..choices import RowOutcome
from ..models import ImportBatch, ImportRow
from .engine import Outcome, RowIn, preview_batch
from .mapping import FieldSpec, field_spec, fields_for
from .reading import open_table
from .resolvers import Resolver, resolver_for
from .values import analyse_dates, cell_text

SAMPLE_ROWS = 2000
DISTINCT_LIMIT = 40
CHOICE_FIELDS = {
    "status",
    "owner",
    "source",
    "campaign",
    "pipeline",
    "stage",
    "lost_reason",
    "currency",
}


def import_list(*, user: Any) -> QuerySet[ImportBatch]:
    """Imports the user may see: admins all, managers their own, their teams' and the CLI's."""
    qs = ImportBatch.objects.select_related("created_by")
    condition = owner_filter(user, "created_by")
    return qs if condition is None else qs.filter(condition)


def import_get(*, user: Any, pk: int) -> ImportBatch | None:
    return import_list(user=user).filter(pk=pk).first()


@dataclass
class ColumnSample:
    """One column of the file: its name, some values, and what it maps to."""

    header: str
    field: str
    examples: list[str]
    distinct: list[str] = default(default_factory=list)
    ambiguous_dates: int = 0
    date_order: str = ""


@dataclass
class ValueChoice:
    """A distinct value of a choice column and the options it can map to."""

    field: str
    label: str
    value: str
    chosen: str
    options: list[tuple[str, str]]


def import_columns(*, batch: ImportBatch) -> list[ColumnSample]:
    """The file's columns with example values (first rows) for the mapping screen."""
    headers = batch.options.get("headers", [])
    values: list[list[Any]] = [[] for _ in headers]
    with batch.file.open("rb") as stream, open_table(stream, name=batch.file_name) as table:
        for _, cells in islice(table.rows(), SAMPLE_ROWS):
            for i, cell in enumerate(cells[: len(headers)]):
                if cell_text(cell):
                    values[i].append(cell)
    columns = []
    for header, column in zip(headers, values, strict=True):
        texts = [cell_text(v) for v in column]
        report = analyse_dates(column)
        distinct = list(dict.fromkeys(t for t in texts))[:DISTINCT_LIMIT]
        columns.append(
            ColumnSample(
                header=header,
                field=batch.mapping.get(header, ""),
                examples=[t[:60] for t in texts[:3]],
                distinct=distinct,
                ambiguous_dates=report.ambiguous,
                date_order=report.order,
            )
        )
    return columns


def import_value_choices(*, batch: ImportBatch, columns: list[ColumnSample]) -> list[ValueChoice]:
    """For each mapped choice column, its distinct values and the option each one maps to."""
    choices = []
    resolvers: dict[str, Resolver] = {}
    for column in columns:
        name = column.field
        if name not in CHOICE_FIELDS:
            continue
        value_map = (batch.value_mapping or {}).get(name) or {}
        resolver = resolvers.setdefault(name, resolver_for(batch.kind, name, value_map))
        options = resolver.options()
        spec: FieldSpec = field_spec(batch.kind, name)
        for value in column.distinct:
            choices.append(ValueChoice(name, spec.label, value, resolver.choice(value), options))
    return choices


def import_fields(*, batch: ImportBatch) -> list[FieldSpec]:
    return fields_for(batch.kind)


def import_preview(
    *, batch: ImportBatch, user: Any, limit: int = 20
) -> list[tuple[RowIn, Outcome]]:
    """The first rows and what importing them would do; nothing is written."""
    return preview_batch(batch, actor=user, limit=limit)


def _failed_cells(row: ImportRow, width: int) -> list[str]:
    """A failed row's cells as the file had them, then its error."""
    cells = list((row.data or {}).get("cells", []))
    cells += [""] * (width - len(cells))
    return [*cells, f"row {row.row_number}: {row.error}"]


def import_failed_rows(*, batch: ImportBatch) -> Iterator[list[str]]:
    """The failed rows as the file had them, plus an “error” column: header first."""
    headers = list(batch.options.get("headers", []))
    yield [*headers, "error"]
    rows = batch.rows.filter(outcome=RowOutcome.FAILED).order_by("row_number")
    for row in rows.iterator(chunk_size=2000):
        yield _failed_cells(row, len(headers))


def import_failed_export(
    *, batch: ImportBatch
) -> tuple[QuerySet[ImportRow], list[tuple[str, Callable[[ImportRow], str]]]]:
    """The failed rows and the columns of their download: the file's own, then “error”."""
    headers = [*batch.options.get("headers", []), "error"]
    width = len(headers) - 1

    def column(i: int) -> Callable[[ImportRow], str]:
        return lambda row: _failed_cells(row, width)[i]

    rows = batch.rows.filter(outcome=RowOutcome.FAILED).order_by("row_number")
    return rows, [(name, column(i)) for i, name in enumerate(headers)]


def import_saved_mappings(*, user: Any, kind: str) -> dict[str, ImportBatch]:
    """Mappings saved by name with earlier imports of this kind (the latest one per name)."""
    saved: dict[str, ImportBatch] = {}
    for batch in import_list(user=user).filter(kind=kind).order_by("-created_at")[:500]:
        name = (batch.options or {}).get("mapping_name")
        if name and name not in saved:
            saved[name] = batch
    return saved
