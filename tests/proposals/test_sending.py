"""Sending a proposal: a frozen version with its PDF, an email with both, and the deal moved on."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader

from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.messaging.choices import MessageState
from closeloop.messaging.models import Message
from closeloop.pipeline.models import StageChange
from closeloop.proposals.choices import ApprovalState, ProposalStatus
from closeloop.proposals.links import version_from_token
from closeloop.proposals.models import DiscountApproval, DiscountLimit, ProposalVersion
from closeloop.proposals.services import (
    LineIn,
    proposal_create,
    proposal_fingerprint,
    proposal_lines_set,
    proposal_send,
)
from tests.factories import DealFactory, stage_named
from tests.mail import Server
from tests.worker import run_worker


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.django_db(transaction=True)
def test_sending_freezes_a_version_with_its_pdf_and_mails_both(
    rep: Any, bakery_deal: Any, web_template: Any, smtp_server: Server
):
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    version = proposal_send(
        actor=rep, proposal=proposal, message="As discussed on Tuesday.", note="first offer"
    )

    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SENT and proposal.version_count == 1
    assert version.number == 1 and version.note == "first offer"
    stored = version.pdf.read()
    assert stored.startswith(b"%PDF")
    text = pdf_text(stored)
    assert "Website build" in text and "Hosting" in text
    assert "€4,760.00" in text  # the one-off total: 4000 + 19 % tax
    assert "€699.72" in text  # the monthly total: 12 × 49 + 19 % tax
    assert f"valid until {version.valid_until:%-d %B %Y}" in text
    assert "€1,428.00" in text and "€3,332.00" in text  # 30 % and 70 % of the one-off total

    run_worker()
    message = Message.objects.get()
    assert message.state == MessageState.SENT
    [received] = smtp_server.recorder.messages()
    assert received["To"] == "Lena Lind <lena@bakery.example>"
    assert received["Subject"] == "Proposal: Proposal for New website"
    body = received.get_body(("plain",)).get_content()
    assert "As discussed on Tuesday." in body
    token = re.search(r"/p/([^/\s]+)/", body).group(1)  # type: ignore[union-attr]
    assert version_from_token(token) == version
    [attachment] = list(received.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"proposal-{proposal.pk}-v1.pdf"
    assert attachment.get_content() == stored

    subjects = list(Activity.objects.filter(deal=bakery_deal).values_list("subject", flat=True))
    assert "Proposal v1 sent: Proposal for New website" in subjects


@pytest.mark.django_db
def test_editing_after_sending_sends_the_next_version(
    rep: Any, bakery_deal: Any, web_template: Any, website: Any
):
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    proposal_send(actor=rep, proposal=proposal)
    proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=website, quantity="2")])
    second = proposal_send(actor=rep, proposal=proposal, note="customer wants two")
    assert second.number == 2
    assert "€9,520.00" in pdf_text(second.pdf.read())
    assert Message.objects.filter(subject__endswith="(version 2)").exists()


@pytest.mark.django_db
def test_a_discount_beyond_the_limit_blocks_sending_until_approved(
    rep: Any, manager: Any, bakery_deal: Any, website: Any
):
    DiscountLimit.objects.create(role="rep", max_percent=Decimal("10"))
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, discount_value="15")]
    )
    with pytest.raises(DomainError, match="ask a manager"):
        proposal_send(actor=rep, proposal=proposal)
    # the request and the decision as their services record them (their pages link to the
    # proposal editor, another module's); the send only reads them
    approval = DiscountApproval.objects.create(
        proposal=proposal,
        requested_by=rep,
        reason="Long-time customer",
        fingerprint=proposal_fingerprint(proposal),
        state=ApprovalState.PENDING,
    )
    with pytest.raises(DomainError, match="waiting for a manager"):
        proposal_send(actor=rep, proposal=proposal)
    assert not ProposalVersion.objects.exists() and not Message.objects.exists()

    approval.state, approval.decided_by = ApprovalState.APPROVED, manager
    approval.save()
    assert proposal_send(actor=rep, proposal=proposal).number == 1


@pytest.mark.django_db
def test_without_a_contact_email_the_address_must_be_given(rep: Any, website: Any):
    deal = DealFactory(owner=rep, contact=None)
    proposal = proposal_create(actor=rep, deal=deal)
    proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=website)])
    with pytest.raises(DomainError, match="no email address") as error:
        proposal_send(actor=rep, proposal=proposal)
    assert error.value.field == "to"
    with pytest.raises(DomainError, match="not a valid email") as error:
        proposal_send(actor=rep, proposal=proposal, to="not an address")
    assert not ProposalVersion.objects.exists()
    proposal_send(actor=rep, proposal=proposal, to="buyer@shop.example")
    assert Message.objects.get().to == ["buyer@shop.example"]


@pytest.mark.django_db
def test_an_accepted_proposal_is_not_sent_again(rep: Any, bakery_deal: Any, web_template: Any):
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    proposal_send(actor=rep, proposal=proposal)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.save()
    with pytest.raises(DomainError, match="accepted this proposal"):
        proposal_send(actor=rep, proposal=proposal)


@pytest.mark.django_db
def test_sending_moves_the_deal_forward_to_the_proposal_then_negotiation_stage(
    rep: Any, bakery_deal: Any, web_template: Any
):
    deal = DealFactory(owner=rep, contact=bakery_deal.contact, stage=stage_named("Demo / meeting"))
    proposal = proposal_create(actor=rep, deal=deal, template=web_template)
    proposal_send(actor=rep, proposal=proposal)
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
    proposal_send(actor=rep, proposal=proposal)
    deal.refresh_from_db()
    assert deal.stage.name == "Negotiation / commitment"
    moves = StageChange.objects.filter(deal=deal).order_by("pk")
    assert [m.to_stage.name for m in moves] == [
        "Demo / meeting",
        "Proposal",
        "Negotiation / commitment",
    ]
    assert all(m.actor == rep for m in moves)


@pytest.mark.django_db
def test_the_automation_never_moves_a_deal_backwards_or_when_unset(
    rep: Any, bakery_deal: Any, web_template: Any
):
    deal = DealFactory(
        owner=rep, contact=bakery_deal.contact, stage=stage_named("Negotiation / commitment")
    )
    proposal = proposal_create(actor=rep, deal=deal, template=web_template)
    proposal_send(actor=rep, proposal=proposal)
    deal.refresh_from_db()
    assert deal.stage.name == "Negotiation / commitment"

    pipeline = bakery_deal.pipeline
    pipeline.negotiation_stage = None
    pipeline.save()
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    proposal_send(actor=rep, proposal=proposal)
    proposal_send(actor=rep, proposal=proposal)
    bakery_deal.refresh_from_db()
    assert bakery_deal.stage.name == "Proposal"
    assert StageChange.objects.filter(deal=bakery_deal).count() == 1
