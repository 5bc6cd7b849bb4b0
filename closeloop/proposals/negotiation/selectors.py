"""Reading versions and approvals; both are seen by whoever may see the proposal's deal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from closeloop.accounts.actors import acting_user
from closeloop.accounts.choices import Role

from ..choices import ApprovalState
from ..diff import VersionDiff, version_diff
from ..models import DiscountApproval, Proposal, ProposalVersion
from ..selectors import proposal_get, proposal_list
from ..services import approvers_of, discount_problems, proposal_fingerprint, send_blocker
from ..services.proposals import EDITABLE


def version_list(*, proposal: Proposal) -> QuerySet[ProposalVersion]:
    """A proposal's sent versions, first to last, with who sent them and how many answers.

    The caller has got the proposal through `proposal_get`, which checked visibility."""
    return (
        proposal.versions.select_related("created_by")
        .annotate(response_count=Count("responses"))
        .order_by("number")
    )


@dataclass
class VersionPage:
    """One version with its answers and what changed since the one before."""

    proposal: Proposal
    version: ProposalVersion
    previous: ProposalVersion | None
    later: ProposalVersion | None
    diff: VersionDiff
    responses: list[Any]


def version_page(*, user: Any, proposal_pk: int, number: int) -> VersionPage | None:
    """Version `number` of a proposal the user may see; None otherwise (the view answers 404)."""
    proposal = proposal_get(user=user, pk=proposal_pk)
    if proposal is None:
        return None
    around = {
        v.number: v
        for v in proposal.versions.select_related("created_by").filter(
            number__in=(number - 1, number, number + 1)
        )
    }
    version = around.get(number)
    if version is None:
        return None
    previous = around.get(number - 1)
    return VersionPage(
        proposal=proposal,
        version=version,
        previous=previous,
        later=around.get(number + 1),
        diff=version_diff(previous.snapshot if previous else None, version.snapshot),
        responses=list(version.responses.all()),
    )


@dataclass
class SidePanel:
    """What the proposal page's side panel shows: versions, and the discount approval state."""

    proposal: Proposal
    editable: bool
    versions: list[ProposalVersion]
    approvals: list[DiscountApproval]
    problems: list[str]
    blocker: str | None
    current: DiscountApproval | None
    can_request: bool
    can_decide: bool


def proposal_side(*, user: Any, proposal: Proposal) -> SidePanel:
    """The side panel of a proposal the user may see (the page got it through `proposal_get`)."""
    editable = proposal.status in EDITABLE
    problems = discount_problems(proposal, actor=user) if editable else []
    approvals = list(
        proposal.approvals.select_related("requested_by", "decided_by").order_by("-created_at")[:10]
    )
    # the request about the proposal as it stands, whoever looks (a manager may be within
    # their own limits and still has to decide the rep's request)
    fingerprint = proposal_fingerprint(proposal) if approvals else ""
    current = next((a for a in approvals if a.fingerprint == fingerprint), None)
    waiting = current is not None and current.state == ApprovalState.PENDING
    approved = current is not None and current.state == ApprovalState.APPROVED
    me = acting_user(user)
    deciders = {a.pk for a in approvers_of(proposal)} if waiting else set()
    return SidePanel(
        proposal=proposal,
        editable=editable,
        versions=list(version_list(proposal=proposal)),
        approvals=approvals,
        problems=problems,
        blocker=send_blocker(proposal, actor=user) if problems else None,
        current=current,
        can_request=bool(problems) and editable and not waiting and not approved,
        can_decide=waiting
        and me is not None
        and me.pk in deciders
        and (current.requested_by_id != me.pk or me.role == Role.ADMIN),  # type: ignore[union-attr]
    )


def approval_inbox(*, user: Any) -> QuerySet[DiscountApproval]:
    """Waiting requests the user may decide: admins all, managers those on deals of their
    teams' members (never their own), through the same visibility as the proposals."""
    me = acting_user(user)
    qs = DiscountApproval.objects.filter(
        state=ApprovalState.PENDING, proposal__in=proposal_list(user=user).values("pk")
    )
    if me is None or me.role not in (Role.ADMIN, Role.MANAGER):
        return qs.none()
    if me.role == Role.MANAGER:
        qs = qs.filter(Q(proposal__deal__owner__teams__members=me) & ~Q(requested_by=me)).distinct()
    return qs.select_related("proposal__deal__owner", "requested_by").order_by("created_at", "pk")


def approval_get(*, user: Any, pk: int) -> DiscountApproval | None:
    """One approval request whose proposal the user may see; None otherwise."""
    return (
        DiscountApproval.objects.filter(pk=pk, proposal__in=proposal_list(user=user).values("pk"))
        .select_related("proposal")
        .first()
    )
