"""Changing many leads at once from the lead list: assign, set status, trash."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.models import User
from closeloop.core.audit import audit_bulk
from closeloop.core.exceptions import DomainError
from closeloop.core.models import AuditAction

from ..assignment import lead_reassignment_record
from ..choices import OPEN_LEAD_STATUSES
from ..models import Lead


def _user_label(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "label": str(user)}


def _bulk_target(actor: Any, lead_ids: list[int]) -> QuerySet[Lead]:
    # Lock only the lead rows: PostgreSQL refuses FOR UPDATE on the nullable side of a join.
    qs = Lead.objects.select_for_update(of=("self",)).filter(pk__in=lead_ids)
    return qs.visible_to(actor) if actor is not None else qs


@transaction.atomic
def lead_bulk_assign(*, actor: Any, lead_ids: list[int], owner: User) -> int:
    """Give the chosen leads to `owner`; each lead's timeline records the reassignment."""
    if not owner.is_active:
        raise DomainError(f"{owner} is deactivated and cannot own leads.", field="owner")
    leads = list(_bulk_target(actor, lead_ids).select_related("owner"))
    now = timezone.now()
    previous = {lead.pk: lead.owner for lead in leads}
    lead_reassignment_record(actor=actor, leads=leads, previous=previous, owner=owner)
    for lead in leads:
        lead.version += 1  # as the UPDATE below does, so each entry names the new version
    audit_bulk(
        actor=actor,
        objs=[lead for lead in leads if lead.owner_id != owner.pk],
        action=AuditAction.UPDATE,
        changes=lambda lead: {
            "owner": [
                _user_label(previous[lead.pk]),
                _user_label(owner),
            ]
        },
    )
    return Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        owner=owner, updated_at=now, version=F("version") + 1
    )


@transaction.atomic
def lead_bulk_set_status(*, actor: Any, lead_ids: list[int], status: str) -> int:
    """Set the status of the chosen open leads (new, contacted, qualifying).

    The outcomes (qualified, nurturing, discarded) are reached only through their services.
    """
    if status not in OPEN_LEAD_STATUSES:
        raise DomainError(
            f"“{status}” is not an open lead status: qualify, nurture or discard a lead from its"
            " page.",
            field="status",
        )
    target = list(_bulk_target(actor, lead_ids).filter(status__in=OPEN_LEAD_STATUSES))
    ids = [lead.pk for lead in target]
    previous = {lead.pk: lead.status for lead in target}
    for lead in target:
        lead.version += 1
    audit_bulk(
        actor=actor,
        objs=[lead for lead in target if lead.status != status],
        action=AuditAction.UPDATE,
        changes=lambda lead: {"status": [previous[lead.pk], status]},
    )
    return Lead.objects.filter(pk__in=ids).update(
        status=status, updated_at=timezone.now(), version=F("version") + 1
    )


@transaction.atomic
def lead_bulk_trash(*, actor: Any, lead_ids: list[int]) -> int:
    """Put the chosen leads in the trash."""
    leads = list(_bulk_target(actor, lead_ids))
    ids = [lead.pk for lead in leads]
    for lead in leads:
        lead.version += 1
    audit_bulk(actor=actor, objs=leads, action=AuditAction.DELETE)
    return Lead.objects.filter(pk__in=ids).update(
        deleted_at=timezone.now(), deleted_by=acting_user(actor), version=F("version") + 1
    )
