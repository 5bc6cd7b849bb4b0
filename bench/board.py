"""Board page server time with 10,000 open and 100,000 closed deals (and their activities: notes,
and a next step on three open deals of four), on SQLite and PostgreSQL.

    .venv/bin/python bench/board.py [--db sqlite|postgres|both] [--open N] [--closed N]

Builds (once, then reuses) a database per engine under var/bench/ or closeloop_bench, then
requests the board 50 times in-process through Django's test client (middleware, visibility,
queries and template rendering included; no network) and prints median and p95.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/closeloop_bench")


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import datetime as dt
    import random

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from closeloop.accounts.choices import Role
    from closeloop.accounts.models import Team, User
    from closeloop.core.demo import create_deals, create_organizations
    from closeloop.pipeline.models import Deal
    from closeloop.pipeline.selectors import pipeline_default

    call_command("migrate", verbosity=0)
    wanted = args.open + args.closed
    if Deal.objects.count() != wanted:
        Deal.with_trashed.all().delete()
        User.objects.all().delete()
        team = Team.objects.get_or_create(name="Bench")[0]
        admin = User.objects.create_user("admin@bench.test", "x", role=Role.ADMIN)
        reps = []
        for i in range(8):
            rep = User.objects.create_user(f"rep{i}@bench.test", "x", role=Role.REP)
            rep.teams.add(team)
            reps.append(rep)
        rng = random.Random(7)
        orgs = create_organizations(3000, owners=reps, rng=rng, now=admin.date_joined)
        started = time.perf_counter()
        create_deals(
            pipeline=pipeline_default(),
            owners=reps,
            organizations=orgs,
            open_count=args.open,
            closed_count=args.closed,
            rng=rng,
        )
        print(f"  built {wanted:,} deals in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    from closeloop.activities.models import Activity

    if not Activity.objects.exists():
        # a timeline like a used workspace's: notes on every deal, and the next step (some
        # overdue) on three open deals of four, so the board's marks have work to do
        started = time.perf_counter()
        now = timezone.now()
        rng = random.Random(11)
        rows = []
        for deal_id, owner_id, status in Deal.objects.values_list("pk", "owner_id", "status"):
            for _ in range(2 if status == "open" else 1):
                rows.append(
                    Activity(
                        kind="note", body="Called", deal_id=deal_id, actor_id=owner_id,
                        created_at=now - dt.timedelta(days=rng.randint(1, 120)),
                    )
                )  # fmt: skip
            if status == "open" and rng.random() < 0.75:
                due = now + dt.timedelta(hours=rng.randint(-120, 24 * 14))
                rows.append(
                    Activity(
                        kind="call", subject="Follow-up", deal_id=deal_id, owner_id=owner_id,
                        actor_id=owner_id, due_at=due, created_at=now,
                    )
                )  # fmt: skip
        Activity.objects.bulk_create(rows, batch_size=5000)
        print(
            f"  added {len(rows):,} activities in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")

    setup_test_environment()
    results = {}
    for label, email in (
        ("admin (all deals)", "admin@bench.test"),
        ("rep (own deals)", "rep0@bench.test"),
    ):
        client = Client()
        client.force_login(User.objects.get(email=email))
        for _ in range(5):  # warm caches and connections
            client.get("/deals/board/")
        times = []
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get("/deals/board/")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as queries:
            client.get("/deals/board/")
        times.sort()
        results[label] = {
            "median": statistics.median(times),
            "p95": times[max(round(0.95 * len(times)) - 1, 0)],
            "queries": len(queries.captured_queries),
            "cards": response.content.decode().count('class="deal-card'),
        }
    print(json.dumps({"vendor": connection.vendor, "results": results}))


def run(db: str, args: argparse.Namespace) -> dict:
    env = dict(os.environ)
    if db == "postgres":
        name = PG_URL.rsplit("/", 1)[1]
        subprocess.run(
            ["psql", PG_URL.rsplit("/", 1)[0] + "/postgres", "-qc", f"CREATE DATABASE {name}"],
            capture_output=True,
            check=False,
        )
        env["DATABASE_URL"] = PG_URL
    else:
        (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'board.sqlite3'}"
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--open",
        str(args.open),
        "--closed",
        str(args.closed),
        "--requests",
        str(args.requests),
    ]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--closed", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(
        f"Board page, {args.open:,} open + {args.closed:,} closed deals, "
        f"{args.requests} requests each (server time, ms)\n"
    )
    print(f"{'database':<12} {'user':<20} {'median':>8} {'p95':>8} {'queries':>8} {'cards':>6}")
    for db in dbs:
        data = run(db, args)
        for label, r in data["results"].items():
            print(
                f"{data['vendor']:<12} {label:<20} {r['median']:>8.1f} {r['p95']:>8.1f} "
                f"{r['queries']:>8} {r['cards']:>6}"
            )


if __name__ == "__main__":
    main()
