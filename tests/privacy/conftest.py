"""Lena Lindqvist of Bakery Lind, stored everywhere a person can be: her contact and the lead
she was, a deal (its title names her), notes, mail both ways with attachments, a proposal she
answered from her IP address, a survey answer, a coupon, consent, a meeting booking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from closeloop.activities.services import activity_create
from closeloop.aftersales.coupons import coupon_issue
from closeloop.aftersales.models import Survey, SurveyInvite, SurveyResponse
from closeloop.leads.models import Lead
from closeloop.leads.services import LeadInput, lead_create
from closeloop.messaging.consent import marketing_consent_set
from closeloop.messaging.inbound.models import MailOutcome, ReceivedAttachment, ReceivedMessage
from closeloop.messaging.models import Message
from closeloop.messaging.services import AttachmentIn, message_queue
from closeloop.people.models import Contact, Organization
from closeloop.people.services import EmailInput, PhoneInput, contact_create, organization_create
from closeloop.pipeline.models import Deal
from closeloop.pipeline.services import deal_create
from closeloop.proposals.models import ProposalVersion
from closeloop.proposals.services import (
    LineIn,
    proposal_create,
    proposal_lines_set,
    proposal_request_changes,
    version_freeze,
)
from closeloop.proposals.services.responses import Visitor

EMAIL = "lena@bakery.example"
NAME = "Lena Lindqvist"
PHONE = "+49 30 5550123"
IP = "203.0.113.7"


@dataclass
class Lena:
    contact: Contact
    organization: Organization
    lead: Lead
    deal: Deal
    message: Message
    received: ReceivedMessage
    version: ProposalVersion
    survey: SurveyResponse


@pytest.fixture
def lena(rep: Any) -> Lena:
    org = organization_create(actor=rep, name="Bakery Lind", domain="bakery.example")
    contact = contact_create(
        actor=rep,
        first_name="Lena",
        last_name="Lindqvist",
        job_title="Owner",
        organization=org,
        notes="Prefers calls after four",
        emails=[EmailInput(EMAIL)],
        phones=[PhoneInput(PHONE, "mobile")],
    )
    lead = lead_create(
        actor=rep,
        data=LeadInput(
            first_name="Lena",
            last_name="Lindqvist",
            email=EMAIL,
            company_name="Bakery Lind",
            notes="Met her at the bakery fair",
            owner=rep,
        ),
        allow_exact_duplicate=True,
    ).lead
    assert lead is not None
    deal = deal_create(
        actor=rep,
        title=f"Ovens for {NAME}",
        contact=contact,
        organization=org,
        value=Decimal("12000"),
        currency="EUR",
    )
    Deal.objects.filter(pk=deal.pk).update(lead=lead)
    activity_create(actor=rep, body="Lena wants a demo on Tuesday", contact=contact)
    activity_create(actor=rep, body=f"Call {NAME} about the price", deal=deal)
    message = message_queue(
        actor=rep,
        to=[f"{NAME} <{EMAIL}>"],
        subject="Your oven quote",
        text_body="Hello Lena, here is the quote.",
        attachments=[AttachmentIn("quote.txt", b"Quote for Lena", "text/plain")],
        contact=contact,
        deal=deal,
    )
    received = ReceivedMessage.objects.create(
        message_id="<reply-1@bakery.example>",
        from_name=NAME,
        from_email=EMAIL,
        to=["sales@example.com"],
        subject="Re: Your oven quote",
        text_body="Thanks, I will think about it. Lena",
        outcome=MailOutcome.REPLY,
        contact=contact,
        deal=deal,
    )
    attachment = ReceivedAttachment(message=received, filename="floorplan.txt", size=9)
    attachment.file.save("floorplan.txt", ContentFile(b"floorplan"), save=True)
    proposal = proposal_create(actor=rep, deal=deal, title="Ovens")
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(name="Oven", unit_price="12000")]
    )
    version = version_freeze(actor=rep, proposal=proposal)
    version.pdf.save("ovens-v1.pdf", ContentFile(b"%PDF-1.4 Lena Lindqvist"), save=True)
    proposal_request_changes(
        version=version,
        comment="Lena here: a little cheaper, please",
        visitor=Visitor(ip=IP, user_agent="Firefox/128"),
    )
    survey = Survey.objects.create(
        name="After the sale",
        kind="nps",
        question="Would you recommend us?",
        questions=[{"key": "why", "label": "Why?", "kind": "text"}],
        email_subject="How did we do?",
        email_body="Tell us",
    )
    invite = SurveyInvite.objects.create(survey=survey, contact=contact, deal=deal, email=EMAIL)
    response = SurveyResponse.objects.create(
        invite=invite,
        score=9,
        comment="Lena: the oven is great",
        answers={"why": "Friendly people"},
        answered_at=timezone.now() - dt.timedelta(days=1),
    )
    coupon_issue(actor=rep, kind="percent", value="10", contact=contact)
    marketing_consent_set(actor=rep, contact=contact, granted=True, source="asked at the fair")
    return Lena(contact, org, lead, deal, message, received, version, response)


# the known sales history of the analytics tests, for the reports before and after an erasure
from tests.analytics.conftest import history, today  # noqa: E402, F401
from tests.imports.conftest import run_import  # noqa: E402, F401
