"""Concurrency and load: simulated users against the production server, on SQLite and PostgreSQL.

    .venv/bin/python bench/load.py [--db sqlite|postgres|both] [--users N] [--seconds S]
                                   [--think S] [--workers N] [--deals N] [--leads N]
                                   [--import-rows N] [--keep]

Seeds a throwaway database (a SQLite file under var/bench/, or the PostgreSQL database
closeloop_bench_load, dropped at the end unless --keep) with bench/api.py's seed: 5 teams of
10 reps with a manager each, an admin, 10,000 organizations, 20,000 deals and 50,000 leads.
Reps see their team's records (the workspace setting), so the people of a team work on the
same cards. Then starts the app with `closeloop serve --workers 2` (what `make run` runs:
gunicorn, here with 2 sync workers (--workers), the task worker and the scheduler) on 127.0.0.1.

Each simulated user logs in with its own session (the login form's POST, with its CSRF token)
and then, until the time is up, does one of these after a pause (--think seconds on average):

    board        GET /deals/board/ (remembers the cards and their versions)
    deal page    GET /deals/<id>/
    lead list    GET /leads/ (pages 1–5)
    move         POST /deals/<id>/move/ as the board's script does (X-CSRFToken, JSON, the
                 card's version from the last board the user saw, so it may be stale)
    note         POST /deals/<id>/note/ as the page's htmx form does
    lead create  GET /leads/new/, then POST the form
    deal edit    GET /deals/<id>/edit/, then POST the form with a new value (and its version)

while an admin imports CSV files of leads through the import pages (upload, mapping, preview,
run, then polling the progress fragment as the page does until the worker has finished), one
after another.

Every change the server acknowledged is recorded and checked against the database at the end:
a deal's stage is that of its acknowledged move with the highest version, its value that of
its acknowledged edit with the highest version, no two acknowledged writes of a deal got the
same version, every move has its stage change, every note and lead exists, and every import
created all of its rows. A refused stale edit (409, or the form's "changed by someone else")
is counted as refused, not lost. The table gives per kind of request: requests, answered,
refused, other 4xx, server errors (5xx) and requests without an answer, p50/p95/max time as
the client measured it (queueing for a free server worker included), and the 1-minute load
average of the machine during the run.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import free_port, seed, throwaway_database, wait_up  # noqa: E402

BENCH = ROOT / "var" / "bench"
PG_NAME = "closeloop_bench_load"
PASSWORD = "x"  # noqa: S105 (bench/api.py's seed gives every user this password)
TIMEOUT = 120  # seconds a request may take before it counts as unanswered
WEIGHTS = {
    "board": 20,
    "deal page": 20,
    "lead list": 12,
    "move": 20,
    "note": 12,
    "lead create": 8,
    "deal edit": 8,
}
STALE = "changed by someone else"
# gunicorn's access log in the bench's server log: method, path, status, milliseconds in a worker
ACCESS_FORMAT = '--access-logformat "ACCESS %(m)s %(U)s %(s)s %(M)s"'
ACCESS_LINE = re.compile(r"^ACCESS (\w+) (\S+) (\d+) (\d+)$", re.MULTILINE)
SERVER_KINDS = [
    ("GET", re.compile(r"/deals/board/"), "board"),
    ("GET", re.compile(r"/deals/\d+/"), "deal page"),
    ("GET", re.compile(r"/leads/"), "lead list"),
    ("POST", re.compile(r"/deals/\d+/move/"), "move"),
    ("POST", re.compile(r"/deals/\d+/note/"), "note"),
    ("GET", re.compile(r"/leads/new/"), "lead form"),
    ("POST", re.compile(r"/leads/new/"), "lead create"),
    ("GET", re.compile(r"/deals/\d+/edit/"), "deal edit form"),
    ("POST", re.compile(r"/deals/\d+/edit/"), "deal edit"),
    ("GET", re.compile(r"/imports/\d+/status/"), "import progress"),
    ("", re.compile(r"/imports/.*"), "import pages"),
    ("", re.compile(r"/accounts/login/"), "login"),
]
CARD_OR_COLUMN = re.compile(r'data-stage="(\d+)"|data-deal="(\d+)" data-version="(\d+)"')


# --- in the child process: seed, verify ------------------------------------------------------


def child_prepare(args: argparse.Namespace) -> None:
    """Migrate; seed an empty database; run the periodic jobs once (TASKS_BACKEND is the
    immediate one here), so the scheduler does not start a day's catch-up during the run."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from closeloop.accounts.choices import RepVisibility, Role
    from closeloop.accounts.models import User
    from closeloop.accounts.selectors import workspace_settings
    from closeloop.accounts.services import workspace_update
    from closeloop.core.schedule import jobs_due_enqueue

    call_command("migrate", verbosity=0)
    out: dict[str, Any] = {"vendor": connection.vendor}
    if not User.objects.exists():
        out["seed"] = seed(args.leads, args.deals)
        admin = User.objects.get(email="admin@bench.test")
        ws = workspace_settings()
        workspace_update(
            actor=admin,
            name=ws.name,
            base_currency=ws.base_currency,
            rep_visibility=RepVisibility.TEAM,
        )
        call_command("rebuild_deal_facts", verbosity=0)
    jobs_due_enqueue()
    # the simulated users: each team's manager and reps, team by team in turn
    people = list(
        User.objects.exclude(role=Role.ADMIN).order_by("email").values_list("email", flat=True)
    )
    teams: dict[str, list[str]] = defaultdict(list)
    for email in people:
        team = email.removeprefix("manager").removeprefix("rep").split(".")[0].split("@")[0]
        teams[team].append(email)
    order = [email for row in zip(*teams.values(), strict=False) for email in row]
    out["users"] = order
    print(json.dumps(out))


def child_verify(args: argparse.Namespace) -> None:
    """Check every acknowledged change against the database; print what was found as JSON."""
    import django

    django.setup()
    from django_tasks_db.models import DBTaskResult

    from closeloop.activities.models import Activity
    from closeloop.leads.models import ImportBatch, Lead
    from closeloop.pipeline.models import Deal, StageChange

    acks = json.loads(Path(args.verify).read_text())
    uncertain = set(acks["uncertain_deals"])
    lost: list[str] = []
    checked = defaultdict(int)

    # deals: the latest acknowledged move and edit, by the version the server answered
    writes: dict[int, list[dict]] = defaultdict(list)
    for move in acks["moves"]:
        writes[move["deal"]].append({**move, "kind": "move"})
    for edit in acks["edits"]:
        writes[edit["deal"]].append({**edit, "kind": "edit"})
    deals = Deal.with_trashed.in_bulk(list(writes))
    moved_to: dict[tuple[int, int], int] = defaultdict(int)
    for row in StageChange.objects.filter(deal_id__in=list(writes), from_stage__isnull=False):
        moved_to[(row.deal_id, row.to_stage_id)] += 1
    for deal_id, items in writes.items():
        deal = deals[deal_id]
        versions = [w["version"] for w in items]
        for version in {v for v in versions if versions.count(v) > 1}:
            lost.append(f"deal {deal_id}: two acknowledged writes both made version {version}")
        if deal_id in uncertain:
            continue  # a write of this deal got no answer: its outcome is unknown
        if deal.version < max(versions):
            lost.append(f"deal {deal_id}: version {deal.version} < acknowledged {max(versions)}")
        moves = [w for w in items if w["kind"] == "move"]
        edits = [w for w in items if w["kind"] == "edit"]
        if moves:
            checked["moves"] += len(moves)
            last = max(moves, key=lambda w: w["version"])
            if deal.stage_id != last["stage"]:
                lost.append(
                    f"deal {deal_id}: stage {deal.stage_id}, last acknowledged move to "
                    f"{last['stage']} (version {last['version']})"
                )
            for stage in {m["stage"] for m in moves}:
                wanted = sum(1 for m in moves if m["stage"] == stage)
                if moved_to[(deal_id, stage)] < wanted:
                    lost.append(f"deal {deal_id}: {wanted} moves to {stage}, fewer stage changes")
        if edits:
            checked["edits"] += len(edits)
            last = max(edits, key=lambda w: w["version"])
            if deal.value != Decimal(last["value"]):
                lost.append(
                    f"deal {deal_id}: value {deal.value}, last acknowledged edit {last['value']}"
                )

    notes = {(n["deal"], n["body"]) for n in acks["notes"]}
    bodies = {n["body"] for n in acks["notes"]}
    found = set(
        Activity.objects.filter(body__in=bodies).values_list("deal_id", "body").iterator()
    ) if bodies else set()  # fmt: skip
    checked["notes"] = len(notes)
    lost += [f"note {body!r} on deal {deal}: missing" for deal, body in notes - found]

    leads = {lead["pk"]: lead["email"] for lead in acks["leads"]}
    stored = dict(Lead.objects.filter(pk__in=list(leads)).values_list("pk", "email"))
    checked["leads"] = len(leads)
    lost += [f"lead {pk} ({mail}): missing" for pk, mail in leads.items() if stored.get(pk) != mail]

    for item in acks["imports"]:
        batch = ImportBatch.objects.get(pk=item["batch"])
        created = Lead.objects.filter(import_batch=batch).count()
        checked["import rows"] += item["rows"]
        counts = (batch.created_count, batch.skipped_count, batch.failed_count)
        if batch.state != "done" or counts != (item["rows"], 0, 0) or created != item["rows"]:
            lost.append(
                f"import {batch.pk}: state {batch.state}, created/skipped/failed {counts}, "
                f"{created} leads stored, {item['rows']} rows sent"
            )
    tasks = defaultdict(int)
    failed = []
    for path, status, error in DBTaskResult.objects.values_list(
        "task_path", "status", "exception_class_path"
    ):
        tasks[status] += 1
        if status == "FAILED":
            failed.append(f"{path.rsplit('.', 1)[-1]}: {error}")
    found = {"checked": checked, "lost": lost, "uncertain": len(uncertain)}
    print(json.dumps({**found, "tasks": tasks, "failed_tasks": failed}))


# --- the simulated users ---------------------------------------------------------------------


class FormReader(HTMLParser):
    """The fields of every form on a page as a browser would submit them unchanged."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, str]] = []
        self._open = False
        self._select: str | None = None
        self._chosen = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({})
            self._open = True
            return
        name = a.get("name")
        if not self._open or (not name and tag != "option"):
            return
        fields = self.forms[-1]
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields[name] = a.get("value", "")
        elif tag == "select" and name and "multiple" not in a:
            self._select, self._chosen = name, False
        elif tag == "option" and self._select:
            if "selected" in a or self._select not in fields:
                if not self._chosen:
                    fields[self._select] = a.get("value", "")
                self._chosen = self._chosen or "selected" in a
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.forms[-1][self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


SYLLABLES = [
    "ka", "lo", "mi", "ner", "tas", "vo", "ben", "dri", "gul", "hap",
    "jen", "kor", "lum", "mas", "nov", "pel", "quin", "ros", "sul", "tor",
]  # fmt: skip


def made_up_name(rng: random.Random, syllables: int) -> str:
    """A name like people's: varied, so the likely-duplicate checks find few look-alikes."""
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def form_with(html: str, field_name: str) -> dict[str, str] | None:
    """The fields of the first form on the page that has a field called `field_name`."""
    reader = FormReader()
    reader.feed(html)
    return next((f for f in reader.forms if field_name in f), None)


@dataclass
class Record:
    """What every simulated user did and what the server acknowledged (shared, locked)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[tuple[str, str, float]] = field(default_factory=list)
    acks: dict[str, list] = field(
        default_factory=lambda: {
            "moves": [], "edits": [], "notes": [], "leads": [], "imports": [],
            "uncertain_deals": [],
        }
    )  # fmt: skip
    problems: list[str] = field(default_factory=list)
    import_runs: list[dict] = field(default_factory=list)

    def sample(self, kind: str, outcome: str, ms: float) -> None:
        with self.lock:
            self.samples.append((kind, outcome, ms))

    def ack(self, what: str, item: Any) -> None:
        with self.lock:
            self.acks[what].append(item)

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 30:
                self.problems.append(text)


class Visitor:
    """One person with their own session, working in the app until the time is up."""

    def __init__(self, base: str, email: str, record: Record, tag: str) -> None:
        import requests

        self.base = base
        self.email = email
        self.record = record
        self.rng = random.Random(tag)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "closeloop-bench-load"
        self.cards: dict[int, list[int]] = {}  # deal id -> [version, stage id]
        self.stages: list[int] = []
        self.count = 0
        self.tag = tag  # unique per user and run: it makes the notes', leads' and rows' texts

    # one request, timed and judged ---------------------------------------------------------
    def call(
        self, kind: str, method: str, path: str, judge: Any = None, **kwargs: Any
    ) -> tuple[str, Any]:
        import requests

        headers = kwargs.pop("headers", {})
        if method == "POST":
            headers["X-CSRFToken"] = self.http.cookies.get("csrftoken", "")
        started = time.perf_counter()
        try:
            response = self.http.request(
                method, self.base + path, headers=headers, timeout=TIMEOUT,
                allow_redirects=False, **kwargs,
            )  # fmt: skip
        except requests.RequestException as exc:
            self.record.sample(kind, "no answer", (time.perf_counter() - started) * 1000)
            self.record.problem(f"{kind} {method} {path}: no answer ({exc})")
            return "no answer", None
        ms = (time.perf_counter() - started) * 1000
        status = response.status_code
        if status >= 500:
            outcome = "5xx"
            self.record.problem(f"{kind} {method} {path}: {status} {response.text[:200]!r}")
        elif judge is not None:
            outcome = judge(response)
        elif status == 409:
            outcome = "refused"
        elif status >= 400:
            outcome = "4xx"
        else:
            outcome = "ok"
        if outcome == "4xx":
            self.record.problem(f"{kind} {method} {path}: {status} {response.text[:300]!r}")
        self.record.sample(kind, outcome, ms)
        return outcome, response

    def login(self) -> bool:
        self.call("login", "GET", "/accounts/login/")
        data = {
            "username": self.email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": self.http.cookies.get("csrftoken", ""),
        }
        outcome, _ = self.call(
            "login",
            "POST",
            "/accounts/login/",
            data=data,
            judge=lambda r: "ok" if r.status_code == 302 else "4xx",
        )
        return outcome == "ok"

    # the actions ---------------------------------------------------------------------------
    def board(self) -> None:
        outcome, response = self.call("board", "GET", "/deals/board/")
        if outcome != "ok":
            return
        self.cards, self.stages, stage = {}, [], 0
        for match in CARD_OR_COLUMN.finditer(response.text):
            if match.group(1):
                stage = int(match.group(1))
                self.stages.append(stage)
            else:
                self.cards[int(match.group(2))] = [int(match.group(3)), stage]

    def _deal(self) -> int | None:
        if not self.cards:
            self.board()
        return self.rng.choice(list(self.cards)) if self.cards else None

    def deal_page(self) -> None:
        if (deal := self._deal()) is not None:
            self.call("deal page", "GET", f"/deals/{deal}/")

    def lead_list(self) -> None:
        page = self.rng.choice([1, 1, 1, 2, 3, 4, 5])
        self.call("lead list", "GET", "/leads/" + (f"?page={page}" if page > 1 else ""))

    def move(self) -> None:
        deal = self._deal()
        if deal is None or len(self.stages) < 2:
            return
        version, current = self.cards[deal]
        stage = self.rng.choice([s for s in self.stages if s != current])
        outcome, response = self.call(
            "move",
            "POST",
            f"/deals/{deal}/move/",
            data={"stage": stage, "version": version},
            headers={"Accept": "application/json"},
        )
        if outcome == "ok":
            answer = response.json()
            self.record.ack("moves", {"deal": deal, "stage": stage, "version": answer["version"]})
            self.cards[deal] = [answer["version"], stage]
        elif outcome == "refused":
            self.cards.pop(deal)  # the card snaps back; the next board shows where it is now
        elif outcome in ("5xx", "no answer"):
            self.record.ack("uncertain_deals", deal)

    def note(self) -> None:
        if (deal := self._deal()) is None:
            return
        self.count += 1
        body = f"load note {self.tag}-{self.count}"

        def judge(r: Any) -> str:
            return "ok" if r.status_code == 200 and body in r.text else "4xx"

        outcome, _ = self.call(
            "note",
            "POST",
            f"/deals/{deal}/note/",
            data={"body": body},
            headers={"HX-Request": "true"},
            judge=judge,
        )
        if outcome == "ok":
            self.record.ack("notes", {"deal": deal, "body": body})

    def lead_create(self) -> None:
        outcome, page = self.call("lead form", "GET", "/leads/new/")
        form = form_with(page.text, "last_name") if outcome == "ok" else None
        if form is None:
            return
        self.count += 1
        email = f"load.{self.tag}.{self.count}@lead.bench.test"
        form.update(
            first_name=made_up_name(self.rng, 2),
            last_name=made_up_name(self.rng, 3),
            email=email,
            company_name=f"{made_up_name(self.rng, 2)} Ltd",
        )

        def judge(r: Any) -> str:
            return "ok" if r.status_code == 302 else "4xx"

        outcome, response = self.call("lead create", "POST", "/leads/new/", data=form, judge=judge)
        if outcome == "ok":
            pk = int(re.search(r"/leads/(\d+)/", response.headers["Location"]).group(1))  # type: ignore[union-attr]
            self.record.ack("leads", {"pk": pk, "email": email})

    def deal_edit(self) -> None:
        if (deal := self._deal()) is None:
            return
        outcome, page = self.call("deal edit form", "GET", f"/deals/{deal}/edit/")
        form = form_with(page.text, "version") if outcome == "ok" else None
        if form is None:
            return
        value = f"{self.rng.randint(100, 999_999)}.{self.rng.randint(0, 99):02d}"
        form["value"] = value

        def judge(r: Any) -> str:
            if r.status_code == 302:
                return "ok"
            return "refused" if r.status_code == 200 and STALE in r.text else "4xx"

        outcome, _ = self.call("deal edit", "POST", f"/deals/{deal}/edit/", data=form, judge=judge)
        if outcome == "ok":
            version = int(form["version"]) + 1
            self.record.ack("edits", {"deal": deal, "value": value, "version": version})
            if deal in self.cards:
                self.cards[deal][0] = version
        elif outcome in ("5xx", "no answer"):
            self.record.ack("uncertain_deals", deal)

    def work(self, start: float, until: float, think: float) -> None:
        actions = list(WEIGHTS)
        weights = list(WEIGHTS.values())
        time.sleep(max(0.0, start - time.monotonic()))
        time.sleep(self.rng.uniform(0, think))  # people do not all click at the same moment
        while time.monotonic() < until:
            action = self.rng.choices(actions, weights)[0]
            getattr(self, action.replace(" ", "_"))()
            time.sleep(self.rng.uniform(0.5 * think, 1.5 * think))


class Importer(Visitor):
    """An admin importing CSV files of new leads through the import pages, one after another."""

    def import_once(self, rows: int, number: int) -> bool:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["First Name", "Last Name", "Email", "Company"])
        for i in range(rows):
            tag = f"{self.tag}.{number}.{i}"
            first, last, company = (made_up_name(self.rng, n) for n in (2, 3, 2))
            writer.writerow([first, last, f"imp.{tag}@import.bench.test", f"{company} GmbH"])
        name = f"load-{self.tag}-{number}.csv"
        token = {"csrfmiddlewaretoken": self.http.cookies.get("csrftoken", "")}
        outcome, response = self.call(
            "import pages",
            "POST",
            "/imports/new/",
            data={"kind": "leads", **token},
            files={"file": (name, buffer.getvalue().encode(), "text/csv")},
            judge=lambda r: "ok" if r.status_code == 302 else "4xx",
        )
        if outcome != "ok":
            return False
        batch = int(re.search(r"/imports/(\d+)/", response.headers["Location"]).group(1))  # type: ignore[union-attr]
        outcome, page = self.call("import pages", "GET", f"/imports/{batch}/mapping/")
        form = form_with(page.text, "col_0") if outcome == "ok" else None
        if form is None:
            return False
        form["save"] = "1"
        outcome, _ = self.call(
            "import pages",
            "POST",
            f"/imports/{batch}/mapping/",
            data=form,
            judge=lambda r: "ok" if r.status_code == 302 else "4xx",
        )
        if outcome != "ok":
            return False
        self.call("import pages", "GET", f"/imports/{batch}/preview/")
        started = time.monotonic()
        outcome, _ = self.call("import pages", "POST", f"/imports/{batch}/run/", data=token)
        if outcome != "ok":
            return False
        deadline = started + 600
        while time.monotonic() < deadline:
            time.sleep(1)  # the progress fragment polls every second
            outcome, response = self.call(
                "import progress",
                "GET",
                f"/imports/{batch}/status/",
                headers={"HX-Request": "true"},
            )
            if outcome == "ok" and response.headers.get("HX-Refresh"):
                break
        seconds = time.monotonic() - started
        self.call("import pages", "GET", f"/imports/{batch}/")
        self.record.ack("imports", {"batch": batch, "rows": rows})
        with self.record.lock:
            self.record.import_runs.append({"rows": rows, "seconds": seconds})
        return True

    def work_imports(self, start: float, until: float, rows: int) -> None:
        time.sleep(max(0.0, start - time.monotonic()))
        number = 0
        while time.monotonic() < until:
            number += 1
            if not self.import_once(rows, number):
                time.sleep(1)


# --- one run against one database --------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)] if ordered else 0.0


def load(base: str, users: list[str], args: argparse.Namespace, tag: str) -> dict[str, Any]:
    """Log everybody in, let them work for args.seconds, and return what happened."""
    record = Record()
    visitors = [Visitor(base, email, record, f"{tag}-{i}") for i, email in enumerate(users)]
    importer = Importer(base, "admin@bench.test", record, f"{tag}-import")
    logins = [threading.Thread(target=v.login) for v in [*visitors, importer]]
    for thread in logins:
        thread.start()
    for thread in logins:
        thread.join()
    start = time.monotonic() + 1
    until = start + args.seconds
    threads = [threading.Thread(target=v.work, args=(start, until, args.think)) for v in visitors]
    threads.append(
        threading.Thread(target=importer.work_imports, args=(start, until, args.import_rows))
    )
    for thread in threads:
        thread.start()
    loads = []
    while any(t.is_alive() for t in threads):
        loads.append(os.getloadavg()[0])
        time.sleep(2)
    return {"record": record, "loads": loads, "wall": time.monotonic() - start}


def _child(env: dict[str, str], *options: str) -> dict[str, Any]:
    """Run this script's child part against env's database; what it printed, as JSON."""
    command = [sys.executable, __file__, "--child", *options]
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _log_summary(path: Path) -> dict[str, Any]:
    text = path.read_text(errors="replace")
    return {
        "path": str(path.relative_to(ROOT)),
        "server_ms": _server_times(text),
        "5xx lines": sum(1 for m in ACCESS_LINE.finditer(text) if m[3][0] == "5"),
        "tracebacks": text.count("Traceback (most recent call last)"),
        "database is locked": text.count("database is locked"),
    }


def run(db: str, args: argparse.Namespace) -> dict[str, Any]:
    """Seed, serve, load, stop, verify: one database's result."""
    BENCH.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        CLOSELOOP_VAR_DIR=str(BENCH / "load-var"),
        DEBUG="0",
    )
    log_path = BENCH / f"load-{db}.log"
    sqlite_file = BENCH / "load.sqlite3"
    with throwaway_database(db, pg_name=PG_NAME, sqlite_file=sqlite_file, keep=args.keep) as url:
        env["DATABASE_URL"] = url
        immediate = {"TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
        prepared = _child(
            {**env, **immediate}, "--leads", str(args.leads), "--deals", str(args.deals)
        )
        users = prepared["users"][: args.users]
        port = free_port()
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "closeloop", "serve", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", str(args.workers)],
                env={**env, "GUNICORN_CMD_ARGS": ACCESS_FORMAT}, cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_up(port, server, seconds=120)
            load_before = os.getloadavg()[0]
            result = load(f"http://127.0.0.1:{port}", users, args, tag=f"{time.time() % 10**6:.0f}")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        record: Record = result["record"]
        acks_path = BENCH / f"load-acks-{db}.json"
        acks_path.write_text(json.dumps(record.acks))
        return {
            "vendor": prepared["vendor"],
            "seed": prepared.get("seed"),
            "users": len(users),
            "record": record,
            "verify": _child(env, "--verify", str(acks_path)),
            "loads": [load_before, *result["loads"]],
            "wall": result["wall"],
            "log": _log_summary(log_path),
        }


def _server_times(log_text: str) -> dict[str, list[float]]:
    """Milliseconds each request spent in a server worker, by kind, from the access log."""
    times: dict[str, list[float]] = defaultdict(list)
    for match in ACCESS_LINE.finditer(log_text):
        method, path, _, ms = match.groups()
        for wanted, pattern, kind in SERVER_KINDS:
            if method.startswith(wanted) and pattern.fullmatch(path):
                times[kind].append(float(ms))
                break
    return times


KINDS = [
    "board", "deal page", "lead list", "move", "note", "lead form", "lead create",
    "deal edit form", "deal edit", "import pages", "import progress",
]  # fmt: skip


def report(result: dict[str, Any], args: argparse.Namespace) -> bool:
    """Print the table for one database; True when there were no errors and nothing was lost."""
    record: Record = result["record"]
    loads = result["loads"]
    by_kind: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for kind, outcome, ms in record.samples:
        by_kind[kind].append((outcome, ms))
    vendor = result["vendor"]
    print(
        f"\n{vendor}: {result['users']} users for {args.seconds} s (think {args.think} s), "
        f"wall {result['wall']:.0f} s; 1-minute load average {min(loads):.1f}–{max(loads):.1f} "
        f"(median {sorted(loads)[len(loads) // 2]:.1f}) on {os.cpu_count()} CPUs"
    )
    head = f"{'kind':<17}{'requests':>9}{'ok':>7}{'refused':>8}{'4xx':>6}{'5xx':>6}{'no ans':>7}"
    print(head + f"{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'srv p50':>9}{'srv p95':>9}")
    work = [(o, ms) for k, rows in by_kind.items() if k != "login" for o, ms in rows]
    server_ms = result["log"]["server_ms"]
    server_ms["all but login"] = [ms for k, v in server_ms.items() if k != "login" for ms in v]
    errors = 0
    for kind in ["login", *KINDS, "all but login"]:
        rows = work if kind == "all but login" else by_kind.get(kind, [])
        if not rows:
            continue
        n = defaultdict(int)
        for outcome, _ in rows:
            n[outcome] += 1
        if kind != "all but login":
            errors += n["4xx"] + n["5xx"] + n["no answer"]
        times = [ms for _, ms in rows]
        served = server_ms.get(kind, [])
        print(
            f"{kind:<17}{len(rows):>9}{n['ok']:>7}{n['refused']:>8}{n['4xx']:>6}{n['5xx']:>6}"
            f"{n['no answer']:>7}{_percentile(times, 0.5):>9.0f}{_percentile(times, 0.95):>9.0f}"
            f"{max(times):>9.0f}{_percentile(served, 0.5):>9.0f}{_percentile(served, 0.95):>9.0f}"
        )
    print(f"throughput: {len(work) / result['wall']:.1f} requests a second")
    for run_ in record.import_runs:
        print(f"import: {run_['rows']:,} rows in {run_['seconds']:.1f} s (run to done)")
    verify = result["verify"]
    checked = ", ".join(f"{n:,} {what}" for what, n in verify["checked"].items())
    print(f"acknowledged changes checked: {checked}")
    print(f"lost updates: {len(verify['lost'])}", end="")
    print(f" (writes without an answer: {verify['uncertain']})" if verify["uncertain"] else "")
    for line in verify["lost"][:20]:
        print(f"  LOST {line}")
    tasks = ", ".join(f"{n} {status.lower()}" for status, n in sorted(verify["tasks"].items()))
    print(f"background tasks: {tasks or 'none'}")
    for line in verify["failed_tasks"]:
        print(f"  FAILED TASK {line}")
    log = result["log"]
    print(
        f"server log {log['path']}: {log['5xx lines']} 5xx answers, {log['tracebacks']} "
        f"tracebacks, {log['database is locked']} 'database is locked'"
    )
    for line in record.problems:
        print(f"  PROBLEM {line}")
    server_side = log["5xx lines"] + log["tracebacks"] + log["database is locked"]
    return not (errors or verify["lost"] or verify["failed_tasks"] or server_side)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between actions")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--import-rows", type=int, default=5_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        if args.verify:
            child_verify(args)
        else:
            child_prepare(args)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(
        f"Load: {args.users} users, {args.seconds} s, {args.deals:,} deals, {args.leads:,} "
        f"leads, imports of {args.import_rows:,} rows; `closeloop serve --workers {args.workers}`"
    )
    healthy = True
    for db in dbs:
        result = run(db, args)
        if result["seed"]:
            print(f"{result['vendor']}: seeded in {result['seed']['seconds']:.0f} s")
        healthy = report(result, args) and healthy
    sys.exit(0 if healthy else 1)


if __name__ == "__main__":
    main()
