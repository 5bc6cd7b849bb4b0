"""The customer's answers on the public page: accept, decline, or ask for changes.

Each locks the proposal first, so two answers at once are taken one after the other and the
second sees the first (two accepts give one acceptance). A refused answer changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.services import notification_create
from closeloop.core.exceptions import DomainError
from closeloop.integrations.services import proposal_event_emit
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.services import deal_mark_won, deal_update

from ..choices import Billing, ProposalStatus, ResponseKind
from ..document import doc_money
from ..models import Proposal, ProposalResponse, ProposalVersion
from .proposals import _timeline, proposal_status_set

MAX_NAME = 200
MAX_COMMENT = 5000


class ResponseRefused(DomainError):
    """An answer the proposal cannot take now; `reason` tells the page which case it is."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Visitor:
    """Where an answer came from, as the request said."""

    ip: str | None = None
    user_agent: str = ""


def _locked(version: ProposalVersion) -> Proposal:
    return Proposal.objects.select_for_update().select_related("deal").get(pk=version.proposal_id)


def _check_open(proposal: Proposal, version: ProposalVersion) -> None:
    """Refuse an answer to a closed proposal or to a version a newer one replaced."""
    accepted = (
        ProposalResponse.objects.filter(version__proposal=proposal, kind=ResponseKind.ACCEPTED)
        .select_related("version")
        .first()
    )
    if proposal.status == ProposalStatus.ACCEPTED or accepted is not None:
        number = accepted.version.number if accepted else proposal.version_count
        raise ResponseRefused(
            f"This proposal was already accepted (version {number}). Nothing was changed.",
            reason="accepted",
        )
    if proposal.status == ProposalStatus.DECLINED:
        raise ResponseRefused(
            "This proposal was declined; it can no longer be answered. Nothing was changed.",
            reason="declined",
        )
    if version.number < proposal.version_count:
        raise ResponseRefused(
            f"A newer version of this proposal (version {proposal.version_count}) was sent to "
            "you; please answer that one. Nothing was changed.",
            reason="superseded",
        )


def _text(value: str, *, field: str, limit: int, required: str = "") -> str:
    value = " ".join((value or "").split()) if field == "name" else (value or "").strip()
    if required and not value:
        raise DomainError(required, field=field)
    if len(value) > limit:
        raise DomainError(f"This can be at most {limit:,} characters.", field=field)
    return value


def _record(
    *,
    proposal: Proposal,
    version: ProposalVersion,
    kind: str,
    visitor: Visitor,
    name: str = "",
    comment: str = "",
    consent: bool = False,
) -> ProposalResponse:
    response = ProposalResponse.objects.create(
        version=version,
        kind=kind,
        name=name,
        comment=comment,
        consent=consent,
        ip_address=visitor.ip or None,
        user_agent=(visitor.user_agent or "")[:300],
    )
    # the response kinds are also the statuses they lead to; the customer has no account, so
    # the history names them as they typed their name
    who = f"{name} (customer)" if name else "the customer"
    proposal_status_set(proposal, kind, actor=who)
    return response


def _tell_owner(proposal: Proposal, *, title: str, body: str) -> None:
    notification_create(
        recipient=proposal.deal.owner,
        kind="proposal_response",
        title=title,
        body=body,
        url=reverse("proposals:detail", args=[proposal.pk]),
    )


def _one_off_total(version: ProposalVersion) -> Decimal:
    for group in version.snapshot["totals"]["by_billing"]:
        if group["billing"] == Billing.ONE_OFF:
            return Decimal(group["total"])
    return Decimal(0)


def _auto_win(proposal: Proposal, version: ProposalVersion) -> str:
    """Win the deal at the accepted version's one-off total, where the pipeline says so; what
    happened, for the timeline."""
    deal = proposal.deal
    if not deal.pipeline.win_on_acceptance:
        return ""
    if deal.status != DealStatus.OPEN:
        return f"The deal is already {deal.get_status_display().lower()}; it was left as it is."
    total = _one_off_total(version)
    currency = version.snapshot["currency"]
    deal = deal_update(actor=None, deal=deal, changes={"value": total, "currency": currency})
    deal_mark_won(actor=None, deal=deal)
    return (
        f"The deal was won automatically (pipeline setting); its value is now the accepted "
        f"version's one-off total, {doc_money(total, currency)}."
    )


@transaction.atomic
def proposal_accept(
    *, version: ProposalVersion, name: str, consent: bool, visitor: Visitor
) -> ProposalResponse:
    """The customer accepts this exact version with their typed full name and consent; it must
    be the latest version, still valid, and not yet answered for good."""
    proposal = _locked(version)
    _check_open(proposal, version)
    if version.valid_until and version.valid_until < timezone.localdate():
        raise ResponseRefused(
            f"This proposal was valid until {version.valid_until:%d %B %Y} and can no longer be "
            "accepted. Please ask us for a new one. Nothing was changed.",
            reason="expired",
        )
    name = _text(name, field="name", limit=MAX_NAME, required="Type your full name to accept.")
    if len(name) < 2:
        raise DomainError("Type your full name to accept.", field="name")
    if not consent:
        raise DomainError(
            "Tick the box to confirm you accept this proposal and its terms.", field="consent"
        )
    response = _record(
        proposal=proposal,
        version=version,
        kind=ResponseKind.ACCEPTED,
        visitor=visitor,
        name=name,
        consent=True,
    )
    won = _auto_win(proposal, version)
    _timeline(
        proposal,
        actor=None,
        subject=f"Proposal v{version.number} accepted by {name}: {proposal.title}",
        body="\n".join(
            filter(None, [f"From {visitor.ip or 'an unknown address'}, {visitor.user_agent}", won])
        ),
    )
    _tell_owner(
        proposal,
        title=f"{name} accepted “{proposal.title}” (v{version.number})",
        body=won,
    )
    proposal_event_emit("proposal.accepted", proposal, version, accepted_by=name)
    return response


def _answer(
    *,
    version: ProposalVersion,
    kind: str,
    text: str,
    field: str,
    required: str,
    visitor: Visitor,
    subject: str,
    owner_title: str,
) -> ProposalResponse:
    """Record a declining or change-requesting answer with its text, on the timeline and to
    the owner; the proposal must still be open and this its latest version."""
    proposal = _locked(version)
    _check_open(proposal, version)
    text = _text(text, field=field, limit=MAX_COMMENT, required=required)
    response = _record(proposal=proposal, version=version, kind=kind, visitor=visitor, comment=text)
    _timeline(proposal, actor=None, subject=subject.format(proposal=proposal), body=text)
    _tell_owner(proposal, title=owner_title.format(proposal=proposal), body=text)
    return response


@transaction.atomic
def proposal_decline(
    *, version: ProposalVersion, reason: str, visitor: Visitor
) -> ProposalResponse:
    """The customer declines the latest version, saying why."""
    response = _answer(
        version=version,
        kind=ResponseKind.DECLINED,
        text=reason,
        field="reason",
        required="Tell us why you decline, please.",
        visitor=visitor,
        subject=f"Proposal v{version.number} declined: {{proposal.title}}",
        owner_title="“{proposal.title}” was declined",
    )
    proposal = Proposal.objects.select_related("deal").get(pk=version.proposal_id)
    proposal_event_emit("proposal.declined", proposal, version, reason=response.comment)
    return response


@transaction.atomic
def proposal_request_changes(
    *, version: ProposalVersion, comment: str, visitor: Visitor
) -> ProposalResponse:
    """The customer asks for changes to the latest version; the rep edits and sends the next."""
    return _answer(
        version=version,
        kind=ResponseKind.CHANGES_REQUESTED,
        text=comment,
        field="comment",
        required="Tell us what you would change.",
        visitor=visitor,
        subject=f"Changes requested to proposal v{version.number}: {{proposal.title}}",
        owner_title="Changes requested to “{proposal.title}”",
    )
