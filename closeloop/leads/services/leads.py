"""Creating, changing, trashing and restoring one lead."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from django.db import transaction
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.visibility import lock_visible
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.core.audit import (
    audit_changed,
    audit_created,
    audit_restored,
    audit_snapshot,
    audit_trashed,
)
from closeloop.core.exceptions import ConflictError, DomainError
from closeloop.core.versions import version_check
from closeloop.integrations.services import lead_event_emit
from closeloop.people.models import Organization
from closeloop.people.phones import normalize_phone

from ..assignment import lead_assign_auto, lead_reassignment_record
from ..choices import FREE_MAIL_DOMAINS, OPEN_LEAD_STATUSES
from ..dedupe import Match, find_exact, find_likely
from ..models import DuplicatePair, ImportBatch, Lead
from .campaigns import campaign_for_utm
from .inputs import LEAD_EDITABLE, LeadInput, LeadResult, clean_lead_input


def organization_for_domain(domain: str) -> Organization | None:
    """The organization a company domain belongs to (never for free-mail domains)."""
    if not domain or domain in FREE_MAIL_DOMAINS:
        return None
    return Organization.objects.filter(domain=domain).order_by("pk").first()


def _duplicate_message(match: Match, actor: Any) -> str:
    from ..selectors import lead_get

    if match.lead_id:
        visible = actor is not None and lead_get(user=actor, pk=match.lead_id) is not None
        where = f"lead #{match.lead_id}" if visible else "a lead you cannot see (ask its owner)"
    else:
        where = f"contact #{match.contact_id}"
    return f"A duplicate: {where} has the {match.evidence.removeprefix('same ')}."


def _build_lead(data: LeadInput, *, actor: Any, batch: ImportBatch | None) -> Lead:
    now = timezone.now()
    values = {f.name: getattr(data, f.name) for f in fields(LeadInput) if f.name != "extra"}
    lead = Lead(
        **values,
        phone_e164=normalize_phone(data.phone),
        created_by=acting_user(actor),
        import_batch=batch,
        organization=organization_for_domain(data.company_domain),
    )
    if lead.campaign is None:
        lead.campaign = campaign_for_utm(data.utm_campaign)
    if data.marketing_consent:
        lead.consent_at = now
    return lead


def likely_matches_store(lead: Lead, matches: list[Match]) -> None:
    """Store a new lead's best five likely matches as pairs for the Duplicates page."""
    DuplicatePair.objects.bulk_create(
        [
            DuplicatePair(
                lead=lead,
                other_lead_id=m.lead_id,
                other_contact_id=m.contact_id,
                score=m.score,
                evidence=m.evidence[:300],
            )
            for m in matches[:5]
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def lead_create(
    *,
    actor: Any,
    data: LeadInput,
    batch: ImportBatch | None = None,
    allow_exact_duplicate: bool = False,
) -> LeadResult:
    """Create a lead unless the same email or phone exists (then refuse, naming it).

    Likely duplicates (similar name and company) are created and flagged for review.
    """
    data = clean_lead_input(data)
    phone_e164 = normalize_phone(data.phone)
    exact = find_exact(email=data.email, phone_e164=phone_e164)
    if exact is not None and not allow_exact_duplicate:
        raise ConflictError(_duplicate_message(exact, actor), field=exact.field or "email")
    lead = _build_lead(data, actor=actor, batch=batch)
    lead.save()
    likely = find_likely(
        first_name=data.first_name,
        last_name=data.last_name,
        company=data.company_name,
        exclude_lead_id=lead.pk,
    )
    if likely:
        likely_matches_store(lead, likely)
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject="Lead created",
        body=f"Source: {lead.source or '—'}"
        + (f", campaign: {lead.campaign}" if lead.campaign else ""),
        actor=acting_user(actor),
        lead=lead,
    )
    if lead.owner_id is None:
        lead_assign_auto(lead=lead)
    audit_created(actor=actor, obj=lead)
    lead_event_emit("lead.created", lead)
    return LeadResult(lead=lead, created=True, flagged=likely)


@transaction.atomic
def lead_update(
    *, actor: Any, lead: Lead, data: LeadInput, expected_version: int | None = None
) -> Lead:
    """Change a lead's fields; an email or phone that belongs to another record is refused,
    and so is an edit based on another version than the stored one."""
    current = lock_visible(Lead, lead.pk, actor)
    version_check(current, expected_version)
    data = clean_lead_input(data)
    exact = find_exact(
        email=data.email, phone_e164=normalize_phone(data.phone), exclude_lead_id=current.pk
    )
    if exact is not None:
        raise ConflictError(_duplicate_message(exact, actor), field=exact.field or "email")
    if data.status != current.status and not {data.status, current.status} <= set(
        OPEN_LEAD_STATUSES
    ):
        raise DomainError(
            "Qualify, nurture, discard or reopen a lead with its own buttons.", field="status"
        )
    previous_owner = current.owner
    before = audit_snapshot(current)
    changes = []
    for name in LEAD_EDITABLE:
        new = getattr(data, name)
        if getattr(current, name) != new:
            changes.append(name.replace("_", " "))
            setattr(current, name, new)
    if not changes:
        return current
    current.phone_e164 = normalize_phone(current.phone)
    if current.marketing_consent and current.consent_at is None:
        current.consent_at = timezone.now()
    if not current.marketing_consent:
        current.consent_at = None
    if current.organization_id is None:
        current.organization = organization_for_domain(current.company_domain)
    current.version += 1
    current.save()
    audit_changed(actor=actor, obj=current, before=before)
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject="Lead updated",
        body="Changed: " + ", ".join(changes),
        actor=acting_user(actor),
        lead=current,
    )
    if current.owner is not None and current.owner != previous_owner:
        lead_reassignment_record(
            actor=actor, leads=[current], previous={current.pk: previous_owner}, owner=current.owner
        )
    return current


@transaction.atomic
def lead_note_add(*, actor: Any, lead: Lead, body: str) -> Activity:
    """Add a note to a lead's timeline."""
    from closeloop.activities.services import activity_create

    current = lock_visible(Lead, lead.pk, actor)
    return activity_create(actor=actor, body=body, lead=current)


@transaction.atomic
def lead_trash(*, actor: Any, lead: Lead) -> Lead:
    """Put a lead in the trash, restorable until purged."""
    current = lock_visible(Lead, lead.pk, actor)
    current.deleted_at = timezone.now()
    current.deleted_by = acting_user(actor)
    current.version += 1
    current.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
    audit_trashed(actor=actor, obj=current)
    return current


@transaction.atomic
def lead_restore(*, actor: Any, lead: Lead) -> Lead:
    """Take a lead out of the trash."""
    qs = Lead.with_trashed.select_for_update().filter(pk=lead.pk, deleted_at__isnull=False)
    current = (qs.visible_to(actor) if actor is not None else qs).first()
    if current is None:
        raise DomainError("This lead is not in the trash.")
    current.deleted_at = None
    current.deleted_by = None
    current.version += 1
    current.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
    audit_restored(actor=actor, obj=current)
    return current
