"""Analytics reports with 1,000,000 deals and their stage history, on SQLite and PostgreSQL.

    .venv/bin/python bench/analytics.py [--db sqlite|postgres|both] [--deals N] [--keep]

Seeds a throwaway database (a SQLite file under var/bench/, or the PostgreSQL database
closeloop_bench_analytics, dropped at the end unless --keep): 4 years of deals, ~50 reps in 5
teams with a manager each, 10 sources, 30 campaigns, the default pipeline and one more, ~35 %
won, 45 % lost, 20 % open (most open deals recent), the StageChange rows the services write
(≈ 4 a deal), as many leads as deals, and proposals with products on one deal in twenty. Then
times `deal_facts_rebuild` (the one way the report facts are built) and requests every
registered report page (and the analytics dashboard) through Django's test client, as an admin
and as a manager, for the last 12 months and for all time: median of 3 after a warm-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "var" / "bench"
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "closeloop_bench_analytics"
CHUNK = 50_000  # deals seeded per round (their history is held in memory meanwhile)
YEARS = 4


def _stamp(connection):
    """A function turning seconds since the epoch (UTC) into the value the backend stores."""
    epoch = dt.datetime(1970, 1, 1)
    if connection.vendor == "sqlite":
        # what Django's adapt_datetimefield_value writes: naive UTC text
        return lambda s: str(epoch + dt.timedelta(seconds=s))
    return lambda s: (epoch + dt.timedelta(seconds=s)).replace(tzinfo=dt.UTC)


def seed(deals: int) -> dict:
    """Users, teams, sources, campaigns, a second pipeline, deals with history, leads,
    proposals. Returns counts and seconds."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from closeloop.accounts.choices import Role
    from closeloop.accounts.models import Team, User
    from closeloop.leads.choices import LeadStatus
    from closeloop.leads.imports.writes import RowInserter
    from closeloop.leads.models import Campaign, Lead, Source
    from closeloop.pipeline.models import Deal, LostReason, Pipeline, Stage, StageChange
    from closeloop.pipeline.services.setup import pipeline_create
    from closeloop.proposals.models import LineItem, Product, Proposal

    started = time.perf_counter()
    rng = random.Random(8)
    now = timezone.now().replace(microsecond=0)
    password = make_password("x")  # hashed once: 56 PBKDF2 runs would dominate small seeds
    admin = User.objects.create(email="admin@bench.test", password=password, role=Role.ADMIN)
    teams = [Team.objects.create(name=f"Team {t + 1}") for t in range(5)]
    reps: list[int] = []
    for t, team in enumerate(teams):
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
    for i in range(Source.objects.count(), 10):
        Source.objects.create(name=f"Source {i + 1}", position=i)
    sources = list(Source.objects.values_list("pk", flat=True))[:10]
    campaigns = [Campaign.objects.create(name=f"Campaign {c + 1}").pk for c in range(30)]
    reasons = list(LostReason.objects.values_list("pk", flat=True))
    default = Pipeline.objects.get(is_default=True)
    second = pipeline_create(actor=admin, name="Renewals")
    stages_of = {
        p.pk: list(
            Stage.objects.filter(pipeline=p).order_by("position").values_list("pk", flat=True)
        )
        for p in (default, second)
    }
    optional_first = {
        p: Stage.objects.filter(pk=ids[0], is_optional=True).exists()
        for p, ids in stages_of.items()
    }
    products = [
        Product.objects.create(name=f"Product {n + 1}", unit_price=100 * (n + 1), currency="EUR")
        for n in range(20)
    ]

    stamp = _stamp(connection)
    deal_rows = RowInserter(
        Deal,
        varying=[
            "title", "owner_id", "value", "currency", "expected_close_date", "pipeline_id",
            "stage_id", "status", "won_at", "lost_at", "lost_reason_id", "competitor",
            "source_id", "campaign_id", "created_at", "updated_at",
        ],
        constants={},
    )  # fmt: skip
    change_rows = RowInserter(
        StageChange,
        varying=[
            "deal_id", "from_stage_id", "to_stage_id", "from_status", "to_status", "actor_id",
            "changed_at",
        ],
        constants={},
    )  # fmt: skip
    end = int(now.timestamp())
    span = YEARS * 365 * 86400
    day = 86400
    changes_total = 0
    proposals: list[tuple[int, int]] = []  # (deal id, owner)
    for first in range(0, deals, CHUNK):
        n = min(CHUNK, deals - first)
        plans = []
        for _ in range(n):
            pipeline_id = default.pk if rng.random() < 0.85 else second.pk
            stages = stages_of[pipeline_id]
            roll = rng.random()
            status = "open" if roll < 0.20 else "won" if roll < 0.55 else "lost"
            if status == "open":
                # most open deals are recent; a few have been lying around for a year or more
                created = end - int(min(rng.expovariate(1 / 50) * day, span))
                last = end - rng.randint(0, day * 20)
                last = max(last, created + 3600)
            else:
                # more business lately: closing dates lean towards the present
                closed = end - int(span * rng.random() ** 1.3)
                cycle = int((3 + rng.expovariate(1 / 40)) * day)
                created = closed - min(cycle, 400 * day)
                last = closed
            if status == "won":
                target = len(stages) - 1 if rng.random() < 0.9 else len(stages) - 2
            else:  # lost and open deals got a little further on average than the first stage
                target = rng.choices(range(len(stages)), [1] + [2] * (len(stages) - 1))[0]
            start = 1 if optional_first[pipeline_id] and target > 0 and rng.random() < 0.25 else 0
            path = list(stages[start : target + 1])
            if len(path) > 1 and rng.random() < 0.4:  # went back a stage and forward again
                path += [path[-2], path[-1]]
            moments = sorted(rng.randint(created, last - 60) for _ in path[1:])
            moments = [created, *moments]
            if status != "open":
                moments.append(last)
            plans.append((pipeline_id, path, moments, status))
        rows = []
        for pipeline_id, path, moments, status in plans:
            owner = rng.choice(reps)
            closed_at = stamp(moments[-1]) if status != "open" else None
            value = rng.choice([800, 1500, 2400, 3900, 5200, 7500, 9800, 14000, 26000])
            rows.append(
                (
                    "Deal", owner, str(value + rng.randrange(100) * 10),
                    "USD" if rng.random() < 0.02 else "EUR",
                    dt.date.fromtimestamp(moments[-1] + rng.randint(7, 60) * day).isoformat(),
                    pipeline_id, path[-1], status,
                    closed_at if status == "won" else None,
                    closed_at if status == "lost" else None,
                    rng.choice(reasons) if status == "lost" else None,
                    rng.choice(["", "", "BigCRM", "Local rival"]) if status == "lost" else "",
                    rng.choice(sources), rng.choice(campaigns) if rng.random() < 0.3 else None,
                    stamp(moments[0]), stamp(moments[-1]),
                )
            )  # fmt: skip
        with transaction.atomic():
            deal_rows.insert(rows)
            last_id = Deal.with_trashed.order_by("-pk").values_list("pk", flat=True)[0]
            first_id = last_id - n + 1
            changes = []
            for offset, ((_pipeline_id, path, moments, status), row) in enumerate(
                zip(plans, rows, strict=True)
            ):
                deal_id, owner = first_id + offset, row[1]
                previous = None
                for stage, at in zip(path, moments, strict=False):
                    changes.append(
                        (
                            deal_id, previous, stage, "" if previous is None else "open", "open",
                            owner, stamp(at),
                        )
                    )  # fmt: skip
                    previous = stage
                if status != "open":
                    changes.append(
                        (deal_id, previous, previous, "open", status, owner, stamp(moments[-1]))
                    )
                if len(path) > 1 and rng.random() < 0.05:
                    proposals.append((deal_id, owner))
            change_rows.insert(changes)
            changes_total += len(changes)
        print(f"  seeded {first + n:,} deals", file=sys.stderr)
    assert Deal.with_trashed.count() == deals, "deal ids were not contiguous"

    lead_rows = RowInserter(
        Lead,
        varying=["last_name", "owner_id", "status", "source_id", "campaign_id", "created_at"],
        constants={"updated_at": now},
    )
    statuses = [
        LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED, LeadStatus.QUALIFIED,
        LeadStatus.NURTURING, LeadStatus.DISQUALIFIED,
    ]  # fmt: skip
    for first in range(0, deals, CHUNK):
        lead_rows.insert(
            [
                (
                    f"Lead {first + i}", rng.choice(reps), str(rng.choice(statuses)),
                    rng.choice(sources), rng.choice(campaigns) if rng.random() < 0.3 else None,
                    stamp(end - int(span * rng.random() ** 1.3)),
                )
                for i in range(min(CHUNK, deals - first))
            ]
        )  # fmt: skip
    made = Proposal.objects.bulk_create(
        [
            Proposal(deal_id=deal_id, title="Offer", currency="EUR", created_by_id=owner)
            for deal_id, owner in proposals
        ],
        batch_size=2000,
    )
    LineItem.objects.bulk_create(
        [
            LineItem(
                proposal_id=proposal.pk,
                product=product,
                name=product.name,
                unit_price=product.unit_price,
            )
            for proposal in made
            for product in rng.sample(products, rng.randint(1, 3))
        ],
        batch_size=2000,
    )
    return {
        "deals": deals,
        "changes": changes_total,
        "leads": deals,
        "proposals": len(made),
        "seconds": time.perf_counter() - started,
    }


def _timed(timings: list[float]):
    """A query wrapper appending each query's milliseconds to `timings`."""

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((time.perf_counter() - started) * 1000)

    return wrapper


def analyze(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import importlib.util

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from closeloop.accounts.models import User
    from closeloop.analytics.results import report_kinds
    from closeloop.pipeline.facts import deal_facts_rebuild
    from closeloop.pipeline.models import Deal, DealFacts, OpenedCell, StageChange, StageStay
    from closeloop.pipeline.rollups.maintain import deal_rollups_rebuild

    call_command("migrate", verbosity=0)
    out: dict = {"vendor": connection.vendor}
    if Deal.with_trashed.count() != args.deals:
        out["seed"] = seed(args.deals)
        analyze(connection)
    out["changes"] = StageChange.objects.count()
    if DealFacts.objects.count() != args.deals or args.rebuild:
        started = time.perf_counter()
        deal_facts_rebuild()
        out["rebuild"] = time.perf_counter() - started
        print(f"  rebuilt the facts in {out['rebuild']:.0f} s", file=sys.stderr)
        analyze(connection)
    out["stays"] = StageStay.objects.count()
    if not OpenedCell.objects.exists():  # a database kept from before the rollup cells
        started = time.perf_counter()
        deal_rollups_rebuild()
        out["cells"] = time.perf_counter() - started
        print(f"  rebuilt the rollup cells in {out['cells']:.0f} s", file=sys.stderr)
        analyze(connection)

    setup_test_environment()
    pages = [(k.key, f"/analytics/{k.key}/") for k in report_kinds()]
    if importlib.util.find_spec("closeloop.analytics.figures") is not None:
        pages.insert(0, ("(dashboard)", "/analytics/"))
    if args.pages is not None:
        wanted = set(filter(None, args.pages.split(",")))
        pages = [(key, url) for key, url in pages if key in wanted]
    rows = []
    for who, email in (("admin", "admin@bench.test"), ("manager", "manager0@bench.test")):
        client = Client()
        client.force_login(User.objects.get(email=email))
        for key, url in pages:
            for period in ("last_12_months", "all"):
                target = f"{url}?period={period}"
                timings: list[float] = []
                with connection.execute_wrapper(_timed(timings)):
                    response = client.get(target)  # the warm-up, with its queries timed
                status = response.status_code
                times = []
                for _ in range(3):
                    started = time.perf_counter()
                    client.get(target)
                    times.append((time.perf_counter() - started) * 1000)
                rows.append(
                    {
                        "page": key,
                        "user": who,
                        "period": "12 months" if period != "all" else "all time",
                        "median": statistics.median(times),
                        "queries": len(timings),
                        "slowest": max(timings, default=0.0),
                        "status": status,
                    }
                )
                print(f"  {key} {who} {period}: {rows[-1]['median']:.0f} ms", file=sys.stderr)
    out["rows"] = rows
    out["load"] = os.getloadavg()[0]
    print(json.dumps(out))


def _psql(sql: str, db: str = "postgres") -> subprocess.CompletedProcess:
    return subprocess.run(["psql", f"{PG_SERVER}/{db}", "-qc", sql], capture_output=True)


def run(db: str, args: argparse.Namespace) -> dict:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", PYTHONPATH=str(ROOT))
    BENCH.mkdir(parents=True, exist_ok=True)
    env["CLOSELOOP_VAR_DIR"] = str(BENCH / "var")
    sqlite_file = BENCH / f"analytics-{args.deals}.sqlite3"
    if db == "postgres":
        if not args.keep:
            _psql(f"DROP DATABASE IF EXISTS {PG_NAME}")
        _psql(f"CREATE DATABASE {PG_NAME}")
        env["DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    else:
        if not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{sqlite_file}"
    cmd = [sys.executable, __file__, "--child", "--deals", str(args.deals)]
    if args.rebuild:
        cmd.append("--rebuild")
    if args.pages is not None:
        cmd += ["--pages", args.pages]
    try:
        # progress lines go straight to stderr: a million-deal run takes a while
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if not args.keep:
            if db == "postgres":
                _psql(f"DROP DATABASE IF EXISTS {PG_NAME}")
            else:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and reuse it next time"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the facts even if kept")
    parser.add_argument(
        "--pages",
        help="comma-separated report keys to time ('(dashboard)' for /analytics/); "
        "an empty string times none (to seed and rebuild only)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(
        f"Analytics reports: {args.deals:,} deals over {YEARS} years, {os.cpu_count()} CPUs; "
        "page server time in ms (median of 3 after a warm-up)\n"
    )
    for db in dbs:
        r = run(db, args)
        seeded = r.get("seed")
        if seeded:
            print(
                f"{r['vendor']}: seeded {seeded['deals']:,} deals, {seeded['changes']:,} stage "
                f"changes, {seeded['leads']:,} leads, {seeded['proposals']:,} proposals in "
                f"{seeded['seconds']:.0f} s"
            )
        if "rebuild" in r:
            print(
                f"{r['vendor']}: deal_facts_rebuild wrote {args.deals:,} facts and "
                f"{r['stays']:,} stage stays in {r['rebuild']:.0f} s"
            )
        if "cells" in r:
            print(f"{r['vendor']}: deal_rollups_rebuild (cells only) took {r['cells']:.0f} s")
        print(
            f"\n{'database':<11}{'page':<14}{'user':<9}{'period':<11}"
            f"{'median':>8}{'queries':>8}{'slowest q':>10}"
        )
        for row in r["rows"]:
            flag = "" if row["status"] == 200 else f"  HTTP {row['status']}"
            print(
                f"{r['vendor']:<11}{row['page']:<14}{row['user']:<9}{row['period']:<11}"
                f"{row['median']:>8.0f}{row['queries']:>8}{row['slowest']:>10.0f}{flag}"
            )
        print(f"(1-minute load average at the end: {r['load']:.1f})\n")


if __name__ == "__main__":
    main()
