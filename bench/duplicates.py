"""The full duplicate scan on 100,000 leads and 20,000 contacts, on SQLite and PostgreSQL.

    .venv/bin/python bench/duplicates.py [--db sqlite|postgres|both] [--leads N] [--contacts N]

Builds (once, then reuses) a database per engine under var/bench/ or closeloop_dupes_bench with
Faker names (seeded), 1% of the leads planted as near-copies of another lead (a typo in the first
name, the company written differently), 1% sharing another lead's email, and 1% of the contacts
planted as same-organization look-alikes or sharing an email. Then it deletes every stored pair and
runs the scan once in-process, and prints its time, peak memory and how many planted pairs it found.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/closeloop_dupes_bench")


def _typo(name: str, i: int) -> str:
    if len(name) < 4:
        return name + "e"
    k = 1 + i % (len(name) - 2)
    return name[:k] + name[k + 1 :]  # one letter dropped


def build(args: argparse.Namespace) -> dict[str, list[tuple[int, int]]]:
    from faker import Faker

    from closeloop.leads.models import Lead
    from closeloop.people.models import Contact, ContactEmail, Organization

    fake = Faker("en_US")
    Faker.seed(11)
    Lead.with_trashed.all().delete()
    Contact.with_trashed.all().delete()
    Organization.with_trashed.all().delete()
    companies = [fake.company() for _ in range(5000)]
    leads = []
    planted_leads: list[tuple[int, int]] = []  # (index of copy, index of original)
    for i in range(args.leads):
        if i > 100 and i % 100 == 0:  # a near-copy of an earlier lead
            j = i - 1 - (i * 7919) % 100
            o = leads[j]
            leads.append(
                Lead(first_name=_typo(o.first_name, i), last_name=o.last_name,
                     company_name=o.company_name.replace(",", "") + " Inc",
                     email=f"copy{i}@example.net")
            )  # fmt: skip
            planted_leads.append((i, j))
        elif i > 100 and i % 100 == 50:  # the same email as an earlier lead
            j = i - 1 - (i * 104729) % 100
            leads.append(Lead(first_name=fake.first_name(), last_name=fake.last_name(),
                              company_name=companies[i % 5000], email=leads[j].email))  # fmt: skip
            planted_leads.append((i, j))
        else:
            leads.append(Lead(first_name=fake.first_name(), last_name=fake.last_name(),
                              company_name=companies[(i * 31) % 5000],
                              email=f"lead{i}@example.com"))  # fmt: skip
    Lead.objects.bulk_create(leads, batch_size=2000)
    lead_ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    orgs = Organization.objects.bulk_create(
        [Organization(name=name) for name in dict.fromkeys(companies[:3000])], batch_size=2000
    )
    contacts = []
    planted_contacts: list[tuple[int, int]] = []
    for i in range(args.contacts):
        if i > 100 and i % 100 == 0:
            j = i - 1 - (i * 7919) % 100
            o = contacts[j]
            contacts.append(Contact(first_name=_typo(o.first_name, i), last_name=o.last_name,
                                    organization=o.organization))  # fmt: skip
            planted_contacts.append((j, i))
        else:
            contacts.append(Contact(first_name=fake.first_name(), last_name=fake.last_name(),
                                    organization=orgs[(i * 17) % len(orgs)]))  # fmt: skip
    Contact.objects.bulk_create(contacts, batch_size=2000)
    contact_ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    emails = []
    for i, pk in enumerate(contact_ids):
        email = f"contact{i}@example.org"
        if i > 100 and i % 100 == 50:
            j = i - 1 - (i * 104729) % 100
            email = f"contact{j}@example.org"
            planted_contacts.append((j, i))
        emails.append(ContactEmail(contact_id=pk, email=email, is_primary=True))
    ContactEmail.objects.bulk_create(emails, batch_size=2000)
    return {
        "leads": [(lead_ids[a], lead_ids[b]) for a, b in planted_leads],
        "contacts": [(contact_ids[a], contact_ids[b]) for a, b in planted_contacts],
    }


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from closeloop.leads.duplicate_scan import duplicates_scan
    from closeloop.leads.models import DuplicatePair, Lead
    from closeloop.people.models import Contact

    call_command("migrate", verbosity=0)
    planted_file = Path(args.planted)
    if (
        Lead.objects.count() != args.leads
        or Contact.objects.count() != args.contacts
        or not planted_file.exists()
    ):
        started = time.perf_counter()
        planted = build(args)
        planted_file.write_text(json.dumps(planted))
        print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    planted = json.loads(planted_file.read_text())
    DuplicatePair.objects.all().delete()
    started = time.perf_counter()
    result = duplicates_scan(actor=None)
    seconds = time.perf_counter() - started
    lead_pairs = {
        frozenset((a, b or c))
        for a, b, c in DuplicatePair.objects.filter(lead__isnull=False).values_list(
            "lead_id", "other_lead_id", "other_contact_id"
        )
    }
    contact_pairs = {
        frozenset(key)
        for key in DuplicatePair.objects.filter(contact__isnull=False).values_list(
            "contact_id", "other_contact_id"
        )
    }
    found_leads = sum(frozenset(p) in lead_pairs for p in planted["leads"])
    found_contacts = sum(frozenset(p) in contact_pairs for p in planted["contacts"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "vendor": connection.vendor, "seconds": seconds, "peak_mib": peak,
        "leads": result.leads_checked, "contacts": result.contacts_checked,
        "lead_pairs": result.pairs_flagged, "contact_pairs": result.contact_pairs,
        "planted_leads": f"{found_leads}/{len(planted['leads'])}",
        "planted_contacts": f"{found_contacts}/{len(planted['contacts'])}",
    }))  # fmt: skip


def run(db: str, args: argparse.Namespace) -> dict:
    env = dict(os.environ)
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    if db == "postgres":
        name = PG_URL.rsplit("/", 1)[1]
        subprocess.run(
            ["psql", PG_URL.rsplit("/", 1)[0] + "/postgres", "-qc", f"CREATE DATABASE {name}"],
            capture_output=True,
            check=False,
        )
        env["DATABASE_URL"] = PG_URL
    else:
        env["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench' / 'duplicates.sqlite3'}"
    planted = ROOT / "var" / "bench" / f"duplicates-planted-{db}.json"
    cmd = [sys.executable, __file__, "--child", "--leads", str(args.leads),
           "--contacts", str(args.contacts), "--planted", str(planted)]  # fmt: skip
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    sys.stderr.write(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--planted", default="", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"Full duplicate scan, {args.leads:,} leads + {args.contacts:,} contacts\n")
    print(
        f"{'database':<11} {'seconds':>8} {'peak MiB':>9} {'lead pairs':>11} "
        f"{'contact pairs':>14} {'planted leads':>14} {'planted contacts':>17}"
    )
    for db in dbs:
        r = run(db, args)
        print(
            f"{r['vendor']:<11} {r['seconds']:>8.1f} {r['peak_mib']:>9.0f} {r['lead_pairs']:>11,} "
            f"{r['contact_pairs']:>14,} {r['planted_leads']:>14} {r['planted_contacts']:>17}"
        )


if __name__ == "__main__":
    main()
