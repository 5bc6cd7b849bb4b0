"""Reading a large query a chunk at a time while writing between the chunks."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.db.models import QuerySet

_readers = itertools.count()


def rows_streamed(queryset: QuerySet, *, chunk_size: int) -> Iterator[Any]:
    """The rows of a values() or values_list() queryset, `chunk_size` at a time, such that the
    caller may write (in transactions of its own) before it has read them all.

    SQLite: a query read only in part keeps its connection on the snapshot it started from,
    and once another process has committed, a connection on an older snapshot cannot begin a
    write: BEGIN IMMEDIATE fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT,
    which no busy timeout waits out). So the rows come from a second connection of their own
    (WAL lets it read while the first writes). Inside a transaction, which holds the write
    lock so that nobody else commits, and on PostgreSQL, the queryset's own iterator serves.
    """
    alias = queryset.db
    if connections[alias].vendor != "sqlite" or connections[alias].in_atomic_block:
        yield from queryset.iterator(chunk_size=chunk_size)
        return
    reader_alias = f"{alias}:rows_streamed:{next(_readers)}"
    connections[reader_alias] = connections.create_connection(alias)
    try:
        yield from queryset.using(reader_alias).iterator(chunk_size=chunk_size)
    finally:
        connections[reader_alias].close()
        del connections[reader_alias]
