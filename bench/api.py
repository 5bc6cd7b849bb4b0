"""The REST API under load: 1,000,000 leads and 100,000 deals, on SQLite and PostgreSQL.

    .venv/bin/python bench/api.py [--db sqlite|postgres|both] [--leads N] [--deals N]
                                  [--seconds S] [--connections C] [--keep]

Seeds a throwaway database (a SQLite file under var/bench/, or the PostgreSQL database
closeloop_bench_api, dropped at the end unless --keep): 5 teams of 10 reps with a manager each,
an admin, 10,000 organizations, the deals (spread over the reps, the default pipeline's stages,
open, won and lost) and the leads. Then starts the production server the way `closeloop serve`
does (gunicorn, 2 sync workers, persistent database connections, DEBUG off) on 127.0.0.1 and
drives it with wrk (`apt-get install wrk`) for each endpoint below, after a warm-up:

- a bare Django view answering 50 deals as JSON (no authentication, no rate limit): what the
  machine does without the API's layers, for comparison;
- `GET /api/v1/deals?limit=50` with an admin's token and with a rep's (visibility applied);
- `GET /api/v1/leads?limit=50` with a rep's token (1,000,000 leads behind it).

The API's rate limit is raised for the run (API_RATE_LIMIT) so that it is counted on every
request, as in production, without refusing the load. wrk shares the 2 CPUs with the server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "var" / "bench"
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "closeloop_bench_api"
CHUNK = 50_000
BARE_PATH = "/bench/bare-deals"


def seed(leads: int, deals: int) -> dict:
    """Users in teams, organizations, deals over the default pipeline's stages, leads."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from closeloop.accounts.choices import Role
    from closeloop.accounts.models import Team, User
    from closeloop.leads.choices import LeadStatus
    from closeloop.leads.imports.writes import RowInserter
    from closeloop.leads.models import Lead, Source
    from closeloop.people.models import Organization
    from closeloop.pipeline.models import Deal, LostReason, Pipeline, Stage

    started = time.perf_counter()
    rng = random.Random(10)
    now = timezone.now().replace(microsecond=0)
    password = make_password("x")
    User.objects.create(email="admin@bench.test", password=password, role=Role.ADMIN)
    reps: list[int] = []
    for t in range(5):
        team = Team.objects.create(name=f"Team {t + 1}")
        manager = User.objects.create(
            email=f"manager{t}@bench.test", password=password, role=Role.MANAGER
        )
        manager.teams.add(team)
        for r in range(10):
            rep = User.objects.create(
                email=f"rep{t}.{r}@bench.test", password=password, role=Role.REP
            )
            rep.teams.add(team)
            reps.append(rep.pk)
    sources = list(Source.objects.values_list("pk", flat=True))
    reasons = list(LostReason.objects.values_list("pk", flat=True))
    pipeline = Pipeline.objects.get(is_default=True)
    stages = list(Stage.objects.filter(pipeline=pipeline).values_list("pk", flat=True))

    def stamp(days_ago: float):
        """The stored form of the moment `days_ago` days before now."""
        return connection.ops.adapt_datetimefield_value(now - dt.timedelta(days=days_ago))

    organizations = RowInserter(
        Organization,
        varying=["name", "domain", "owner_id", "created_at", "updated_at"],
        constants={},
    )
    with transaction.atomic():
        organizations.insert(
            [
                (f"Company {i}", f"company{i}.example", rng.choice(reps), stamp(i % 900),
                 stamp(i % 900))
                for i in range(10_000)
            ]
        )  # fmt: skip
    organization_ids = list(Organization.objects.values_list("pk", flat=True))
    deal_rows = RowInserter(
        Deal,
        varying=[
            "title", "owner_id", "organization_id", "value", "currency", "pipeline_id",
            "stage_id", "status", "won_at", "lost_at", "lost_reason_id", "source_id",
            "created_at", "updated_at",
        ],
        constants={},
    )  # fmt: skip
    for first in range(0, deals, CHUNK):
        rows = []
        for i in range(first, min(first + CHUNK, deals)):
            roll = rng.random()
            status = "open" if roll < 0.3 else "won" if roll < 0.6 else "lost"
            created = rng.uniform(0, 1000)
            closed = stamp(max(0.0, created - rng.uniform(1, 90)))
            rows.append(
                (
                    f"Deal {i}", rng.choice(reps), rng.choice(organization_ids),
                    str(rng.choice([800, 2400, 5200, 9800, 26000])), "EUR", pipeline.pk,
                    stages[-1] if status == "won" else rng.choice(stages), status,
                    closed if status == "won" else None, closed if status == "lost" else None,
                    rng.choice(reasons) if status == "lost" else None, rng.choice(sources),
                    stamp(created), stamp(max(0.0, created - 5)),
                )
            )  # fmt: skip
        with transaction.atomic():
            deal_rows.insert(rows)
        print(f"  seeded {first + len(rows):,} deals", file=sys.stderr)
    lead_rows = RowInserter(
        Lead,
        varying=["last_name", "email", "owner_id", "status", "source_id", "created_at"],
        constants={"updated_at": now},
    )
    statuses = [LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.NURTURING]
    for first in range(0, leads, CHUNK):
        with transaction.atomic():
            lead_rows.insert(
                [
                    (f"Lead {i}", f"lead{i}@example.com", rng.choice(reps),
                     str(rng.choice(statuses)), rng.choice(sources), stamp(rng.uniform(0, 1000)))
                    for i in range(first, min(first + CHUNK, leads))
                ]
            )  # fmt: skip
        if (first // CHUNK) % 4 == 3:
            print(f"  seeded {first + CHUNK:,} leads", file=sys.stderr)
    return {"seconds": time.perf_counter() - started}


def child(args: argparse.Namespace) -> None:
    """Migrate, seed when the counts differ, make the tokens; print them as JSON."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from closeloop.accounts.models import User
    from closeloop.accounts.services import api_token_create
    from closeloop.core.tasks import statistics_refresh
    from closeloop.leads.models import Lead
    from closeloop.pipeline.models import Deal

    call_command("migrate", verbosity=0)
    out: dict = {"vendor": connection.vendor}
    if Deal.with_trashed.count() != args.deals or Lead.objects.count() != args.leads:
        out["seed"] = seed(args.leads, args.deals)
    statistics_refresh()  # as the daily job keeps them (a kept database may miss new indexes')
    tokens = {}
    for who, email in (("admin", "admin@bench.test"), ("rep", "rep0.0@bench.test")):
        user = User.objects.get(email=email)
        tokens[who] = api_token_create(actor=None, user=user, name="bench")[1]
    out["tokens"] = tokens
    print(json.dumps(out))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, server: subprocess.Popen, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> dict:
    """Run wrk against `url`; requests a second, p50 and p99 latency, and errors."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    output = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {"rps": rps, "p50": p50, "p99": p99, "non2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else ""}  # fmt: skip


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", sql], capture_output=True)


@contextmanager
def throwaway_database(db: str, *, pg_name: str, sqlite_file: Path, keep: bool) -> Iterator[str]:
    """The URL of a new database (or of the one kept from the last run), dropped at the end
    unless `keep`: the PostgreSQL database `pg_name`, or `sqlite_file` with its WAL files."""

    def drop() -> None:
        if db == "postgres":
            psql(f"DROP DATABASE IF EXISTS {pg_name}")
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)

    if not keep:
        drop()
    if db == "postgres":
        psql(f"CREATE DATABASE {pg_name}")
    try:
        yield f"{PG_SERVER}/{pg_name}" if db == "postgres" else f"sqlite:///{sqlite_file}"
    finally:
        if not keep:
            drop()


def run(db: str, args: argparse.Namespace) -> dict:
    BENCH.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.api_site",
        PYTHONPATH=str(ROOT),
        CLOSELOOP_VAR_DIR=str(BENCH / "var"),
        DEBUG="0",
        DB_CONN_MAX_AGE="600",
        API_RATE_LIMIT="100000000/min",
        LOG_LEVEL="ERROR",
    )
    sqlite_file = BENCH / f"api-{args.leads}-{args.deals}.sqlite3"
    server = None
    with throwaway_database(db, pg_name=PG_NAME, sqlite_file=sqlite_file, keep=args.keep) as url:
        env["DATABASE_URL"] = url
        try:
            cmd = [sys.executable, __file__, "--child", "--leads", str(args.leads)]
            cmd += ["--deals", str(args.deals)]
            done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
            out = json.loads(done.stdout.strip().splitlines()[-1])
            port = free_port()
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "2",
                 "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT)],
                env=env,
            )  # fmt: skip
            wait_up(port, server)
            base = f"http://127.0.0.1:{port}"
            cases = [
                ("bare Django view, 50 deals", BARE_PATH, None),
                ("/api/v1/deals?limit=50 (admin)", "/api/v1/deals?limit=50", "admin"),
                ("/api/v1/deals?limit=50 (rep)", "/api/v1/deals?limit=50", "rep"),
                ("/api/v1/leads?limit=50 (rep)", "/api/v1/leads?limit=50", "rep"),
            ]
            rows = []
            for label, path, who in cases:
                headers = {"Authorization": f"Bearer {out['tokens'][who]}"} if who else {}
                wrk(base + path, headers, 3, args.connections)  # warm-up: connections, caches
                result = wrk(base + path, headers, args.seconds, args.connections)
                rows.append({"case": label, **result})
                print(f"  {db} {label}: {result['rps']:.0f} req/s", file=sys.stderr)
            out["rows"] = rows
            return out
        finally:
            if server is not None:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the database for the next run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(
        f"API under wrk: {args.leads:,} leads, {args.deals:,} deals; gunicorn 2 workers, "
        f"{args.connections} connections, {args.seconds} s a case, {os.cpu_count()} CPUs\n"
    )
    print(f"{'database':<11}{'case':<34}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for db in dbs:
        result = run(db, args)
        if "seed" in result:
            print(f"{result['vendor']}: seeded in {result['seed']['seconds']:.0f} s")
        for row in result["rows"]:
            print(
                f"{result['vendor']:<11}{row['case']:<34}{row['rps']:>8.0f}{row['p50']:>9.1f}"
                f"{row['p99']:>9.1f}{row['non2xx']:>9}"
                + (f"  socket errors: {row['socket_errors']}" if row["socket_errors"] else "")
            )


if __name__ == "__main__":
    main()
