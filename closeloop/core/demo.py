"""Realistic sample data: the demo workspace of `make run` and the benchmarks' large pipelines.

Rows are written with bulk_create rather than through the services, because history has to be
back-dated (months of stage changes) and the benchmarks need 100,000+ deals in seconds. The rows
written are the same ones the services write: a Deal plus one StageChange per step.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.people.models import Contact, ContactEmail, ContactPhone, Organization
from closeloop.people.phones import normalize_phone
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.facts import deal_facts_refresh
from closeloop.pipeline.models import Deal, LostReason, Pipeline, Stage, StageChange

COMPANY_WORDS = [
    "Alder",
    "Brightwater",
    "Cobalt",
    "Dovetail",
    "Evergreen",
    "Foxglove",
    "Granite",
    "Harbor",
    "Ironwood",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Northwind",
    "Oakridge",
    "Pinecrest",
    "Quarry",
    "Redfern",
    "Silverline",
    "Tidewater",
    "Upland",
    "Vantage",
    "Westbrook",
    "Yarrow",
]
COMPANY_KINDS = [
    "Bakery",
    "Dental",
    "Logistics",
    "Architects",
    "Consulting",
    "Print Shop",
    "Fitness",
    "Motors",
    "Legal",
    "Studio",
    "Engineering",
    "Catering",
    "Florists",
    "Vet Clinic",
]
FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elif",
    "Finn",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Katrin",
    "Luis",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Rosa",
    "Sami",
    "Tara",
    "Omar",
]
LAST = [
    "Berg",
    "Costa",
    "Dubois",
    "Engel",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Keller",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Rossi",
    "Schmidt",
]
DEAL_KINDS = [
    "Website relaunch",
    "Annual maintenance",
    "Fleet of 12 laptops",
    "Office fit-out",
    "Marketing retainer",
    "POS system",
    "Training day",
    "Cloud migration",
    "Booking software",
    "Security audit",
    "Spring campaign",
    "Service contract",
]
# How often each reason is picked for a lost deal: price and silence dominate, as in real life.
LOST_WEIGHTS = {
    "Price": 6,
    "Competitor": 4,
    "No budget": 3,
    "Unresponsive": 5,
    "Timing": 3,
    "Missing features": 2,
    "No decision-maker": 2,
    "Poor fit": 2,
    "Other": 1,
}
BATCH = 2000


def _batched(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def create_organizations(
    count: int, *, owners: Sequence[User], rng: random.Random, now: dt.datetime
) -> list[Organization]:
    """Small-business customers with plausible names and domains."""
    orgs = []
    for i in range(count):
        word, kind = rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS)
        slug = f"{word}{kind}".lower().replace(" ", "")
        orgs.append(
            Organization(
                name=f"{word} {kind}" + (f" {i // len(COMPANY_WORDS) + 1}" if i >= 24 else ""),
                domain=f"{slug}{i}.example",
                website=f"https://{slug}{i}.example",
                industry=kind,
                owner=rng.choice(owners),
                created_at=now - dt.timedelta(days=rng.randint(120, 400)),
            )
        )
    return Organization.objects.bulk_create(orgs, batch_size=BATCH)


def create_contacts(
    orgs: Sequence[Organization], *, per_org: int, rng: random.Random, now: dt.datetime
) -> list[Contact]:
    """People at each organization, each with an email and a phone."""
    contacts = []
    for org in orgs:
        for _ in range(per_org):
            contacts.append(
                Contact(
                    first_name=rng.choice(FIRST),
                    last_name=rng.choice(LAST),
                    organization=org,
                    job_title=rng.choice(["Owner", "Office manager", "Head of IT", "CEO", "Buyer"]),
                    owner=org.owner,
                    created_at=org.created_at,
                )
            )
    contacts = Contact.objects.bulk_create(contacts, batch_size=BATCH)
    emails, phones = [], []
    for c in contacts:
        domain = c.organization.domain if c.organization else "example.com"
        emails.append(
            ContactEmail(
                contact=c,
                is_primary=True,
                email=f"{c.first_name}.{c.last_name}{c.pk}@{domain}".lower(),
            )
        )
        raw = f"+49 30 {rng.randint(1000000, 9999999)}"
        phones.append(ContactPhone(contact=c, raw=raw, e164=normalize_phone(raw), is_primary=True))
    ContactEmail.objects.bulk_create(emails, batch_size=BATCH)
    ContactPhone.objects.bulk_create(phones, batch_size=BATCH)
    return contacts


def _journey(
    stages: Sequence[Stage], target: int, last_entry: dt.datetime, rng: random.Random
) -> list[tuple[Stage, dt.datetime]]:
    """The stages a deal passed through up to `target`, each with the time it entered.

    Built backwards from when it entered its last stage, so no step lies in the future.
    """
    first = 1 if stages[0].is_optional and target > 0 and rng.random() < 0.4 else 0
    path = stages[first : target + 1]
    steps, at = [], last_entry
    for stage in reversed(path):
        steps.append((stage, at))
        at -= dt.timedelta(days=rng.randint(2, 18), hours=rng.randint(0, 23))
    return steps[::-1]


def create_deals(
    *,
    pipeline: Pipeline,
    owners: Sequence[User],
    organizations: Sequence[Organization],
    contacts_by_org: dict[int, list[Contact]] | None = None,
    open_count: int,
    closed_count: int,
    rng: random.Random,
    now: dt.datetime | None = None,
    months: int = 6,
    currency: str = "EUR",
) -> int:
    """Open and closed deals with back-dated stage history spread over `months`."""
    now = now or timezone.now()
    stages = list(pipeline.stages.order_by("position", "pk"))
    reasons = {r.name: r for r in LostReason.objects.filter(is_active=True)}
    reason_names = [n for n in LOST_WEIGHTS if n in reasons] or list(reasons)
    weights = [LOST_WEIGHTS.get(n, 1) for n in reason_names]
    contacts_by_org = contacts_by_org or {}
    span = months * 30 * 24 * 3600
    plans = []
    for i in range(open_count + closed_count):
        closed = i >= open_count
        target = rng.randrange(len(stages))
        status, closed_at, reason = DealStatus.OPEN, None, None
        if closed:
            # closed deals are spread over the whole period
            closed_at = now - dt.timedelta(seconds=rng.random() * (span - 60 * 86400))
            last_entry = closed_at - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 23))
        else:
            # open deals entered their stage recently, a few long enough ago to rot
            last_entry = now - dt.timedelta(seconds=rng.random() ** 1.5 * 40 * 86400)
        steps = _journey(stages, target, last_entry, rng)
        created = steps[0][1]
        if closed:
            won = rng.random() < 0.22 + 0.18 * target  # later stages win more often
            status = DealStatus.WON if won else DealStatus.LOST
            if not won:
                reason = reasons[rng.choices(reason_names, weights)[0]] if reason_names else None
        org = rng.choice(organizations) if organizations else None
        org_contacts = contacts_by_org.get(org.pk, []) if org else []
        value = Decimal(rng.choice([800, 1500, 2400, 3900, 5200, 7500, 9800, 14000, 26000]))
        value += Decimal(rng.randrange(0, 100) * 10)
        deal = Deal(
            title=rng.choice(DEAL_KINDS),
            organization=org,
            contact=rng.choice(org_contacts) if org_contacts else None,
            owner=rng.choice(owners),
            value=value,
            currency=currency,
            expected_close_date=(steps[-1][1] + dt.timedelta(days=rng.randint(7, 60))).date(),
            pipeline=pipeline,
            stage=steps[-1][0],
            status=status,
            created_at=created,
            won_at=closed_at if status == DealStatus.WON else None,
            lost_at=closed_at if status == DealStatus.LOST else None,
            lost_reason=reason,
            competitor=rng.choice(["", "", "BigCRM", "Local rival"]) if reason else "",
        )
        plans.append((deal, steps, closed_at))
    for batch in _batched(plans):
        with transaction.atomic():
            deals = Deal.objects.bulk_create([d for d, _, _ in batch])
            changes = []
            for deal, (_, steps, closed_at) in zip(deals, batch, strict=True):
                previous = None
                for stage, at in steps:
                    changes.append(
                        StageChange(
                            deal=deal,
                            from_stage=previous,
                            to_stage=stage,
                            from_status="" if previous is None else DealStatus.OPEN,
                            to_status=DealStatus.OPEN,
                            actor=deal.owner,
                            changed_at=at,
                        )
                    )
                    previous = stage
                if closed_at is not None:
                    changes.append(
                        StageChange(
                            deal=deal,
                            from_stage=previous,
                            to_stage=previous,
                            from_status=DealStatus.OPEN,
                            to_status=deal.status,
                            actor=deal.owner,
                            changed_at=closed_at,
                        )
                    )
            StageChange.objects.bulk_create(changes, batch_size=BATCH)
            deal_facts_refresh(deal_ids=[d.pk for d in deals])
    return len(plans)


def create_leads(
    count: int, *, owners: Sequence[User], rng: random.Random, now: dt.datetime | None = None
) -> int:
    """New and in-progress leads from every channel, with campaigns and UTM attribution."""
    from closeloop.leads.choices import CampaignChannel, LeadStatus
    from closeloop.leads.models import Campaign, Lead, Source

    now = now or timezone.now()
    campaigns = [
        Campaign.objects.get_or_create(
            name=name,
            defaults={
                "channel": channel,
                "utm_campaign": utm,
                "cost": Decimal(cost),
                "currency": "EUR",
                "starts_on": (now - dt.timedelta(days=days)).date(),
            },
        )[0]
        for name, channel, utm, cost, days in [
            ("Spring newsletter", CampaignChannel.EMAIL, "spring-news", 300, 80),
            ("Search ads Q4", CampaignChannel.ADS, "q4-search", 2400, 50),
            ("Trade fair Leipzig", CampaignChannel.EVENT, "fair-leipzig", 5200, 30),
        ]
    ]
    sources = {s.name: s for s in Source.objects.all()}
    channels = [
        ("Website form", None),
        ("Email campaign", 0),
        ("Paid ads", 1),
        ("Event", 2),
        ("Referral", None),
        ("Cold outreach", None),
        ("Social media", None),
    ]
    leads = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        word, kind = rng.choice(COMPANY_WORDS), rng.choice(COMPANY_KINDS)
        source_name, campaign_index = rng.choice(channels)
        campaign = campaigns[campaign_index] if campaign_index is not None else None
        domain = f"{word}{kind}".lower().replace(" ", "") + ".example"
        raw_phone = f"+49 40 {rng.randint(1000000, 9999999)}"
        consent = rng.random() < 0.5
        leads.append(
            Lead(
                first_name=first,
                last_name=last,
                email=f"{first}.{last}.{i}@{domain}".lower(),
                phone=raw_phone,
                phone_e164=raw_phone.replace(" ", ""),
                company_name=f"{word} {kind}",
                company_domain=domain,
                job_title=rng.choice(["Owner", "Office manager", "CEO"]),
                owner=rng.choice(owners),
                source=sources.get(source_name),
                campaign=campaign,
                status=rng.choice(LeadStatus.values),
                utm_campaign=campaign.utm_campaign if campaign else "",
                utm_source={"Paid ads": "google", "Email campaign": "newsletter"}.get(
                    source_name, ""
                ),
                marketing_consent=consent,
                consent_at=now if consent else None,
                consent_method="demo data" if consent else "",
                created_at=now - dt.timedelta(hours=rng.randint(1, 24 * 45)),
            )
        )
    return len(Lead.objects.bulk_create(leads, batch_size=BATCH))
