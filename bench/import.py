"""Lead import of a 1,000,000-row CSV with duplicate checks, on SQLite and PostgreSQL.

    .venv/bin/python bench/import.py [--db sqlite|postgres|both] [--rows N] [--existing N]

The CSV (first/last name, email, phone, company, source) is generated once under var/bench/:
5 % of its rows repeat an earlier row's email or phone, another 5 % the email or phone of one of
the 100,000 leads already in the database. A base database with those leads is built once per
engine and copied before every run, so each run starts from the same state. The import runs in
a fresh process through the same services as the web page and the command line
(import_start, import_configure, import_run); the table shows wall time and the process's peak
resident memory (ru_maxrss), which includes Python and Django themselves.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "var" / "bench"
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
# the demo data's names (closeloop.core.demo) and the default sources, loaded with Django
FIRST: list[str] = []
LAST: list[str] = []
WORDS: list[str] = []
KINDS: list[str] = []
SOURCES: list[str] = []


def _load_names() -> None:
    """Fill the name lists from the demo data command and the default sources migration."""
    import importlib

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from closeloop.core import demo

    sources = importlib.import_module("closeloop.leads.migrations.0002_default_sources")
    FIRST[:], LAST[:] = demo.FIRST, demo.LAST
    WORDS[:], KINDS[:] = demo.COMPANY_WORDS, demo.COMPANY_KINDS
    SOURCES[:] = sources.SOURCES


def _person(i: int, rng: random.Random, prefix: str) -> list[str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(WORDS)} {rng.choice(KINDS)} {i % 5000}"
    domain = "gmail.com" if i % 4 == 0 else f"{company.split()[0].lower()}{i % 5000}.example"
    phone = f"{30_000_000 + i:08d}"
    formats = (f"+49 30 {phone}", f"+49-30-{phone[:4]}-{phone[4:]}", f"0049 30 {phone}")
    return [
        first,
        last,
        f"{prefix}{first}.{last}.{i}@{domain}".lower(),
        rng.choice(formats),
        company,
        rng.choice(SOURCES),
    ]


def existing_lead(i: int) -> list[str]:
    return _person(20_000_000 + i, random.Random(i), "old.")


def make_csv(path: Path, rows: int, existing: int) -> None:
    """Rows with 5 % in-file duplicates and 5 % duplicates of existing leads."""
    _load_names()
    rng = random.Random(42)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First Name", "Last Name", "Email", "Phone", "Company", "Lead Source"])
        for i in range(rows):
            roll = rng.random()
            if roll < 0.05 and i > 10:
                earlier = rng.randrange(i)  # an earlier row again
                row = _person(earlier, random.Random(earlier), "")
                if roll < 0.025:
                    row[2] = f"other.{i}@mail.example"  # ... matched by its phone only
            elif roll < 0.10:
                row = existing_lead(rng.randrange(existing))
                if roll < 0.075:
                    row[2] = row[2].upper()  # emails compare case-insensitively
            else:
                row = _person(i, random.Random(i), "")
            writer.writerow(row)


def setup_child(args: argparse.Namespace) -> None:
    """Build the base database: migrations, an admin, `existing` leads."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from closeloop.accounts.choices import Role
    from closeloop.accounts.models import User
    from closeloop.leads.imports.phones import normalize_phone_fast
    from closeloop.leads.imports.writes import RowInserter
    from closeloop.leads.models import Lead

    _load_names()
    call_command("migrate", verbosity=0)
    User.objects.create_user("admin@bench.test", "x", role=Role.ADMIN)
    now = timezone.now()
    inserter = RowInserter(
        Lead,
        varying=["first_name", "last_name", "email", "phone", "phone_e164", "company_name"],
        constants={"created_at": now, "updated_at": now, "status": "new"},
    )
    for start in range(0, args.existing, 5000):
        rows = []
        for i in range(start, min(start + 5000, args.existing)):
            first, last, email, phone, company, _ = existing_lead(i)
            rows.append((first, last, email, phone, normalize_phone_fast(phone), company))
        inserter.insert(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "VACUUM ANALYZE")
    print(json.dumps({"existing": Lead.objects.count()}))


def _server_cpu(connection) -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, when the server runs on this host."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(args: argparse.Namespace) -> None:
    """Import the CSV once and report time, counts and peak memory."""
    import resource

    import django

    django.setup()
    from django.db import connection

    from closeloop.accounts.models import User
    from closeloop.leads.imports.services import import_configure, import_run, import_start
    from closeloop.leads.models import Lead

    admin = User.objects.get(email="admin@bench.test")
    server_before = _server_cpu(connection)
    before = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    baseline = before.ru_maxrss / 1024
    cpu_before = before.ru_utime + before.ru_stime + kids.ru_utime + kids.ru_stime
    started = time.perf_counter()
    with open(args.csv, "rb") as stream:
        batch = import_start(
            actor=admin, kind="leads", stream=stream, file_name="leads.csv", enforce_limit=False
        )
    batch = import_configure(actor=admin, batch=batch, mapping=batch.mapping)
    batch = import_run(actor=admin, batch=batch)
    seconds = time.perf_counter() - started
    server_after = _server_cpu(connection)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the file's reading process
    peak = usage.ru_maxrss / 1024
    print(
        json.dumps(
            {
                "vendor": connection.vendor,
                "seconds": seconds,
                "cpu": usage.ru_utime
                + usage.ru_stime
                + children.ru_utime
                + children.ru_stime
                - cpu_before,
                "cpu_reader": children.ru_utime + children.ru_stime,
                "peak_reader_mb": children.ru_maxrss / 1024,
                "server_cpu": server_after - server_before
                if server_before is not None and server_after is not None
                else None,
                "load": os.getloadavg()[0],
                "peak_mb": peak,
                "baseline_mb": baseline,
                "state": batch.state,
                "error": batch.error,
                "rows": batch.rows_read,
                "created": batch.created_count,
                "skipped": batch.skipped_count,
                "failed": batch.failed_count,
                "updated": batch.updated_count,
                "reconciles": batch.reconciles,
                "leads": Lead.objects.count(),
                "likely": batch.options.get("likely_duplicates", ""),
            }
        )
    )


def _child(mode: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        __file__,
        f"--{mode}",
        "--rows",
        str(args.rows),
        "--existing",
        str(args.existing),
        "--csv",
        str(args.csv),
    ]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    sys.stderr.write(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", sql], check=True, capture_output=True)


def run(db: str, args: argparse.Namespace) -> dict:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT))
    env["DB_CONN_MAX_AGE"] = "0"
    # a new migration (say, other indexes) needs a new base database
    migrations = sorted(p.name for p in ROOT.glob("closeloop/*/migrations/0*.py"))
    tag = f"{args.existing}_{hashlib.sha256(' '.join(migrations).encode()).hexdigest()[:8]}"
    if db == "postgres":
        base, work = f"{args.pg_name}_base_{tag}", args.pg_name
        exists = subprocess.run(
            ["psql", f"{PG_SERVER}/{base}", "-qtc", "SELECT 1"], capture_output=True, check=False
        )
        if exists.returncode != 0:
            _psql(f"CREATE DATABASE {base}")
            _child("setup", {**env, "DATABASE_URL": f"{PG_SERVER}/{base}"}, args)
        _psql(f"DROP DATABASE IF EXISTS {work}")
        _psql(f"CREATE DATABASE {work} TEMPLATE {base}")
        env["DATABASE_URL"] = f"{PG_SERVER}/{work}"
    else:
        base, work = BENCH / f"import-base-{tag}.sqlite3", BENCH / "import.sqlite3"
        if not base.exists():
            _child("setup", {**env, "DATABASE_URL": f"sqlite:///{base}"}, args)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(base, work)
        env["DATABASE_URL"] = f"sqlite:///{work}"
    env["CLOSELOOP_VAR_DIR"] = str(BENCH / "var")
    return _child("child", env, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument(
        "--pg-name", default="closeloop_bench_import", help="PostgreSQL database to import into"
    )
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup_child(args)
        return
    if args.child:
        run_child(args)
        return
    BENCH.mkdir(parents=True, exist_ok=True)
    args.csv = args.csv or BENCH / f"leads-{args.rows}-{args.existing}.csv"
    if not args.csv.exists():
        started = time.perf_counter()
        make_csv(args.csv, args.rows, args.existing)
        print(f"  wrote {args.csv.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    size = args.csv.stat().st_size / 1024 / 1024
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(
        f"Lead import: {args.rows:,} rows ({size:.0f} MB CSV), {args.existing:,} existing leads, "
        f"5 % in-file + 5 % existing duplicates, {os.cpu_count()} CPUs\n"
    )
    print(
        f"{'database':<11}{'seconds':>8}{'CPU s':>7}{'rows/s':>9}{'created':>9}{'skipped':>8}"
        f"{'failed':>7}{'reader':>7}{'peak MB':>8}{'reader':>7}{'load':>6}  reconciles"
    )
    notes = []
    for db in dbs:
        r = run(db, args)
        if r["state"] != "done":
            print(f"{r['vendor']:<11} failed: {r['error']}")
            continue
        print(
            f"{r['vendor']:<11}{r['seconds']:>8.1f}{r['cpu']:>7.1f}"
            f"{r['rows'] / r['seconds']:>9,.0f}{r['created']:>9,}{r['skipped']:>8,}"
            f"{r['failed']:>7,}{r['cpu_reader']:>7.1f}{r['peak_mb'] + r['peak_reader_mb']:>8.0f}"
            f"{r['peak_reader_mb']:>7.0f}{r['load']:>6.1f}"
            f"  {'yes' if r['reconciles'] else 'NO'}"
        )
        notes.append(f"{r['vendor']}: likely duplicates {r['likely']}")
        if r["server_cpu"] is not None:
            notes.append(f"{r['vendor']}: the server's backend used {r['server_cpu']:.1f} CPU s")
    print()
    print("CPU s: the importing process and its file-reading child together (PostgreSQL's")
    print("server work is not in it), `reader` the child's share; peak MB: the peak resident")
    print("memory of both added up (pages the fork shares count twice), `reader` the child's;")
    print("load: 1-minute load average at the end (other work stretches the wall time).")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
