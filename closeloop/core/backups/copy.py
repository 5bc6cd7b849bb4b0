"""Copy every row of the SQLite database into an empty, migrated PostgreSQL database.

Rows go table by table in dependency order (a table after those its foreign keys point at),
read through the model fields (so dates, decimals, booleans and JSON arrive as Python values)
and written with the target's own conversions. Everything happens in one transaction on the
target: Django creates PostgreSQL foreign keys DEFERRABLE INITIALLY DEFERRED, so rows that
point at each other (cycles, a table pointing at itself) are checked once, at commit, and a
failure leaves the target as it was. The sequences are set past the highest ids at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import dj_database_url
from django.apps import apps
from django.core.management.color import no_style
from django.db import DatabaseError, connection, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend

from .archive import BackupError

TARGET = "copy_target"
CHUNK = 2000


@contextmanager
def target_database(url: str) -> Iterator[str]:
    """A database alias for `url` while the block runs."""
    config = dj_database_url.parse(url)
    if config.get("ENGINE") != "django.db.backends.postgresql":
        raise BackupError(f"--to must be a postgres:// URL, not {url.split(':', 1)[0]}:…")
    settings = connections.configure_settings(
        {"default": dict(connection.settings_dict), TARGET: config}
    )[TARGET]
    # Registered for this thread only and not in the settings: a connection made on the fly,
    # as Django's test cases allow next to the test database.
    wrapper = load_backend(settings["ENGINE"]).DatabaseWrapper(settings, TARGET)
    connections[TARGET] = wrapper
    try:
        yield TARGET
    finally:
        wrapper.close()
        del connections[TARGET]


def models_in_dependency_order() -> list[type[models.Model]]:
    """Every table the app's models own, each after the tables its foreign keys point at."""
    todo = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    ]
    ordered: list[type[models.Model]] = []
    seen: set[type[models.Model]] = set()

    def visit(model: type[models.Model]) -> None:
        if model in seen:
            return
        seen.add(model)  # before its dependencies: a cycle stops here (deferred FKs cope)
        for field in model._meta.concrete_fields:
            related = field.related_model
            if related is not None and related is not model and not isinstance(related, str):
                visit(related._meta.concrete_model or related)
        ordered.append(model)

    for model in sorted(todo, key=lambda m: m._meta.label):
        visit(model)
    return [m for m in ordered if m in todo]


def _applied(alias: str) -> set[tuple[str, str]]:
    return set(MigrationRecorder(connections[alias]).applied_migrations())


def _target_checks(alias: str, url_shown: str) -> None:
    target = connections[alias]
    source_applied, target_applied = _applied("default"), _applied(alias)
    if source_applied != target_applied:
        missing = sorted(f"{a}.{n}" for a, n in source_applied - target_applied)
        extra = sorted(f"{a}.{n}" for a, n in target_applied - source_applied)
        raise BackupError(
            f"{url_shown} is not migrated to the same state as this database"
            f" (missing there: {', '.join(missing[:3]) or 'none'};"
            f" only there: {', '.join(extra[:3]) or 'none'}). Run `closeloop migrate` on both"
            " with the same version first."
        )
    from closeloop.accounts.models import User

    if User._base_manager.using(alias).exists():
        raise BackupError(
            f"{url_shown} already has data (users): copy into an empty, freshly migrated database."
        )
    del target


def _copy_table(model: type[models.Model], alias: str) -> int:
    target = connections[alias]
    fields = [f for f in model._meta.concrete_fields if not getattr(f, "generated", False)]
    table = target.ops.quote_name(model._meta.db_table)
    columns = ", ".join(target.ops.quote_name(f.column) for f in fields)
    # names come from the models and are quoted by the backend; values are parameters
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    rows = (
        model._base_manager.using("default")
        .order_by("pk")
        .values_list(*[f.attname for f in fields])
        .iterator(chunk_size=CHUNK)
    )
    count = 0
    batch: list[list[Any]] = []
    with target.cursor() as cursor:
        for row in rows:
            batch.append(
                [f.get_db_prep_save(v, connection=target) for f, v in zip(fields, row, strict=True)]
            )
            if len(batch) == CHUNK:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def copy_to_postgres(
    *, url: str, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy all rows into the empty, migrated PostgreSQL database at `url`; rows per table."""
    if connection.vendor != "sqlite":
        raise BackupError(
            f"This install runs on {connection.vendor}; copy_to_postgres copies from SQLite."
        )
    shown = url.split("@")[-1]  # never print the password
    ordered = models_in_dependency_order()
    copied: dict[str, int] = {}
    with target_database(url) as alias:
        target = connections[alias]
        try:
            target.ensure_connection()
        except DatabaseError as exc:
            raise BackupError(f"Cannot connect to {shown}: {exc}") from exc
        _target_checks(alias, shown)
        with transaction.atomic(using=alias):
            # The migrations' own rows (content types, permissions, the default pipeline…)
            # give way to the copied ones, ids and all.
            tables = ", ".join(target.ops.quote_name(m._meta.db_table) for m in ordered)
            with target.cursor() as cursor:
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            for model in ordered:
                try:
                    copied[model._meta.label] = _copy_table(model, alias)
                except DatabaseError as exc:
                    raise BackupError(
                        f"Copying {model._meta.label} (table {model._meta.db_table}) failed: {exc}"
                    ) from exc
                if progress:
                    progress(model._meta.label, copied[model._meta.label])
            with target.cursor() as cursor:
                for statement in target.ops.sequence_reset_sql(no_style(), ordered):
                    cursor.execute(statement)
            for model in ordered:
                found = model._base_manager.using(alias).count()
                if found != copied[model._meta.label]:
                    raise BackupError(
                        f"{model._meta.label}: {copied[model._meta.label]} rows copied,"
                        f" {found} found afterwards."
                    )
    return copied
