"""Inserting many rows at once: COPY on PostgreSQL, executemany elsewhere.

Django's bulk_create builds a model instance and compiles SQL for every few dozen rows; for a
million leads that alone costs minutes. These rows carry the same columns the ORM would write
(every concrete field, defaults filled in), prepared once per column, not once per row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models
from psycopg.types.json import Jsonb  # psycopg is a dependency of every install

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """One value as PostgreSQL's COPY text format writes it."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, str):
        return (
            value.translate(_ESCAPES)
            if "\\" in value or "\t" in value or "\n" in value or "\r" in value
            else value
        )
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Jsonb):
        return json.dumps(value.obj).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def _json_value(value: Any) -> Any:
    """Values json cannot write as they are (prepared datetimes and dates, decimals)."""
    return str(value)


def _copy_block(rows: Sequence[Sequence[Any]], end: str) -> str:
    """Rows in COPY's text format. Text values that hold no character COPY escapes (the usual
    case) go in as they are; other values, or all of them when some text needs it, are
    written by copy_text one by one."""
    texts = "".join([v for row in rows for v in row if v.__class__ is str])
    if "\\" in texts or "\t" in texts or "\n" in texts or "\r" in texts:
        return "".join("\t".join(map(copy_text, row)) + end for row in rows)
    return "".join(
        "\t".join([v if v.__class__ is str else copy_text(v) for v in row]) + end for row in rows
    )


class RowInserter:
    """Writes rows of `varying` field values; other columns take `constants` or their default."""

    def __init__(
        self, model: type[models.Model], *, varying: Sequence[str], constants: dict[str, Any]
    ) -> None:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        by_name = {f.name: f for f in fields} | {f.attname: f for f in fields}
        self.varying = [by_name[name] for name in varying]
        fixed = [f for f in fields if f not in self.varying]
        self.table = model._meta.db_table
        self.columns = [f.column for f in self.varying] + [f.column for f in fixed]
        tail = []
        for field in fixed:
            value = constants.get(field.name, constants.get(field.attname, field.get_default()))
            if isinstance(value, models.Model):
                value = value.pk
            tail.append(field.get_db_prep_save(value, connection))
        self.tail = tuple(tail)
        self.datetime_positions = [
            i for i, f in enumerate(self.varying) if isinstance(f, models.DateTimeField)
        ]

    def prepare_datetime(self, value: Any) -> Any:
        return connection.ops.adapt_datetimefield_value(value) if value is not None else None

    def insert(self, rows: Sequence[Sequence[Any]]) -> None:
        """Insert rows of varying values (datetimes already prepared with prepare_datetime)."""
        if rows:
            with self.writing() as write:
                write(rows)

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[Sequence[Any]]], None]]:
        """A function that writes rows, for rows that become ready a part at a time.

        On PostgreSQL the parts stream into one COPY: the server inserts a part while the
        caller checks and builds the next, so the two work at once (no other query can run on
        the connection until the block ends). Elsewhere the parts are kept and written
        together when the block ends, as `insert` writes them.
        """
        if connection.vendor != "postgresql":
            kept: list[Sequence[Any]] = []
            yield kept.extend
            self._insert_at_once(kept)
            return
        tail = self.tail
        # COPY's text format: the constant columns are rendered once, not for every row
        end = "\t" + "\t".join(map(copy_text, tail)) + "\n" if tail else "\n"
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {self._table()} ({self._columns()}) FROM STDIN") as copy,
        ):

            def write(rows: Sequence[Sequence[Any]]) -> None:
                if rows:
                    copy.write(_copy_block(rows, end))

            yield write

    def _table(self) -> str:
        return connection.ops.quote_name(self.table)

    def _columns(self) -> str:
        return ", ".join(connection.ops.quote_name(c) for c in self.columns)

    def _insert_at_once(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        tail, table, cols = self.tail, self._table(), self._columns()
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                # The whole chunk as one JSON parameter, unpacked by SQLite itself: one
                # statement, so SQLite inserts (and updates every index) without taking
                # Python's GIL back after each row, while the reader thread parses on.
                width = len(self.varying)
                picks = ", ".join(f"value ->> {i}" for i in range(width))
                marks = ", ".join(["%s"] * len(tail))
                select = f"{picks}, {marks}" if tail else picks
                cursor.execute(
                    # names come from the model's own metadata, never from input
                    f"INSERT INTO {table} ({cols}) SELECT {select} "  # noqa: S608
                    "FROM json_each(%s)",
                    [*tail, json.dumps(rows, default=_json_value)],
                )
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    # names come from the model's own metadata, never from input
                    f"INSERT INTO {table} ({cols}) VALUES ({marks})",  # noqa: S608
                    [(*r, *tail) for r in rows],
                )
