"""A known sales history, built through the services at fixed times, for exact report checks.

"Today" is 2026-06-15 12:00 UTC (`today` fixture freezes it). The default pipeline has
Demo / meeting (optional, 20 %, rots after 14 days), Proposal (50 %, 21 days) and
Negotiation / commitment (80 %, 14 days). All values EUR. Every step is at 09:00 UTC.

deal owner    source   campaign    value  opened      path (date: stage or outcome)
D1   rep      Website  -           10000  2026-01-10  Demo; 01-15 Proposal; 01-25 Negot.; 02-04 won
D2   rep      Website  -             5000 2026-01-20  Proposal; 02-09 lost there (Price; BigCRM)
D3   teammate Referral -          20000  2026-02-01 Demo; 02-11 Prop.; 02-21 Neg.; 03-03 lost Price
D4   teammate Referral Spring fair  8000  2026-03-01  Proposal; 03-11 Negotiation; 03-21 won
D5   rep      -        -            3000  2026-04-01  Demo; 04-06 lost at Demo (No budget)
D6   rep      Website  Spring fair 12000  2026-05-01  Proposal; open, expected close 2026-07-15
D7   outsider Website  -            7000  2026-05-10  Demo; 05-20 Proposal; open, closes 2026-06-30
D8   rep      Website  -            4000  2025-11-01  imported (CSV): won 2025-12-01 in Negot.
Cycle days: D1 25, D2 20, D3 30, D4 20, D5 5, D8 30.
Time in stage (days): D1 Demo 5, Proposal 10, Negotiation 10; D2 Proposal 20; D3 Demo 10,
Proposal 10, Negotiation 10; D4 Proposal 10, Negotiation 10; D5 Demo 5; D8 Negotiation 30.
Products on proposals: D1 Oven (template Standard), D2 Oven (template Standard), D4 Cake stand.
Leads created (owner rep, source Website): 2026-01-05 qualified, 2026-02-05 qualified,
2026-03-05 discarded, 2026-04-05 new; (owner teammate, source Referral) 2026-02-10 qualified.
Visibility (rep sees own only): admin all 8 deals; manager (team: manager, rep, teammate) D1–D6
and D8; rep D1, D2, D5, D6, D8; outsider D7.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import Campaign, Lead, Source
from closeloop.pipeline import services
from closeloop.pipeline.models import Deal
from closeloop.proposals.models import LineItem, Product, Proposal, ProposalTemplate
from tests.factories import lost_reason, stage_named
from tests.imports.conftest import run_import  # noqa: F401  (the prospecting import, as is)

TODAY = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


def on(day: str) -> time_machine.travel:
    return time_machine.travel(dt.datetime.fromisoformat(f"{day}T09:00:00+00:00"), tick=False)


@dataclass
class History:
    deals: dict[str, Deal]
    website: Source
    referral: Source
    spring: Campaign
    oven: Product
    stand: Product
    standard: ProposalTemplate


DEMO, PROPOSAL, NEGOTIATION = "Demo / meeting", "Proposal", "Negotiation / commitment"


def _deal(actor: Any, title: str, stage: str, **fields: Any) -> Deal:
    return services.deal_create(actor=actor, title=title, stage=stage_named(stage), **fields)


def _move(actor: Any, deal: Deal, stage: str) -> Deal:
    return services.deal_move_to_stage(actor=actor, deal=deal, stage=stage_named(stage))


def _proposal(deal: Deal, product: Product, template: ProposalTemplate | None, by: Any) -> None:
    proposal = Proposal.objects.create(
        deal=deal, title=f"Offer for {deal.title}", currency="EUR", template=template, created_by=by
    )
    LineItem.objects.create(
        proposal=proposal,
        product=product,
        name=product.name,
        quantity=Decimal("1"),
        unit_price=deal.value,
        position=0,
    )


@pytest.fixture
def history(admin, manager, rep, teammate, outsider, run_import, settings) -> History:  # noqa: F811
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    website = Source.objects.get_or_create(name="Website")[0]
    referral = Source.objects.get_or_create(name="Referral")[0]
    spring = Campaign.objects.create(name="Spring fair")
    oven = Product.objects.create(name="Oven", unit_price=Decimal("10000"), currency="EUR")
    stand = Product.objects.create(name="Cake stand", unit_price=Decimal("8000"), currency="EUR")
    standard = ProposalTemplate.objects.create(name="Standard", currency="EUR")
    price, budget = lost_reason("Price"), lost_reason("No budget")
    a = admin
    deals: dict[str, Deal] = {}
    eur = {"currency": "EUR"}
    with on("2026-01-10"):
        deals["D1"] = _deal(a, "D1", DEMO, owner=rep, source=website, value=10000, **eur)
    with on("2026-01-15"):
        deals["D1"] = _move(a, deals["D1"], PROPOSAL)
    with on("2026-01-20"):
        deals["D2"] = _deal(a, "D2", PROPOSAL, owner=rep, source=website, value=5000, **eur)
    with on("2026-01-25"):
        deals["D1"] = _move(a, deals["D1"], NEGOTIATION)
    with on("2026-02-01"):
        deals["D3"] = _deal(a, "D3", DEMO, owner=teammate, source=referral, value=20000, **eur)
    with on("2026-02-04"):
        deals["D1"] = services.deal_mark_won(actor=a, deal=deals["D1"])
    with on("2026-02-09"):
        deals["D2"] = services.deal_mark_lost(
            actor=a, deal=deals["D2"], reason=price, competitor="BigCRM"
        )
    with on("2026-02-11"):
        deals["D3"] = _move(a, deals["D3"], PROPOSAL)
    with on("2026-02-21"):
        deals["D3"] = _move(a, deals["D3"], NEGOTIATION)
    with on("2026-03-01"):
        deals["D4"] = _deal(
            a, "D4", PROPOSAL, owner=teammate, source=referral, campaign=spring, value=8000, **eur
        )
    with on("2026-03-03"):
        deals["D3"] = services.deal_mark_lost(actor=a, deal=deals["D3"], reason=price)
    with on("2026-03-11"):
        deals["D4"] = _move(a, deals["D4"], NEGOTIATION)
    with on("2026-03-21"):
        deals["D4"] = services.deal_mark_won(actor=a, deal=deals["D4"])
    with on("2026-04-01"):
        deals["D5"] = _deal(a, "D5", DEMO, owner=rep, value=3000, **eur)
    with on("2026-04-06"):
        deals["D5"] = services.deal_mark_lost(actor=a, deal=deals["D5"], reason=budget)
    with on("2026-05-01"):
        deals["D6"] = _deal(
            a,
            "D6",
            PROPOSAL,
            owner=rep,
            source=website,
            campaign=spring,
            value=12000,
            expected_close_date=dt.date(2026, 7, 15),
            **eur,
        )
    with on("2026-05-10"):
        deals["D7"] = _deal(
            a,
            "D7",
            DEMO,
            owner=outsider,
            source=website,
            value=7000,
            expected_close_date=dt.date(2026, 6, 30),
            **eur,
        )
    with on("2026-05-20"):
        deals["D7"] = _move(a, deals["D7"], PROPOSAL)
    with on("2026-06-14"):
        batch = run_import(
            "Title,Stage,Status,Amount,Currency,Created,Won date,Owner,Source\n"
            "D8,Negotiation / commitment,won,4000,EUR,2025-11-01,2025-12-01,"
            f"{rep.email},Website\n",
            kind="deals",
        )
    assert batch.created_count == 1, list(batch.rows.values_list("error", flat=True))
    deals["D8"] = Deal.objects.get(title="D8")
    _proposal(deals["D1"], oven, standard, rep)
    _proposal(deals["D2"], oven, standard, rep)
    _proposal(deals["D4"], stand, None, teammate)
    for day, owner, source, status in [
        ("2026-01-05", rep, website, LeadStatus.QUALIFIED),
        ("2026-02-05", rep, website, LeadStatus.QUALIFIED),
        ("2026-03-05", rep, website, LeadStatus.DISQUALIFIED),
        ("2026-04-05", rep, website, LeadStatus.NEW),
        ("2026-02-10", teammate, referral, LeadStatus.QUALIFIED),
    ]:
        Lead.objects.create(
            first_name="Lead",
            last_name=day,
            owner=owner,
            source=source,
            status=status,
            created_at=dt.datetime.fromisoformat(f"{day}T09:00:00+00:00"),
        )
    return History(deals, website, referral, spring, oven, stand, standard)


@pytest.fixture
def today() -> Any:
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller
