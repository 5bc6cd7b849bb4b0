"""Sending a proposal: freeze the next version, print its PDF, email the contact the signed
link with the PDF attached, and move the deal along its pipeline."""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from closeloop.core.exceptions import DomainError
from closeloop.integrations.services import proposal_event_emit
from closeloop.messaging.services import AttachmentIn, message_queue
from closeloop.pipeline.models import Deal, Stage
from closeloop.pipeline.services import deal_move_to_stage

from ..choices import ProposalStatus
from ..links import version_public_url
from ..models import Proposal, ProposalVersion
from ..pdf import version_pdf
from .approvals import send_blocker
from .proposals import _timeline, proposal_lock, proposal_status_set
from .versions import version_freeze

MAX_MESSAGE = 10_000
CLOSED = (ProposalStatus.ACCEPTED, ProposalStatus.DECLINED)


def pdf_filename(version: ProposalVersion) -> str:
    """proposal-12-v2.pdf: the same name in the email, the download and the storage."""
    return f"proposal-{version.proposal_id}-v{version.number}.pdf"


def default_recipient(deal: Deal) -> str:
    """The deal's contact as an address ("Lena Lind <lena@…>"), or "" when there is none."""
    contact = deal.contact
    email = contact.primary_email if contact else ""
    return formataddr((str(contact), email)) if email else ""


def _email_text(*, version: ProposalVersion, url: str, message: str) -> str:
    snapshot = version.snapshot
    seller = snapshot["seller"]
    contact = snapshot["customer"]["contact"]
    parts = [f"Hello {contact}," if contact else "Hello,"]
    if message:
        parts.append(message)
    revised = " (revised)" if version.number > 1 else ""
    parts.append(
        f"Please find our proposal “{snapshot['title']}”{revised} attached as a PDF. "
        "You can also read it online, download the materials, accept it or ask for changes "
        f"here:\n{url}"
    )
    if version.valid_until:
        parts.append(f"The proposal is valid until {version.valid_until:%d %B %Y}.")
    parts.append(f"Kind regards,\n{seller['owner']}\n{seller['company']}")
    return "\n\n".join(parts)


def _stage_automation(*, actor: Any, deal: Deal, number: int) -> Stage | None:
    """The first version moves the deal to the pipeline's proposal stage, later ones to its
    negotiation stage — only forward, only an open deal, only where the pipeline says so."""
    deal = Deal.objects.select_related("pipeline", "stage").get(pk=deal.pk)
    pipeline = deal.pipeline
    target = pipeline.proposal_stage if number == 1 else pipeline.negotiation_stage
    if target is None or deal.status != "open" or target.pipeline_id != deal.pipeline_id:
        return None
    if (target.position, target.pk) <= (deal.stage.position, deal.stage.pk):
        return None  # already there or further along: never move a deal backwards
    deal_move_to_stage(actor=actor, deal=deal, stage=target)
    return target


@transaction.atomic
def proposal_send(
    *,
    actor: Any,
    proposal: Proposal,
    note: str = "",
    to: str | None = None,
    message: str = "",
) -> ProposalVersion:
    """Send the proposal as it stands: its next version is frozen with its PDF, the contact
    (or `to`) gets the signed link and the PDF through the outbox, the deal's timeline says so.

    Refused while its discounts need approval, once the customer has accepted or declined,
    and when there is nobody to send it to.
    """
    proposal = proposal_lock(proposal, editing=False)
    if proposal.status in CLOSED:
        raise DomainError(
            f"The customer has {proposal.get_status_display().lower()} this proposal; "
            "it cannot be sent again. Start a new proposal instead."
        )
    blocker = send_blocker(proposal, actor=actor)
    if blocker:
        raise DomainError(blocker)
    recipient = (to or "").strip() or default_recipient(proposal.deal)
    if not recipient:
        raise DomainError(
            "The deal's contact has no email address: give the address to send to.", field="to"
        )
    message = (message or "").strip()
    if len(message) > MAX_MESSAGE:
        raise DomainError(
            f"The message can be at most {MAX_MESSAGE:,} characters.", field="message"
        )

    version = version_freeze(actor=actor, proposal=proposal, note=note)
    proposal = version.proposal
    pdf = version_pdf(version)
    url = version_public_url(version)
    message_queue(
        actor=actor,
        to=[recipient],
        subject=f"Proposal: {proposal.title}"
        + (f" (version {version.number})" if version.number > 1 else ""),
        text_body=_email_text(version=version, url=url, message=message),
        attachments=[AttachmentIn(pdf_filename(version), pdf, "application/pdf")],
        deal=proposal.deal,
    )
    # the file is stored last: anything refused above rolls back without leaving one behind
    version.pdf.save(pdf_filename(version), ContentFile(pdf), save=False)
    version.save(update_fields=["pdf"])
    proposal_status_set(proposal, ProposalStatus.SENT, actor=actor)
    _timeline(
        proposal,
        actor=actor,
        subject=f"Proposal v{version.number} sent: {proposal.title}",
        body="\n".join(filter(None, [f"To {recipient}", version.note])),
    )
    _stage_automation(actor=actor, deal=proposal.deal, number=version.number)
    proposal_event_emit("proposal.sent", proposal, version, sent_to=recipient)
    return version
