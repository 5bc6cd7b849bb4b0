"""One archive file holds a whole install: the database, the uploaded files and a manifest.

Layout of the .tar.gz:
    manifest.json         app version, database vendor, migration state, created time
    database.sqlite3      SQLite: a copy taken with the sqlite3 backup API (consistent while
                          the app writes: WAL readers see one snapshot)
    database.dump         PostgreSQL: `pg_dump --format=custom` (one transaction snapshot)
    media/…               MEDIA_ROOT: proposal materials, logos, PDFs, attachments, imports

The archive is written under a temporary name and renamed at the end, so a file with the
final name is always a complete backup.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.dump"
MEDIA_PREFIX = "media/"
NAME_FORMAT = "closeloop-%Y%m%d-%H%M%S.tar.gz"
NAME_PATTERN = re.compile(r"^closeloop-(\d{8}-\d{6})\.tar\.gz$")


class BackupError(Exception):
    """A backup or restore that cannot go on, with a message that says why and what to do."""


@dataclass
class Manifest:
    """What an archive holds and where it came from."""

    version: str
    vendor: str
    created_at: str
    migrations: dict[str, list[str]]
    files: int = 0
    format: int = FORMAT
    pg_dump_major: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any], *, source: str) -> Manifest:
        try:
            return cls(
                version=str(data["version"]),
                vendor=str(data["vendor"]),
                created_at=str(data["created_at"]),
                migrations={k: list(v) for k, v in data["migrations"].items()},
                files=int(data.get("files", 0)),
                format=int(data.get("format", FORMAT)),
                pg_dump_major=data.get("pg_dump_major"),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BackupError(f"{source}: manifest.json is incomplete ({exc!r}).") from exc


def app_version() -> str:
    try:
        return metadata.version("closeloop")
    except metadata.PackageNotFoundError:
        return "unknown"


def _vendor() -> str:
    return str(connection.vendor)


def migration_state() -> dict[str, list[str]]:
    """The applied migrations per app, as the database records them."""
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def backup_default_path(directory: Path | None = None, *, now: dt.datetime | None = None) -> Path:
    """var/backups/closeloop-20260101-020000.tar.gz (UTC), or the same name in `directory`."""
    moment = (now or timezone.now()).astimezone(dt.UTC)
    return Path(directory or Path(settings.VAR_DIR) / "backups") / moment.strftime(NAME_FORMAT)


# --- PostgreSQL client tools ---------------------------------------------------------------


def _pg_tool(name: str) -> tuple[str, int]:
    """The path and major version of pg_dump / pg_restore; BackupError when missing or too old."""
    server_major = int(connection.pg_version) // 10000  # type: ignore[attr-defined]
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed (or not on PATH): install the PostgreSQL client tools of"
            f" version {server_major} or newer (Debian: apt-get install postgresql-client)."
        )
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"(\d+)(?:\.\d+)?", output.stdout)
    if found is None:
        raise BackupError(f"{path} --version printed {output.stdout!r}: not a version number.")
    major = int(found.group(1))
    if major < server_major:
        raise BackupError(
            f"{path} is version {major}, older than the PostgreSQL server ({server_major}):"
            f" install the client tools of version {server_major} or newer."
        )
    return path, major


def _pg_args() -> tuple[list[str], dict[str, str]]:
    """Connection options for the client tools; the password goes in the environment."""
    conf = connection.settings_dict
    args: list[str] = []
    if conf.get("HOST"):
        args += ["--host", str(conf["HOST"])]
    if conf.get("PORT"):
        args += ["--port", str(conf["PORT"])]
    if conf.get("USER"):
        args += ["--username", str(conf["USER"])]
    env = dict(os.environ)
    if conf.get("PASSWORD"):
        env["PGPASSWORD"] = str(conf["PASSWORD"])
    args += ["--dbname", str(conf["NAME"])]
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


# --- backup ---------------------------------------------------------------------------------


def _database_dump(workdir: Path) -> tuple[Path, str, int | None]:
    if _vendor() == "sqlite":
        target = workdir / SQLITE_MEMBER
        connection.ensure_connection()
        if connection.in_atomic_block:
            # SQLite's backup API waits for ever on a source with an open write transaction.
            raise BackupError("A SQLite backup cannot be taken inside a transaction.")
        # The backup API copies a consistent snapshot even while other processes write;
        # copying the file would miss what still sits in the WAL file.
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        copy.close()
        return target, SQLITE_MEMBER, None
    if _vendor() == "postgresql":
        pg_dump, major = _pg_tool("pg_dump")
        args, env = _pg_args()
        target = workdir / PG_MEMBER
        _run([pg_dump, "--format=custom", "--no-owner", "--file", str(target), *args], env)
        return target, PG_MEMBER, major
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {_vendor()}.")


def _media_files() -> list[tuple[Path, str]]:
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found.append((path, MEDIA_PREFIX + path.relative_to(root).as_posix()))
    return found


def backup_create(*, to: Path | None = None, now: dt.datetime | None = None) -> Path:
    """Write one archive of the database and the uploaded files; its path."""
    now = now or timezone.now()
    target = Path(to) if to else backup_default_path(now=now)
    if target.exists():
        raise BackupError(f"{target} already exists: choose another file (--to).")
    target.parent.mkdir(parents=True, exist_ok=True)
    files = _media_files()
    with tempfile.TemporaryDirectory(prefix="closeloop-backup-") as tmp:
        dump, member, pg_major = _database_dump(Path(tmp))
        manifest = Manifest(
            version=app_version(),
            vendor=_vendor(),
            created_at=now.astimezone(dt.UTC).isoformat(),
            migrations=migration_state(),
            files=len(files),
            pg_dump_major=pg_major,
        )
        partial = target.with_name(f".{target.name}.partial")
        try:
            with tarfile.open(partial, "w:gz") as archive:
                data = json.dumps(asdict(manifest), indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(data), int(now.timestamp())
                archive.addfile(info, io.BytesIO(data))
                archive.add(dump, arcname=member)
                for path, name in files:
                    archive.add(path, arcname=name)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return target


# --- restore --------------------------------------------------------------------------------


def database_has_data() -> dict[str, int]:
    """Counts of the records that make an install not empty (users, people, leads, deals)."""
    from closeloop.accounts.models import User
    from closeloop.leads.models import Lead
    from closeloop.people.models import Contact, Organization
    from closeloop.pipeline.models import Deal

    tables = set(connection.introspection.table_names())
    counts = {}
    for label, model in [
        ("users", User),
        ("organizations", Organization),
        ("contacts", Contact),
        ("leads", Lead),
        ("deals", Deal),
    ]:
        if model._meta.db_table in tables:
            count = model._base_manager.count()
            if count:
                counts[label] = count
    return counts


def _read_manifest(archive: tarfile.TarFile, source: Path) -> Manifest:
    try:
        handle = archive.extractfile(MANIFEST)
    except KeyError:
        handle = None
    if handle is None:
        raise BackupError(f"{source}: no manifest.json inside; not a Closeloop backup.")
    try:
        data = json.loads(handle.read())
    except ValueError as exc:
        raise BackupError(f"{source}: manifest.json is not valid JSON ({exc}).") from exc
    manifest = Manifest.from_json(data, source=str(source))
    if manifest.format > FORMAT:
        raise BackupError(
            f"{source}: archive format {manifest.format} is newer than this version reads"
            f" ({FORMAT}); upgrade Closeloop first."
        )
    return manifest


def _check_migrations(manifest: Manifest, source: Path) -> None:
    """A backup from a newer version has migrations this code does not know: refuse it."""
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in manifest.migrations.items()
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise BackupError(
            f"{source} comes from a newer Closeloop ({manifest.version}) with migrations this"
            f" version does not have ({', '.join(unknown[:3])}…): upgrade Closeloop first."
        )


def _restore_sqlite(archive: tarfile.TarFile, workdir: Path, source: Path) -> None:
    try:
        archive.extract(SQLITE_MEMBER, workdir, filter="data")
    except KeyError as exc:
        raise BackupError(
            f"{source}: the manifest says SQLite, but {SQLITE_MEMBER} is missing."
        ) from exc
    connection.close()
    connection.ensure_connection()
    if connection.in_atomic_block:
        raise BackupError("Restore cannot run inside a transaction.")
    # The backup API writes into the live database under its write lock, WAL and all: other
    # processes see the old database or the new one, never a half-copied file.
    with sqlite3.connect(workdir / SQLITE_MEMBER) as copy:
        copy.backup(connection.connection)
    copy.close()
    connection.close()


def _restore_postgres(
    archive: tarfile.TarFile, workdir: Path, manifest: Manifest, source: Path
) -> None:
    pg_restore, major = _pg_tool("pg_restore")
    if manifest.pg_dump_major and major < manifest.pg_dump_major:
        raise BackupError(
            f"{pg_restore} is version {major}; the backup was made with pg_dump"
            f" {manifest.pg_dump_major}: install client tools of that version or newer."
        )
    try:
        archive.extract(PG_MEMBER, workdir, filter="data")
    except KeyError as exc:
        raise BackupError(
            f"{source}: the manifest says PostgreSQL, but {PG_MEMBER} is missing."
        ) from exc
    args, env = _pg_args()
    # Our own connection would hold locks on tables that --clean drops.
    connection.close()
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            *args,
            str(workdir / PG_MEMBER),
        ],
        env,
    )


def _restore_media(archive: tarfile.TarFile) -> int:
    root = Path(settings.MEDIA_ROOT).resolve()
    count = 0
    for member in archive.getmembers():
        if not member.name.startswith(MEDIA_PREFIX) or not member.isfile():
            continue
        relative = Path(member.name[len(MEDIA_PREFIX) :])
        target = (root / relative).resolve()
        if relative.is_absolute() or root not in target.parents:
            raise BackupError(f"The archive names a file outside the files folder: {member.name}")
        handle = archive.extractfile(member)
        if handle is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        with open(partial, "wb") as out:
            shutil.copyfileobj(handle, out)
        partial.replace(target)
        count += 1
    return count


def backup_restore(*, source: Path, force: bool = False) -> Manifest:
    """Restore an archive into this install: the database, then the files.

    Refuses an install that has data (users, people, leads or deals) unless `force`, a backup
    of the other database vendor, and a backup from a newer version.
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such file.")
    try:
        archive = tarfile.open(source, "r:*")  # noqa: SIM115 (closed by the `with` below)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{source}: not a readable backup archive ({exc}).") from exc
    with archive, tempfile.TemporaryDirectory(prefix="closeloop-restore-") as tmp:
        manifest = _read_manifest(archive, source)
        if manifest.vendor != _vendor():
            raise BackupError(
                f"{source} is a backup of a {manifest.vendor} database; this install runs on"
                f" {_vendor()}. Restore it into a {manifest.vendor} install (to move from SQLite"
                " to PostgreSQL, see `closeloop copy_to_postgres`)."
            )
        _check_migrations(manifest, source)
        existing = database_has_data()
        if existing and not force:
            found = ", ".join(f"{count} {label}" for label, count in existing.items())
            raise BackupError(
                f"The database already has data ({found}): restore goes into an empty install."
                " Pass --force to replace it with the backup."
            )
        if manifest.vendor == "sqlite":
            _restore_sqlite(archive, Path(tmp), source)
        else:
            _restore_postgres(archive, Path(tmp), manifest, source)
        manifest.files = _restore_media(archive)
    # The restored database numbers its content types as the backed-up install did; this
    # process must not keep using the ids it cached before (the audit log files entries by them).
    ContentType.objects.clear_cache()
    return manifest


def pending_migrations() -> list[str]:
    """Migrations this code has that the (restored) database has not applied."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return sorted(
        f"{app}.{name}"
        for app, name in loader.disk_migrations
        if (app, name) not in loader.applied_migrations
    )
