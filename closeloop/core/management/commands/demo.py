"""Create the demo workspace: an admin, a manager, two reps, customers and ~200 deals."""

from __future__ import annotations

import os
import random
import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from closeloop.accounts.choices import Role
from closeloop.accounts.models import Team, User
from closeloop.accounts.selectors import workspace_settings
from closeloop.accounts.services import user_create
from closeloop.activities.demo import create_booking_demo, create_planned_work
from closeloop.activities.services import activity_create
from closeloop.core.demo import (
    create_contacts,
    create_deals,
    create_leads,
    create_organizations,
)
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from closeloop.pipeline.selectors import pipeline_default
from closeloop.proposals.demo import create_proposal_demo

CREDENTIALS_FILE = "demo-credentials.txt"
PEOPLE = [
    ("admin@demo.closeloop.test", "Alex Admin", Role.ADMIN),
    ("manager@demo.closeloop.test", "Morgan Manager", Role.MANAGER),
    ("rep1@demo.closeloop.test", "Riley Rep", Role.REP),
    ("rep2@demo.closeloop.test", "Sam Seller", Role.REP),
]


class Command(BaseCommand):
    help = "Create a demo workspace with realistic data (users, organizations, deals, history)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (but print the logins) when users exist already",
        )
        parser.add_argument("--deals", type=int, default=200)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        path = settings.VAR_DIR / CREDENTIALS_FILE
        if User.objects.exists():
            if not options["if_empty"]:
                self.stderr.write("This database has users already; the demo needs an empty one.")
                return
            if path.exists():
                self.stdout.write(path.read_text())
            return
        lines = self._create(options["deals"], random.Random(options["seed"]))
        address = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}/"
        text = f"Demo workspace ready. Log in at {address} with:\n" + "\n".join(lines)
        path.write_text(text + "\n")
        path.chmod(0o600)
        self.stdout.write(text)

    @transaction.atomic
    def _create(self, deal_count: int, rng: random.Random) -> list[str]:
        ws = workspace_settings()
        ws.name = "Demo Company"
        ws.save()
        team = Team.objects.create(name="Sales team")
        users, lines = [], []
        for email, name, role in PEOPLE:
            password = secrets.token_urlsafe(9)
            user = user_create(
                actor=None, email=email, role=role, password=password, full_name=name, teams=[team]
            )
            users.append(user)
            lines.append(f"  {role:<8} {email:<30} password: {password}")
        sellers = [u for u in users if u.role != Role.ADMIN]
        pipeline = pipeline_default()
        assert pipeline is not None, "the default pipeline comes with the migrations"
        orgs = create_organizations(60, owners=sellers, rng=rng, now=ws.created_at)
        contacts = create_contacts(orgs, per_org=2, rng=rng, now=ws.created_at)
        by_org: dict[int, list] = {}
        for c in contacts:
            if c.organization_id is not None:
                by_org.setdefault(c.organization_id, []).append(c)
        open_count = round(deal_count * 0.45)
        create_deals(
            pipeline=pipeline,
            owners=sellers,
            organizations=orgs,
            contacts_by_org=by_org,
            open_count=open_count,
            closed_count=deal_count - open_count,
            rng=rng,
        )
        create_leads(60, owners=sellers, rng=rng)
        for deal in Deal.objects.order_by("-created_at")[:15]:
            activity_create(
                actor=deal.owner,
                deal=deal,
                body=rng.choice(
                    [
                        "Called, they want a second quote by Friday.",
                        "Sent the brochure and price list.",
                        "Met the owner on site; budget is approved for Q3.",
                        "Asked for references from similar customers.",
                    ]
                ),
            )
        create_proposal_demo(admin=users[0], rng=rng)
        open_deals = list(
            Deal.objects.filter(status=DealStatus.OPEN)
            .select_related("owner", "contact")
            .order_by("-created_at")[:80]
        )
        create_planned_work(deals=open_deals, rng=rng)
        create_booking_demo(reps=[u for u in sellers if u.role == Role.REP], team=team)
        return lines
