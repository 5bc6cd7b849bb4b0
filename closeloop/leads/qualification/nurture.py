"""Nurtured leads coming back to their owner's inbox on the revisit date, exactly once."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.services import notification_create
from closeloop.core.audit import audit_changed, audit_snapshot

from ..choices import OPEN_LEAD_STATUSES, LeadStatus
from ..models import Lead
from .scorecard import lead_score_compute, lead_score_gaps


@transaction.atomic
def lead_nurture_return(*, lead_id: int, now: dt.datetime | None = None) -> bool:
    """Return one nurtured lead whose revisit date has come; False if it is not due (any more).

    The guard runs under the row lock, so a task and a sweep racing for the same lead return it
    once: a lead already back, re-nurtured to a later date, qualified or trashed is untouched.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    lead = (
        Lead.objects.select_for_update(of=("self",))
        .filter(
            pk=lead_id,
            status=LeadStatus.NURTURING,
            nurture_until__isnull=False,
            nurture_until__lte=today,
        )
        .first()
    )
    if lead is None:
        return False
    before = audit_snapshot(lead)
    lead.status = (
        lead.status_before_outcome
        if lead.status_before_outcome in OPEN_LEAD_STATUSES
        else LeadStatus.NEW
    )
    lead.status_before_outcome = ""
    lead.outcome_at = None
    lead.outcome_by = None
    lead.outcome_note = ""
    lead.nurture_returned_at = now
    lead.nurture_count += 1
    lead.score = lead_score_compute(lead)
    lead.version += 1
    lead.save()
    audit_changed(actor=None, obj=lead, before=before)
    gaps = lead_score_gaps(lead)
    missing = ", ".join(g.label for g in gaps) if gaps else "none: the scorecard is complete"
    body = (
        f"Nurtured since {lead.nurture_reason or 'a while'}; revisit date "
        f"{lead.nurture_until.isoformat() if lead.nurture_until else '—'}. "
        f"Score {lead.score}. Still missing: {missing}."
    )
    Activity.objects.create(
        kind=ActivityKind.CHANGE, subject="Back from nurture", body=body, lead=lead, created_at=now
    )
    notification_create(
        recipient=lead.owner,
        kind="lead_nurture_return",
        title=f"{lead.full_name} is back from nurture",
        body=f"Reason it waited: {lead.nurture_reason}. Still missing: {missing}.",
        url=reverse("leads:lead_detail", args=[lead.pk]),
    )
    return True


def lead_nurture_return_due(*, now: dt.datetime | None = None) -> int:
    """Return every nurtured lead whose revisit date has come (the periodic sweep); how many."""
    now = now or timezone.now()
    due = list(
        Lead.objects.filter(
            status=LeadStatus.NURTURING, nurture_until__lte=timezone.localdate(now)
        ).values_list("pk", flat=True)
    )
    return sum(1 for pk in due if lead_nurture_return(lead_id=pk, now=now))
