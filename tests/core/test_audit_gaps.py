"""What the audit log records besides plain field changes, read where people read it: a
contact's emails and phones, a proposal's lines and status, a lead's outcomes, merges (both
sides) and imports (one entry with counts; updated and created records marked)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.core.models import AuditEntry
from closeloop.leads.merge import contact_merge, lead_merge
from closeloop.leads.models import DisqualifyReason, Lead
from closeloop.leads.qualification import lead_disqualify, lead_nurture, lead_qualify, lead_reopen
from closeloop.leads.services import LeadInput, lead_create
from closeloop.people.services import EmailInput, PhoneInput, contact_create, contact_update
from closeloop.pipeline.selectors import pipeline_default
from closeloop.proposals.services import (
    LineIn,
    proposal_create,
    proposal_decline,
    proposal_lines_set,
    version_freeze,
)
from closeloop.proposals.services.responses import Visitor

pytestmark = pytest.mark.django_db


def history_of(client: Client, url: str) -> str:
    """The page's History section as text (tags dropped, spaces squeezed)."""
    html = client.get(url).content.decode()
    section = html[html.index('id="history"') :]
    end = re.search(r"</ul>\s*</div>", section)
    assert end is not None
    return " ".join(re.sub(r"<[^>]+>", " ", section[: end.end()]).split())


def test_contact_emails_and_phones_changes_show_in_its_history(
    rep: Any, rep_client: Client
) -> None:
    contact = contact_create(
        actor=rep, first_name="Lena", emails=[EmailInput("lena@bakery.example")]
    )
    contact_update(
        actor=rep,
        contact=contact,
        emails=[EmailInput("lena@lind.example", "home")],
        phones=[PhoneInput("+49 30 1234567", "mobile")],
    )
    text = history_of(rep_client, reverse("people:contact_detail", args=[contact.pk]))
    assert "Emails: lena@bakery.example (work) → lena@lind.example (home)" in text
    assert "Phones: — → +49 30 1234567 (mobile)" in text
    created = AuditEntry.objects.get(object_id=contact.pk, action="create")
    assert created.changes["emails"] == [None, ["lena@bakery.example (work)"]]


def test_proposal_lines_and_status_changes_show_in_its_history(
    rep: Any, rep_client: Client, bakery_deal: Any
) -> None:
    proposal = proposal_create(actor=rep, deal=bakery_deal, title="Offer")
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(name="Design", unit_price="900")]
    )
    proposal_lines_set(
        actor=rep,
        proposal=proposal,
        lines=[LineIn(name="Design", unit_price="900", quantity="2", discount_value="10")],
    )
    version = version_freeze(actor=rep, proposal=proposal)
    proposal_decline(version=version, reason="Too dear", visitor=Visitor(ip="203.0.113.9"))

    text = history_of(rep_client, reverse("proposals:detail", args=[proposal.pk]))
    assert (
        "Lines: 1 × Design at 900, tax 0 %, one-off → 2 × Design at 900, 10 % off, tax 0 %, "
        "one-off" in text
    )
    assert "Status: draft → declined" in text
    declined = AuditEntry.objects.filter(object_id=proposal.pk, action="update").latest("pk")
    assert declined.actor is None and declined.actor_label == "the customer"


def test_lead_outcomes_show_in_its_history(admin: Any, admin_client_: Client) -> None:
    lead = lead_create(actor=admin, data=LeadInput(first_name="Ada", email="ada@x.example")).lead
    assert lead is not None
    lead_nurture(
        actor=admin, lead=lead, reason="Budget next year", until=dt.date.today() + dt.timedelta(90)
    )
    lead_reopen(actor=admin, lead=lead)
    reason = DisqualifyReason.objects.filter(is_active=True).exclude(name__iexact="other").first()
    lead_disqualify(actor=admin, lead=lead, reason=reason, note="Gone quiet")
    lead_reopen(actor=admin, lead=lead)
    deal = lead_qualify(
        actor=admin, lead=lead, pipeline=pipeline_default(), override_reason="Met them"
    )

    text = history_of(admin_client_, reverse("leads:lead_detail", args=[lead.pk]))
    assert "Status: new → nurturing" in text and "Nurture reason: — → Budget next year" in text
    assert "Status: disqualified → new" in text
    assert f"Disqualify reason: — → {reason.name}" in text
    assert "Status: new → qualified" in text and "Override reason: — → Met them" in text
    assert deal.lead_id == lead.pk


def test_a_merge_is_logged_on_both_sides(admin: Any, admin_client_: Client) -> None:
    winner = contact_create(
        actor=admin, first_name="Lena", last_name="Lind", emails=[EmailInput("l@a.example")]
    )
    loser = contact_create(
        actor=admin, first_name="Lena", last_name="L.", phones=[PhoneInput("+49 30 7654321")]
    )
    contact_merge(actor=admin, winner=winner, loser=loser, choices={})

    won = history_of(admin_client_, reverse("people:contact_detail", args=[winner.pk]))
    assert "Merged" in won and "Merged from: — → Lena L." in won
    assert "Phones: — → +49 30 7654321 (work)" in won
    entry = AuditEntry.objects.get(object_id=loser.pk, action="merge")
    assert entry.changes == {"merged_into": [None, {"id": winner.pk, "label": "Lena Lind"}]}

    first = lead_create(actor=admin, data=LeadInput(first_name="Bo", email="bo@a.example")).lead
    second = lead_create(actor=admin, data=LeadInput(first_name="Bo", email="bo@b.example")).lead
    assert first is not None and second is not None
    lead_merge(actor=admin, winner=first, loser=second, choices={"email": "loser"})
    merged = AuditEntry.objects.get(object_id=first.pk, action="merge", content_type__model="lead")
    assert merged.changes["email"] == ["bo@a.example", "bo@b.example"]
    assert merged.changes["merged_from"][1]["id"] == second.pk


def test_an_import_leaves_one_entry_with_counts_and_marks_its_records(
    admin: Any, admin_client_: Client, run_import: Any
) -> None:
    known = lead_create(actor=admin, data=LeadInput(first_name="Old", email="old@x.example")).lead
    assert known is not None
    batch = run_import(
        "email,first_name\nold@x.example,Olga\nnew@x.example,Nina\nbad,Bad\n",
        name="people.csv",
        mode="upsert",
        match_on="email",
    )
    entry = AuditEntry.objects.get(action="import", content_type__model="importbatch")
    assert entry.object_id == batch.pk and entry.actor == admin
    assert {k: v[1] for k, v in entry.changes.items() if k.endswith("_count")} == {
        "created_count": 1,
        "updated_count": 1,
        "skipped_count": 0,
        "failed_count": 1,
    }
    log = admin_client_.get(reverse("settings:audit"), {"type": "import"}).content.decode()
    assert "people.csv" in log and reverse("imports:detail", args=[batch.pk]) in log

    updated = history_of(admin_client_, reverse("leads:lead_detail", args=[known.pk]))
    assert "First name: Old → Olga" in updated
    assert f"Import: — → Leads from people.csv (import #{batch.pk})" in updated
    created = Lead.objects.get(email="new@x.example")
    shown = history_of(admin_client_, reverse("leads:lead_detail", args=[created.pk]))
    assert "Imported" in shown and f"(import #{batch.pk})" in shown


def test_decimal_and_money_lines_are_plain_text(rep: Any, bakery_deal: Any) -> None:
    proposal = proposal_create(actor=rep, deal=bakery_deal, title="Offer")
    proposal_lines_set(
        actor=rep,
        proposal=proposal,
        lines=[LineIn(name="Hosting", unit_price=Decimal("49.50"), billing="monthly")],
    )
    entry = AuditEntry.objects.filter(object_id=proposal.pk, action="update").latest("pk")
    assert entry.changes["lines"] == [[], ["1 × Hosting at 49.5, tax 0 %, monthly"]]
    assert timezone.now() - entry.created_at < dt.timedelta(minutes=1)
