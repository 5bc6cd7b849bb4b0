"""What an event's `data` holds: a record as integrations see it, built from the objects the
emitting service already has in hand (ids of related records, not their rows, so emitting costs
no extra queries). Field names follow the API's; docs/api.md lists them."""

from __future__ import annotations

from typing import Any


def _user(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "email": user.email}


def lead_data(lead: Any) -> dict[str, Any]:
    """A lead: who, which company, its status and score, owner and attribution."""
    return {
        "id": lead.pk,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "company_name": lead.company_name,
        "status": lead.status,
        "score": lead.score,
        "owner_id": lead.owner_id,
        "organization_id": lead.organization_id,
        "source_id": lead.source_id,
        "campaign_id": lead.campaign_id,
        "nurture_until": lead.nurture_until,
        "outcome_note": lead.outcome_note,
        "created_at": lead.created_at,
        "updated_at": lead.updated_at,
    }


def deal_data(deal: Any) -> dict[str, Any]:
    """A deal: stage and status apart, value as a decimal string with its currency."""
    return {
        "id": deal.pk,
        "title": deal.title,
        "pipeline_id": deal.pipeline_id,
        "stage": {"id": deal.stage_id, "name": deal.stage.name},
        "status": deal.status,
        "value": deal.value,
        "currency": deal.currency,
        "owner_id": deal.owner_id,
        "organization_id": deal.organization_id,
        "contact_id": deal.contact_id,
        "lead_id": deal.lead_id,
        "expected_close_date": deal.expected_close_date,
        "won_at": deal.won_at,
        "lost_at": deal.lost_at,
        "lost_reason": deal.lost_reason.name if deal.lost_reason_id else None,
        "competitor": deal.competitor,
        "created_at": deal.created_at,
        "updated_at": deal.updated_at,
    }


def proposal_data(proposal: Any, version: Any) -> dict[str, Any]:
    """A proposal at one frozen version: its totals as the customer saw them."""
    return {
        "id": proposal.pk,
        "title": proposal.title,
        "status": proposal.status,
        "deal_id": proposal.deal_id,
        "currency": proposal.currency,
        "version": {
            "number": version.number,
            "valid_until": version.valid_until,
            "totals": version.snapshot.get("totals", {}),
        },
    }


def activity_data(activity: Any) -> dict[str, Any]:
    """A completed activity and the records it belongs to."""
    return {
        "id": activity.pk,
        "kind": activity.kind,
        "subject": activity.subject,
        "outcome": activity.outcome,
        "done_at": activity.done_at,
        "due_at": activity.due_at,
        "owner_id": activity.owner_id,
        "deal_id": activity.deal_id,
        "lead_id": activity.lead_id,
        "contact_id": activity.contact_id,
        "organization_id": activity.organization_id,
    }


def survey_answer_data(invite: Any, response: Any) -> dict[str, Any]:
    """A survey answer: the score and comment, and whose customer answered."""
    return {
        "id": response.pk,
        "survey": {"id": invite.survey_id, "name": invite.survey.name, "kind": invite.survey.kind},
        "score": response.score,
        "comment": response.comment,
        "answers": response.answers,
        "answered_at": response.answered_at,
        "changed_at": response.changed_at,
        "contact_id": invite.contact_id,
        "organization_id": invite.organization_id,
        "deal_id": invite.deal_id,
    }


def coupon_redemption_data(redemption: Any) -> dict[str, Any]:
    """A coupon redemption: code, order value and discount, and the customer."""
    return {
        "id": redemption.pk,
        "code": redemption.coupon.code,
        "order_value": redemption.order_value,
        "discount": redemption.discount,
        "currency": redemption.currency,
        "contact_id": redemption.contact_id,
        "organization_id": redemption.organization_id,
        "deal_id": redemption.deal_id,
        "note": redemption.note,
        "redeemed_by": _user(redemption.redeemed_by),
        "created_at": redemption.created_at,
    }


def contact_merge_data(winner: Any, loser: Any) -> dict[str, Any]:
    """A merge: the contact that remains and the id of the one merged into it (now trashed)."""
    return {
        "contact": {
            "id": winner.pk,
            "first_name": winner.first_name,
            "last_name": winner.last_name,
            "organization_id": winner.organization_id,
            "owner_id": winner.owner_id,
        },
        "merged_contact_id": loser.pk,
    }
