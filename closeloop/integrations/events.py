"""The event names a webhook subscription can ask for: the one registry, documented in docs/api.md.

Each name is emitted by exactly one service (named beside it), inside the transaction that makes
the change, with the payload built in `payloads.py`. A name is never renamed or removed once
released: receivers dispatch on it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    """One kind of event: its name, what it means, and the service that emits it."""

    name: str
    description: str
    emitted_by: str


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("lead.created", "A lead was created (form, import, API or by hand).", "lead_create"),
    EventType("lead.qualified", "A lead became a deal.", "lead_qualify"),
    EventType("lead.nurtured", "A lead was parked until a revisit date.", "lead_nurture"),
    EventType("lead.disqualified", "A lead was discarded with a reason.", "lead_disqualify"),
    EventType("lead.reopened", "A discarded or nurtured lead was reopened.", "lead_reopen"),
    EventType("deal.created", "A deal was opened.", "deal_create"),
    EventType("deal.stage_changed", "An open deal moved to another stage.", "deal_move_to_stage"),
    EventType("deal.won", "A deal was won.", "deal_mark_won"),
    EventType("deal.lost", "A deal was lost (with its reason).", "deal_mark_lost"),
    EventType("deal.reopened", "A won or lost deal was reopened.", "deal_reopen"),
    EventType("proposal.sent", "A proposal version was sent to the customer.", "proposal_send"),
    EventType("proposal.accepted", "The customer accepted a proposal.", "proposal_accept"),
    EventType("proposal.declined", "The customer declined a proposal.", "proposal_decline"),
    EventType("activity.completed", "A call, meeting or task was done.", "activity_complete"),
    EventType("survey.answered", "A customer answered (or changed) a survey.", "survey_answer"),
    EventType("coupon.redeemed", "A coupon was used for an order.", "coupon_redeem"),
    EventType("contact.merged", "Two contacts were merged into one.", "contact_merge"),
)

EVENT_NAMES: tuple[str, ...] = tuple(e.name for e in EVENT_TYPES)

# Sent only to the subscription whose "Send test ping" was pressed; nobody subscribes to it.
PING = "ping"


def event_choices() -> list[tuple[str, str]]:
    """(name, "name — description") pairs for forms."""
    return [(e.name, f"{e.name} — {e.description}") for e in EVENT_TYPES]
