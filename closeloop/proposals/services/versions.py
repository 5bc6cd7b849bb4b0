"""Freezing a proposal into a version: what the customer is sent is kept exactly as sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.selectors import workspace_settings
from closeloop.core.exceptions import DomainError
from closeloop.messaging.merge import merge_context_for, merge_render

from ..models import Proposal, ProposalVersion
from ..pricing import proposal_totals
from .branding import branding_get
from .lines import line_json
from .proposals import proposal_lock
from .terms import TERM_FIELDS

SNAPSHOT_FORMAT = 1
MAX_NOTE = 5000


def version_snapshot(proposal: Proposal, *, sender: Any, valid_until: dt.date) -> dict[str, Any]:
    """Everything the version says, as it says it: merged texts, lines, totals, terms, parties.

    Nothing in it is looked up again later, so a changed product, contact or template never
    changes what a customer was sent.
    """
    lines = list(proposal.lines.order_by("position", "pk"))
    totals = proposal_totals(lines, proposal.currency)
    deal = proposal.deal
    context = merge_context_for(sender=sender, deal=deal)
    contact = deal.contact
    branding = branding_get()
    return {
        "format": SNAPSHOT_FORMAT,
        "title": proposal.title,
        "currency": proposal.currency,
        **{name: getattr(proposal, name) for name in TERM_FIELDS},
        "intro": merge_render(proposal.intro, context, html=False, field="intro"),
        "closing": merge_render(proposal.closing, context, html=False, field="closing"),
        "lines": [
            {
                **line_json(line),
                "amount": str(t.amount),
                "discount": str(t.discount),
                "net": str(t.net),
            }
            for line, t in zip(lines, totals.lines, strict=True)
        ],
        "totals": totals.as_json(),
        "valid_until": valid_until.isoformat(),
        "materials": [
            {"id": m.pk, "filename": m.filename, "size": m.size}
            for m in proposal.materials.order_by("pk")
        ],
        "deal": {"id": deal.pk, "title": deal.title},
        "customer": {
            "contact": str(contact) if contact else "",
            "email": contact.primary_email if contact else "",
            "organization": deal.organization.name if deal.organization else "",
        },
        "seller": {
            "company": workspace_settings().name,
            "owner": str(deal.owner),
            "owner_email": deal.owner.email,
            "details": branding.company_details,
            "logo": branding.logo.name if branding.logo else "",
            "logo_type": branding.logo_type,
        },
    }


@transaction.atomic
def version_freeze(*, actor: Any, proposal: Proposal, note: str = "") -> ProposalVersion:
    """Freeze the proposal as its next version, with the negotiation note behind it.

    A proposal with no lines, or one whose discounts await or lack approval, is not frozen:
    the caller (sending) has checked the approval; this checks that there is something to send.
    """
    proposal = proposal_lock(proposal)
    if not proposal.lines.exists():
        raise DomainError("Add at least one line before sending.", field="lines")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(f"The note can be at most {MAX_NOTE:,} characters.", field="note")
    today = timezone.localdate()
    valid_until = today + dt.timedelta(days=proposal.validity_days)
    number = proposal.version_count + 1
    version = ProposalVersion.objects.create(
        proposal=proposal,
        number=number,
        snapshot=version_snapshot(
            proposal, sender=acting_user(actor) or proposal.deal.owner, valid_until=valid_until
        ),
        note=note,
        created_by=acting_user(actor),
        valid_until=valid_until,
    )
    proposal.version_count = number
    proposal.version += 1
    proposal.save(update_fields=["version_count", "version", "updated_at"])
    return version
