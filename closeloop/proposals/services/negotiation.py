"""The negotiation behind a version: the note saying why it changed."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from closeloop.core.exceptions import DomainError

from ..models import ProposalVersion
from .proposals import _timeline
from .versions import MAX_NOTE


@transaction.atomic
def version_note_set(*, actor: Any, version: ProposalVersion, note: str) -> ProposalVersion:
    """Add or change the negotiation note of a sent version ("customer asked for net 60");
    the version's content stays frozen, and the change is on the deal's timeline."""
    version = (
        ProposalVersion.objects.select_for_update()
        .select_related("proposal__deal")
        .get(pk=version.pk)
    )
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(f"The note can be at most {MAX_NOTE:,} characters.", field="note")
    if note == version.note:
        return version
    before = version.note
    version.note = note
    version.save(update_fields=["note"])
    proposal = version.proposal
    subject = (
        f"Negotiation note on {proposal.title} v{version.number}"
        if not before
        else f"Negotiation note changed on {proposal.title} v{version.number}"
    )
    _timeline(proposal, actor=actor, subject=subject, body=note or "(note removed)")
    return version
