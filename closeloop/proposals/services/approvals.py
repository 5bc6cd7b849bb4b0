"""Discount approval: a proposal beyond the sender's limits goes out only once a manager has
approved it as it stands."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.choices import Role
from closeloop.accounts.models import User
from closeloop.activities.services import notification_create
from closeloop.core.audit import audit_changed, audit_stored
from closeloop.core.exceptions import DomainError

from ..choices import ApprovalState
from ..models import DiscountApproval, Proposal
from .proposals import _timeline, discount_problems, proposal_fingerprint, proposal_lock


def send_blocker(proposal: Proposal, *, actor: Any) -> str | None:
    """Why the actor may not send the proposal as it stands, or None when they may: nothing
    beyond their limits, or a manager approved exactly these lines and terms."""
    problems = discount_problems(proposal, actor=actor)
    if not problems:
        return None
    fingerprint = proposal_fingerprint(proposal)
    current = proposal.approvals.filter(fingerprint=fingerprint).first()
    if current is not None and current.state == ApprovalState.APPROVED:
        return None
    if current is not None and current.state == ApprovalState.PENDING:
        return "This proposal is waiting for a manager's approval of its discounts."
    if current is not None and current.state == ApprovalState.REJECTED:
        return "A manager rejected these discounts; change the proposal or ask again."
    return "Beyond your discount limits — ask a manager to approve: " + " ".join(problems)


def approvers_of(proposal: Proposal) -> list[User]:
    """Who may decide: managers of a team the deal's owner is in, and admins."""
    owner_id = proposal.deal.owner_id
    managers = User.objects.filter(
        is_active=True, role=Role.MANAGER, teams__members__pk=owner_id
    ).distinct()
    return [*managers, *User.objects.filter(is_active=True, role=Role.ADMIN)]


def _proposal_url(proposal: Proposal) -> str:
    return reverse("proposals:detail", args=[proposal.pk])


def _approval_set(proposal: Proposal, state: str, *, actor: Any) -> None:
    before = audit_stored(proposal)
    proposal.approval = state
    proposal.version += 1
    proposal.save(update_fields=["approval", "version", "updated_at"])
    audit_changed(actor=actor, obj=proposal, before=before)


@transaction.atomic
def approval_request(*, actor: Any, proposal: Proposal, reason: str) -> DiscountApproval:
    """Ask the owner's managers to approve the proposal's discounts as they stand now."""
    proposal = proposal_lock(proposal)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why this discount is needed.", field="reason")
    if len(reason) > 5000:
        raise DomainError("The reason can be at most 5,000 characters.", field="reason")
    problems = discount_problems(proposal, actor=actor)
    if not problems:
        raise DomainError("This proposal is within your limits; it needs no approval.")
    fingerprint = proposal_fingerprint(proposal)
    if proposal.approvals.filter(fingerprint=fingerprint, state=ApprovalState.PENDING).exists():
        raise DomainError("An approval of exactly this proposal is already waiting.")
    approval = DiscountApproval.objects.create(
        proposal=proposal,
        requested_by=acting_user(actor),
        reason=reason,
        problems=problems,
        fingerprint=fingerprint,
    )
    _approval_set(proposal, ApprovalState.PENDING, actor=actor)
    _timeline(
        proposal,
        actor=actor,
        subject=f"Discount approval requested: {proposal.title}",
        body=reason + "\n\n" + "\n".join(problems),
    )
    requester = acting_user(actor)
    for approver in approvers_of(proposal):
        if requester is None or approver.pk != requester.pk:
            notification_create(
                recipient=approver,
                kind="discount_approval",
                title=f"Approve the discount on “{proposal.title}”?",
                body=reason,
                url=_proposal_url(proposal),
            )
    return approval


@transaction.atomic
def approval_decide(
    *, actor: Any, approval: DiscountApproval, approve: bool, note: str = ""
) -> DiscountApproval:
    """A manager of the owner's team (or an admin) approves or rejects a waiting request; one
    may not decide one's own request, and a request the proposal has outgrown decides nothing."""
    approval = DiscountApproval.objects.select_for_update().get(pk=approval.pk)
    proposal = proposal_lock(approval.proposal)
    user = acting_user(actor)
    if user is None or user.pk not in {a.pk for a in approvers_of(proposal)}:
        raise DomainError("Only a manager of the owner's team or an admin can decide this.")
    if approval.requested_by_id == user.pk and user.role != Role.ADMIN:
        raise DomainError("You cannot approve your own request.")
    if approval.state != ApprovalState.PENDING:
        raise DomainError(f"This request is already {approval.get_state_display().lower()}.")
    if approval.fingerprint != proposal_fingerprint(proposal):
        approval.state = ApprovalState.OUTDATED
        approval.save(update_fields=["state", "updated_at"])
        raise DomainError("The proposal has changed since the request; it must be asked again.")
    approval.state = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
    approval.decided_by = user
    approval.decided_at = timezone.now()
    approval.decision_note = (note or "").strip()[:5000]
    approval.save()
    _approval_set(proposal, approval.state, actor=actor)
    verb = "approved" if approve else "rejected"
    _timeline(
        proposal,
        actor=actor,
        subject=f"Discount {verb}: {proposal.title}",
        body=approval.decision_note,
    )
    if approval.requested_by is not None:
        notification_create(
            recipient=approval.requested_by,
            kind="discount_decided",
            title=f"{user} {verb} the discount on “{proposal.title}”",
            body=approval.decision_note,
            url=_proposal_url(proposal),
        )
    return approval
