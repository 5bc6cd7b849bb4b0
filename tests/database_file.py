"""A transactional test's SQLite database as a file in WAL mode, as in production.

The suite's SQLite database lives in memory with a shared cache, where connections lock whole
tables and never see each other's snapshots; concurrency bugs of the real file (a reader's
stale snapshot refusing a write, "database is locked") do not happen there. Tests that need
them take `database_file`: the database is copied into a file which every connection of the
test (any thread) then opens with the production settings (WAL, busy timeout, BEGIN
IMMEDIATE). On PostgreSQL it changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, connections


@pytest.fixture
def database_file(transactional_db: None, tmp_path: Path) -> Iterator[Path | None]:
    if connection.vendor != "sqlite":
        yield None
        return
    connection.ensure_connection()
    path = tmp_path / "database.sqlite3"
    target = sqlite3.connect(path)
    connection.connection.backup(target)
    target.close()
    memory, name = connection.connection, connection.settings_dict["NAME"]
    # Django never closes an in-memory database (closing would drop it): set it aside, so the
    # next query connects to the file; threads' connections read the same settings.
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    try:
        yield path
    finally:
        connections.close_all()
        connection.settings_dict["NAME"] = name
        connection.connection = memory
