"""The proposal editor's save (title, texts, terms and lines at once) and its live totals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from ..models import LineItem, Proposal
from ..pricing import ProposalTotals, proposal_totals
from .lines import LineIn, line_build
from .proposals import proposal_lines_set, proposal_update


@transaction.atomic
def proposal_edit(
    *,
    actor: Any,
    proposal: Proposal,
    expected_version: int,
    lines: Sequence[LineIn],
    **changes: Any,
) -> Proposal:
    """Save the editor's whole form: all of it or, on any error or a stale copy, none of it."""
    proposal = proposal_update(
        actor=actor, proposal=proposal, expected_version=expected_version, **changes
    )
    return proposal_lines_set(
        actor=actor, proposal=proposal, lines=lines, expected_version=proposal.version
    )


def totals_preview(*, proposal: Proposal, lines: Sequence[LineIn]) -> ProposalTotals:
    """The totals the given (unsaved) lines would have: what the editor shows while typing.
    Raises the same DomainError saving would."""
    built = [
        line_build(line, position=i, currency=proposal.currency, model=LineItem)
        for i, line in enumerate(lines, start=1)
    ]
    return proposal_totals(built, proposal.currency)
