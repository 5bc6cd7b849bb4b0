"""Drafting proposals: starting one (from a template, an earlier proposal or blank), its lines,
its terms, and what in it goes beyond the discount limits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from closeloop.accounts.actors import acting_user
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.core.audit import audit_changed, audit_created, audit_stored
from closeloop.core.exceptions import DomainError
from closeloop.core.versions import version_check

from ..choices import ApprovalState, ProposalStatus
from ..models import DiscountLimit, LineItem, Proposal, ProposalTemplate
from ..pricing import ProposalTotals, line_total, plain, proposal_totals
from .lines import LineIn, line_build, line_in_from, line_json, line_text
from .terms import TERM_FIELDS, terms_apply

EDITABLE = (ProposalStatus.DRAFT, ProposalStatus.SENT, ProposalStatus.CHANGES_REQUESTED)


def proposal_lock(
    proposal: Proposal, *, expected_version: int | None = None, editing: bool = True
) -> Proposal:
    """The proposal, locked for this transaction; a stale copy (StaleEditError, naming the
    changes it missed) or a closed proposal is refused."""
    current = Proposal.objects.select_for_update().get(pk=proposal.pk)
    version_check(current, expected_version)
    if editing and current.status not in EDITABLE:
        raise DomainError(f"The proposal is {current.get_status_display().lower()}; it is closed.")
    return current


def _timeline(proposal: Proposal, *, actor: Any, subject: str, body: str = "") -> None:
    deal = proposal.deal
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject=subject[:200],
        body=body,
        actor=acting_user(actor),
        deal=deal,
        contact_id=deal.contact_id,
        organization_id=deal.organization_id,
    )


def _lines_store(proposal: Proposal, lines: Sequence[LineIn]) -> list[LineItem]:
    built = [
        line_build(line, position=i, currency=proposal.currency, model=LineItem)
        for i, line in enumerate(lines, start=1)
    ]
    proposal.lines.all().delete()
    for line in built:
        line.proposal = proposal
    return LineItem.objects.bulk_create(built)


@transaction.atomic
def proposal_create(
    *,
    actor: Any,
    deal: Any,
    title: str = "",
    template: ProposalTemplate | None = None,
    based_on: Proposal | None = None,
) -> Proposal:
    """Start a proposal on a deal: from a template (texts, terms, default lines at today's
    catalogue prices, materials), as a copy of an earlier proposal (any deal's), or blank."""
    if template is not None and based_on is not None:
        raise DomainError("Start from a template or from an earlier proposal, not both.")
    if deal.status != "open":
        raise DomainError("Proposals are made on open deals.", field="deal")
    source: Any = template or based_on
    proposal = Proposal(
        deal=deal,
        currency=deal.currency,
        template=template or (based_on.template if based_on else None),
        based_on=based_on,
        created_by=acting_user(actor),
    )
    proposal.title = (title or "").strip()[:200] or f"Proposal for {deal.title}"[:200]
    if source is not None:
        terms_apply(proposal, {name: getattr(source, name) for name in TERM_FIELDS})
    proposal.save()
    if template is not None:
        # a template's product lines take today's catalogue price, as a new proposal should
        lines = [line_in_from(line) for line in template.lines.select_related("product")]
        for line, stored in zip(lines, template.lines.all(), strict=True):
            if stored.product is not None:
                line.unit_price = stored.product.unit_price
        _lines_store(proposal, lines)
        proposal.materials.set(template.materials.all())
    elif based_on is not None:
        _lines_store(proposal, [line_in_from(line) for line in based_on.lines.all()])
        proposal.materials.set(based_on.materials.all())
    origin = (
        f"from the template {template.name}"
        if template
        else f"from “{based_on.title}” (deal #{based_on.deal_id})"
        if based_on
        else "blank"
    )
    _timeline(proposal, actor=actor, subject=f"Proposal started: {proposal.title}", body=origin)
    audit_created(actor=actor, obj=proposal)
    return proposal


def proposal_lines_text(proposal: Proposal) -> list[str]:
    """The proposal's stored lines as the audit log writes them."""
    return [line_text(line) for line in proposal.lines.order_by("position", "pk")]


def _touch(
    proposal: Proposal,
    fields: list[str],
    *,
    actor: Any,
    extra: dict[str, list[Any]] | None = None,
) -> None:
    """Save a change; lines or terms changed after an approval (or a request) need approving
    again, so earlier requests no longer approve anything."""
    before = audit_stored(proposal)
    proposal.version += 1
    if proposal.approval in (ApprovalState.APPROVED, ApprovalState.PENDING):
        proposal.approval = ApprovalState.NOT_NEEDED
        fields.append("approval")
        proposal.approvals.filter(state__in=(ApprovalState.PENDING, ApprovalState.APPROVED)).update(
            state=ApprovalState.OUTDATED
        )
    proposal.save(update_fields=[*fields, "version", "updated_at"])
    audit_changed(actor=actor, obj=proposal, before=before, extra=extra)


def proposal_status_set(proposal: Proposal, status: str, *, actor: Any) -> None:
    """Move a locked proposal to another status (sent, accepted, declined, changes requested):
    a write like any other, so it takes a version and an audit entry."""
    before = audit_stored(proposal)
    proposal.status = status
    proposal.version += 1
    proposal.save(update_fields=["status", "version", "updated_at"])
    audit_changed(actor=actor, obj=proposal, before=before)


@transaction.atomic
def proposal_lines_set(
    *,
    actor: Any,
    proposal: Proposal,
    lines: Sequence[LineIn],
    expected_version: int | None = None,
) -> Proposal:
    """Replace a proposal's lines with the given ones, checked as a whole: one bad line changes
    nothing, and the error names it."""
    proposal = proposal_lock(proposal, expected_version=expected_version)
    before = proposal_lines_text(proposal)
    stored = _lines_store(proposal, lines)
    after = [line_text(line) for line in stored]
    if before == after:
        return proposal  # the same lines again: no change to record (nor to approve again)
    _touch(proposal, [], actor=actor, extra={"lines": [before, after]})
    return proposal


@transaction.atomic
def proposal_update(
    *, actor: Any, proposal: Proposal, expected_version: int | None = None, **changes: Any
) -> Proposal:
    """Change a proposal's title, texts and terms."""
    proposal = proposal_lock(proposal, expected_version=expected_version)
    fields = []
    if "title" in changes:
        title = (changes.pop("title") or "").strip()[:200]
        if not title:
            raise DomainError("Give the proposal a title.", field="title")
        if title != proposal.title:
            proposal.title = title
            fields.append("title")
    fields += terms_apply(proposal, changes)
    if fields:
        _touch(proposal, fields, actor=actor)
    return proposal


def totals_of(proposal: Proposal) -> ProposalTotals:
    """The live totals of a proposal's current lines."""
    return proposal_totals(list(proposal.lines.all()), proposal.currency)


def discount_problems(proposal: Proposal, *, actor: Any) -> list[str]:
    """What in the proposal goes beyond what the actor may give alone: a line discounted more
    than their role's limit, or sold below its product's floor price. Empty: nothing."""
    user = acting_user(actor)
    limit = None
    if user is not None:
        row = DiscountLimit.objects.filter(role=user.role).first()
        limit = row.max_percent if row else None
    problems: list[str] = []
    for position, line in enumerate(
        proposal.lines.select_related("product").order_by("position", "pk"), start=1
    ):
        total = line_total(line, proposal.currency, position=position)
        if limit is not None and total.discount_percent > limit:
            problems.append(
                f"Line {position} ({line.name}): {total.discount_percent:.1f} % discount, "
                f"above the {plain(limit)} % you may give."
            )
        product = line.product
        if product is not None and product.floor_price is not None and line.quantity:
            net_unit = total.net / line.quantity
            if product.currency == proposal.currency and net_unit < product.floor_price:
                problems.append(
                    f"Line {position} ({line.name}): {net_unit:.2f} a unit after discount, "
                    f"below the floor price {plain(product.floor_price)}."
                )
    return problems


def proposal_fingerprint(proposal: Proposal) -> str:
    """A digest of what a discount approval approves: the lines and the terms as they are."""
    content = {
        "lines": [line_json(line) for line in proposal.lines.order_by("position", "pk")],
        "terms": {name: getattr(proposal, name) for name in TERM_FIELDS},
        "currency": proposal.currency,
    }
    encoded = json.dumps(content, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()
