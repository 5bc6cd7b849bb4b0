"""The proposal editor's save (title, texts, terms and lines at once) and its live totals."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from closeloop.core.audit import json_safe
from closeloop.core.exceptions import DomainError

from ..models import LineItem, Proposal
from ..pricing import ProposalTotals, proposal_totals
from .lines import LineIn, line_build, line_text
from .proposals import proposal_lines_set, proposal_update
from .terms import terms_apply


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


def proposal_edit_as_logged(
    *, proposal: Proposal, lines: Sequence[LineIn], terms: dict[str, Any]
) -> dict[str, Any]:
    """What the editor's unsaved lines and rows of terms would be once saved, as the audit log
    writes them ({"lines", "instalments", "delivery"}); None for a part that would be refused.
    Nothing is written: the stale-edit page compares these with the logged changes."""
    try:
        built = [
            line_build(line, position=i, currency=proposal.currency, model=LineItem)
            for i, line in enumerate(lines, start=1)
        ]
        logged: dict[str, Any] = {"lines": [line_text(line) for line in built]}
    except DomainError:
        logged = {"lines": None}
    probe = copy.copy(proposal)
    try:
        terms_apply(probe, terms)
        logged.update(instalments=json_safe(probe.instalments), delivery=json_safe(probe.delivery))
    except DomainError:
        logged.update(instalments=None, delivery=None)
    return logged


def totals_preview(*, proposal: Proposal, lines: Sequence[LineIn]) -> ProposalTotals:
    """The totals the given (unsaved) lines would have: what the editor shows while typing.
    Raises the same DomainError saving would."""
    built = [
        line_build(line, position=i, currency=proposal.currency, model=LineItem)
        for i, line in enumerate(lines, start=1)
    ]
    return proposal_totals(built, proposal.currency)
