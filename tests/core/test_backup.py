"""Backup and restore: one archive brings every record and every uploaded file back; nightly
archives are made once a day and pruned after BACKUP_KEEP_DAYS."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from closeloop.accounts.models import User
from closeloop.core.backups import BackupError, backup_create, backup_restore
from closeloop.core.schedule import jobs_due_enqueue
from closeloop.leads.services import LeadInput, lead_create
from closeloop.pipeline.models import Deal, StageChange
from closeloop.pipeline.services import deal_mark_lost, deal_move_to_stage
from closeloop.proposals.models import Material
from closeloop.proposals.services import proposal_create, proposal_materials_add
from tests.factories import (
    ContactEmailFactory,
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    UserFactory,
    lost_reason,
    stage_named,
)
from tests.worker import run_worker

# Restore replaces the whole database, so these tests commit for real; the serialized
# rollback puts the migrations' rows (the default pipeline…) back for the tests after them.
restoring = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _populate() -> dict[str, Any]:
    rep = UserFactory(email="rita@example.com", full_name="Rita Rep")
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(first_name="Lena", last_name="Lind", organization=organization)
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    lead = lead_create(
        actor=rep,
        data=LeadInput(
            first_name="Jon", last_name="Berg", email="jon@berg.example", company_name="Berg"
        ),
    ).lead
    deal = DealFactory(title="New website", owner=rep, organization=organization, contact=contact)
    deal = deal_move_to_stage(actor=rep, deal=deal, stage=stage_named("Negotiation / commitment"))
    lost = DealFactory(title="Old shop", owner=rep, organization=organization)
    deal_mark_lost(actor=rep, deal=lost, reason=lost_reason("Price"))
    proposal = proposal_create(actor=rep, deal=deal)
    [material] = proposal_materials_add(actor=rep, proposal=proposal, uploads=[("spec.pdf", PDF)])
    return {"rep": rep, "lead": lead, "deal": deal, "material": material}


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table the app's models own, in primary-key order."""
    snapshot = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            snapshot[model._meta.label] = list(model._base_manager.order_by("pk").values())
    return snapshot


def _wipe(media_root: Path) -> None:
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(media_root, ignore_errors=True)


@restoring
def test_a_populated_install_comes_back_whole(settings: Any, tmp_path: Path) -> None:
    made = _populate()
    before = _snapshot()
    assert StageChange.objects.filter(deal=made["deal"]).count() == 2
    archive = backup_create(to=tmp_path / "backup.tar.gz")

    _wipe(Path(settings.MEDIA_ROOT))
    assert not User.objects.exists() and not Material.objects.exists()
    manifest = backup_restore(source=archive)

    after = _snapshot()
    assert [label for label in before if before[label] != after[label]] == []
    assert sum(len(rows) for rows in after.values()) > 50  # the comparison compared something
    material = Material.objects.get(pk=made["material"].pk)
    with material.file.open("rb") as handle:
        assert handle.read() == PDF
    assert manifest.files == 1
    deal = Deal.objects.get(title="New website")
    assert (
        deal.stage.name == "Negotiation / commitment"
        and deal.proposals.get().materials.get() == material
    )


@restoring
def test_the_archive_names_its_version_database_and_migrations(tmp_path: Path) -> None:
    _populate()
    archive = backup_create(to=tmp_path / "backup.tar.gz")

    with tarfile.open(archive) as opened:
        names = opened.getnames()
        handle = opened.extractfile("manifest.json")
        assert handle is not None
        manifest = json.load(handle)
    assert names[0] == "manifest.json"
    assert ("database.sqlite3" if connection.vendor == "sqlite" else "database.dump") in names
    assert any(name.startswith("media/proposals/materials/") for name in names)
    assert manifest["vendor"] == connection.vendor
    assert manifest["version"] == "0.1.0"
    assert "0001_initial" in manifest["migrations"]["pipeline"]
    assert dt.datetime.fromisoformat(manifest["created_at"]).tzinfo is not None


@restoring
def test_restore_refuses_an_install_with_data_unless_forced(tmp_path: Path) -> None:
    _populate()
    archive = tmp_path / "backup.tar.gz"
    call_command("backup", to=archive, verbosity=0)
    UserFactory(email="new@example.com")

    with pytest.raises(CommandError, match=r"already has data \(2 users, .*--force"):
        call_command("restore", str(archive))
    assert User.objects.filter(email="new@example.com").exists()

    call_command("restore", str(archive), force=True)
    assert not User.objects.filter(email="new@example.com").exists()
    assert User.objects.filter(email="rita@example.com").exists()


@restoring
def test_the_default_archive_goes_under_var_backups_with_the_time(
    settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    with time_machine.travel(dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC), tick=False):
        call_command("backup", verbosity=0)
        with pytest.raises(CommandError, match="already exists"):
            call_command("backup", verbosity=0)

    assert [p.name for p in (tmp_path / "backups").iterdir()] == [
        "closeloop-20260304-050607.tar.gz"
    ]


@pytest.mark.django_db
def test_restore_names_what_is_wrong_with_the_file(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=r"nothing\.tar\.gz: no such file"):
        backup_restore(source=tmp_path / "nothing.tar.gz")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    with pytest.raises(BackupError, match=r"junk\.tar\.gz: not a readable backup archive"):
        backup_restore(source=junk)
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz"):
        pass
    with pytest.raises(BackupError, match=r"no manifest\.json inside"):
        backup_restore(source=empty)


@restoring
def test_a_backup_from_a_newer_version_or_the_other_database_is_refused(tmp_path: Path) -> None:
    archive = backup_create(to=tmp_path / "backup.tar.gz")
    for change, message in [
        ({"migrations": {"pipeline": ["9999_future"]}}, "newer Closeloop"),
        ({"vendor": "oracle"}, "is a backup of a oracle database"),
    ]:
        edited = tmp_path / "edited.tar.gz"
        with tarfile.open(archive) as source, tarfile.open(edited, "w:gz") as target:
            for member in source.getmembers():
                data = source.extractfile(member)
                if member.name == "manifest.json" and data is not None:
                    manifest = {**json.load(data), **change}
                    raw = json.dumps(manifest).encode()
                    member.size = len(raw)
                    target.addfile(member, io.BytesIO(raw))
                else:
                    target.addfile(member, data)
        with pytest.raises(BackupError, match=message):
            backup_restore(source=edited)
        edited.unlink()


@restoring
def test_nightly_backups_are_made_once_a_day_and_pruned(settings: Any, tmp_path: Path) -> None:
    settings.BACKUP_DIR = str(tmp_path / "nightly")
    settings.BACKUP_KEEP_DAYS = 3
    other = tmp_path / "nightly" / "keep-me.tar.gz"  # not ours: never deleted
    other.parent.mkdir()
    other.write_bytes(b"x")
    start = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)

    for day in range(10):
        for hour in (0, 6, 12):  # the scheduler checks all day; the job runs once a day
            with time_machine.travel(start + dt.timedelta(days=day, hours=hour), tick=False):
                enqueued = jobs_due_enqueue()
                assert ("backup_nightly" in enqueued) == (hour == 0)
                run_worker()

    names = sorted(p.name for p in (tmp_path / "nightly").iterdir())
    assert names == [
        "closeloop-20260507-020000.tar.gz",
        "closeloop-20260508-020000.tar.gz",
        "closeloop-20260509-020000.tar.gz",
        "closeloop-20260510-020000.tar.gz",
        "keep-me.tar.gz",
    ]


@pytest.mark.django_db
def test_no_nightly_backups_without_backup_dir(settings: Any) -> None:
    settings.BACKUP_DIR = ""
    assert "backup_nightly" not in jobs_due_enqueue()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump is for PostgreSQL")
@restoring
def test_pg_dump_missing_or_too_old_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupError, match="pg_dump is not installed"):
        backup_create(to=tmp_path / "a.tar.gz")
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    with pytest.raises(BackupError, match=r"version 9, older than the PostgreSQL server"):
        backup_create(to=tmp_path / "a.tar.gz")
    assert not (tmp_path / "a.tar.gz").exists()
