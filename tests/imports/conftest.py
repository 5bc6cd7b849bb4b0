"""Fixtures for import tests: files on disk, media in a temporary folder, tasks run inline."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from closeloop.leads.imports.services import import_configure, import_run, import_start
from closeloop.leads.models import ImportBatch


@pytest.fixture(autouse=True)
def _media_and_tasks(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    settings.PHONE_REGION = "DE"


@pytest.fixture
def run_import(admin) -> Callable[..., ImportBatch]:
    """Start, configure (suggested mapping unless given) and run an import of `data`."""

    def run(
        data: bytes | str,
        *,
        kind: str = "leads",
        name: str = "file.csv",
        actor=admin,
        mapping: dict[str, str] | None = None,
        dry_run: bool = False,
        **options,
    ) -> ImportBatch:
        raw = data.encode("utf-8") if isinstance(data, str) else data
        batch = import_start(actor=actor, kind=kind, stream=io.BytesIO(raw), file_name=name)
        columns = {**batch.mapping, **(mapping or {})}
        batch = import_configure(actor=actor, batch=batch, mapping=columns, **options)
        if dry_run:
            batch.dry_run = True
            batch.save(update_fields=["dry_run"])
        return import_run(actor=actor, batch=batch)

    return run
