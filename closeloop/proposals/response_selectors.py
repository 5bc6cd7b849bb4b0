"""What the customer's page reads about a version: its answers and whether it is still open."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .choices import ResponseKind
from .models import Proposal, ProposalResponse, ProposalVersion


def latest_version(proposal: Proposal) -> ProposalVersion | None:
    """The last version sent (None before the first send)."""
    return proposal.versions.order_by("-number").first()


def version_state(version: ProposalVersion) -> dict[str, Any]:
    """What the customer's page says about this version: answered, replaced, expired or open."""
    proposal = version.proposal
    responses = list(
        ProposalResponse.objects.filter(version__proposal=proposal)
        .select_related("version")
        .order_by("created_at", "pk")
    )
    accepted = next((r for r in responses if r.kind == ResponseKind.ACCEPTED), None)
    declined = next((r for r in responses if r.kind == ResponseKind.DECLINED), None)
    superseded = version.number < proposal.version_count
    expired = bool(version.valid_until and version.valid_until < timezone.localdate())
    return {
        "accepted": accepted,
        "declined": declined,
        "changes": [
            r
            for r in responses
            if r.kind == ResponseKind.CHANGES_REQUESTED and r.version == version
        ],
        "superseded": superseded,
        "expired": expired,
        "can_accept": not (accepted or declined or superseded or expired),
        "can_answer": not (accepted or declined or superseded),
    }
