"""The three outcomes every lead ends in: qualified (a deal), nurtured (back later), discarded."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.choices import Role
from closeloop.accounts.selectors import workspace_settings
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.services import activity_create
from closeloop.core.audit import audit_changed, audit_snapshot
from closeloop.core.exceptions import ConflictError, DomainError
from closeloop.integrations.services import lead_event_emit
from closeloop.people.models import Contact, Organization
from closeloop.people.selectors import contact_queryset, organization_queryset
from closeloop.people.services import (
    EmailInput,
    PhoneInput,
    contact_consent_set,
    contact_create,
    organization_create,
)
from closeloop.pipeline.models import Deal, Pipeline, Stage

from ..choices import FREE_MAIL_DOMAINS, OPEN_LEAD_STATUSES, LeadStatus
from ..models import DisqualifyReason, Lead
from .scorecard import lock_lead, scorecard_summary

New = Literal["new"]


def _require_open(lead: Lead) -> None:
    if lead.status not in OPEN_LEAD_STATUSES:
        raise DomainError(
            f"This lead is already {lead.get_status_display().lower()}: reopen it first.",
            field="status",
        )


def _timeline(lead: Lead, actor: Any, subject: str, body: str) -> Activity:
    return Activity.objects.create(
        kind=ActivityKind.CHANGE, subject=subject, body=body, actor=acting_user(actor), lead=lead
    )


def _close(lead: Lead, actor: Any, status: str) -> None:
    lead.version += 1
    lead.status_before_outcome = lead.status
    lead.status = status
    lead.outcome_at = timezone.now()
    lead.outcome_by = acting_user(actor)


# Duplicate candidates the qualify form offers --------------------------------------------------


def contact_candidates(*, user: Any, lead: Lead) -> list[Contact]:
    """Contacts `user` may see with the lead's email or phone, then with a similar name."""
    from ..dedupe import find_likely

    exact = Q(pk__in=[])
    if lead.email:
        exact |= Q(emails__email=lead.email)
    if lead.phone_e164:
        exact |= Q(phones__e164=lead.phone_e164)
    visible = contact_queryset(user=user)
    found = list(visible.filter(exact).distinct()[:10])
    likely = find_likely(
        first_name=lead.first_name, last_name=lead.last_name, company=lead.company_name
    )
    ids = [
        m.contact_id for m in likely if m.contact_id and m.contact_id not in {c.pk for c in found}
    ]
    found += list(visible.filter(pk__in=ids)[:10])
    return found


def organization_candidates(*, user: Any, lead: Lead) -> list[Organization]:
    """Organizations `user` may see: the lead's own, the one with its domain, the same name."""
    match = Q(pk__in=[])
    if lead.organization_id:
        match |= Q(pk=lead.organization_id)
    if lead.company_domain and lead.company_domain not in FREE_MAIL_DOMAINS:
        match |= Q(domain=lead.company_domain)
    if lead.company_name:
        match |= Q(name__iexact=lead.company_name)
    return list(organization_queryset(user=user).filter(match).order_by("pk")[:10])


def _exact_contact(lead: Lead) -> Contact | None:
    exact = Q(pk__in=[])
    if lead.email:
        exact |= Q(emails__email=lead.email)
    if lead.phone_e164:
        exact |= Q(phones__e164=lead.phone_e164)
    return Contact.objects.filter(exact).order_by("pk").first()


def _resolve_contact(
    lead: Lead, actor: Any, choice: Contact | New | None, organization: Organization | None
) -> tuple[Contact | None, bool]:
    """The deal's contact: a chosen one, a new one, or (None) the duplicate or a new one."""
    if isinstance(choice, Contact):
        if actor is not None and not contact_queryset(user=actor).filter(pk=choice.pk).exists():
            raise DomainError("That contact is not visible to you.", field="contact")
        return choice, False
    duplicate = _exact_contact(lead)
    if duplicate is not None:
        visible = actor is None or contact_queryset(user=actor).filter(pk=duplicate.pk).exists()
        where = f"contact “{duplicate.full_name}”" if visible else "a contact you cannot see"
        if choice == "new" or not visible:
            raise ConflictError(
                f"A duplicate: {where} has this lead's email or phone. Link to it instead"
                + ("." if visible else " (ask its owner)."),
                field="contact",
            )
        return duplicate, False
    if not (lead.first_name or lead.last_name or lead.email):
        if choice == "new":
            raise DomainError(
                "The lead has no name or email to make a contact of.", field="contact"
            )
        return None, False
    contact = contact_create(
        actor=actor,
        first_name=lead.first_name,
        last_name=lead.last_name,
        emails=[EmailInput(lead.email)] if lead.email else [],
        phones=[PhoneInput(lead.phone)] if lead.phone else [],
        job_title=lead.job_title,
        organization=organization,
        owner=lead.owner or acting_user(actor),
    )
    return contact, True


def _resolve_organization(
    lead: Lead, actor: Any, choice: Organization | New | None
) -> tuple[Organization | None, bool]:
    """The deal's organization: a chosen one, a new one, or (None) the matching or a new one."""
    if isinstance(choice, Organization):
        if (
            actor is not None
            and not organization_queryset(user=actor).filter(pk=choice.pk).exists()
        ):
            raise DomainError("That organization is not visible to you.", field="organization")
        return choice, False
    existing = None
    if lead.organization_id:
        existing = Organization.objects.filter(pk=lead.organization_id).first()
    if existing is None and lead.company_domain and lead.company_domain not in FREE_MAIL_DOMAINS:
        existing = Organization.objects.filter(domain=lead.company_domain).order_by("pk").first()
    if existing is not None:
        if choice == "new":
            raise ConflictError(
                f"A duplicate: the organization “{existing.name}” has this lead's company"
                " domain. Link to it instead.",
                field="organization",
            )
        return existing, False
    if not lead.company_name:
        if choice == "new":
            raise DomainError("The lead has no company name.", field="organization")
        return None, False
    domain = lead.company_domain if lead.company_domain not in FREE_MAIL_DOMAINS else ""
    org = organization_create(
        actor=actor,
        name=lead.company_name,
        domain=domain,
        website=lead.website,
        industry=lead.industry,
        size=lead.company_size,
        owner=lead.owner or acting_user(actor),
    )
    return org, True


def _deal_value(lead: Lead) -> tuple[Decimal, str]:
    budget = lead.scorecard.filter(criterion__key="budget").first()
    if budget is None:
        return Decimal("0"), ""
    amount = budget.budget_max if budget.budget_max is not None else budget.budget_min
    return (amount or Decimal("0")), budget.budget_currency


@transaction.atomic
def lead_qualify(
    *,
    actor: Any,
    lead: Lead,
    pipeline: Pipeline,
    stage: Stage | None = None,
    title: str | None = None,
    value: Decimal | None = None,
    contact: Contact | New | None = None,
    organization: Organization | New | None = None,
    override_reason: str = "",
) -> Deal:
    """Turn an open lead into exactly one deal, with its contact, organization and attribution.

    Below the workspace threshold only a manager or admin may qualify, and must say why.
    """
    from closeloop.aftersales.referrals import referral_link_deal
    from closeloop.pipeline.facts import deal_facts_refresh
    from closeloop.pipeline.services import deal_create

    current = lock_lead(lead, actor)
    _require_open(current)
    before = audit_snapshot(current)
    threshold = workspace_settings().qualify_threshold
    override_reason = (override_reason or "").strip()
    if current.score < threshold:
        if actor is not None and getattr(actor, "role", None) == Role.REP:
            raise DomainError(
                f"The score is {current.score}, below the {threshold} needed: complete the"
                " scorecard, or ask a manager to qualify it with a reason.",
                field="override_reason",
            )
        if not override_reason:
            raise DomainError(
                f"The score is {current.score}, below the {threshold} needed: give a reason"
                " for qualifying it anyway.",
                field="override_reason",
            )
    else:
        override_reason = ""
    if stage is not None and stage.pipeline_id != pipeline.pk:
        raise DomainError(f"“{stage}” is not a stage of “{pipeline}”.", field="stage")
    if Deal.with_trashed.filter(lead=current).exists():
        raise DomainError("This lead already has a deal.")
    org, org_created = _resolve_organization(current, actor, organization)
    person, contact_created = _resolve_contact(current, actor, contact, org)
    if person is not None and org is None and person.organization_id:
        org = person.organization
    budget, budget_currency = _deal_value(current)
    title = (title or "").strip() or (current.company_name or current.full_name)
    deal = deal_create(
        actor=actor,
        title=title[:200],
        pipeline=pipeline,
        stage=stage,
        owner=current.owner or acting_user(actor),
        organization=org,
        contact=person,
        value=value if value is not None else budget,
        currency=budget_currency or None,
    )
    attribution = {
        "lead": current,
        "source": current.source,
        "campaign": current.campaign,
        **{
            f"utm_{k}": getattr(current, f"utm_{k}")
            for k in ("source", "medium", "campaign", "term", "content")
        },
    }
    for name, attr in attribution.items():
        setattr(deal, name, attr)
    deal.save(update_fields=[*attribution, "updated_at"])
    referral_link_deal(deal=deal)
    deal_facts_refresh(deal_ids=[deal.pk])
    if person is not None and current.marketing_consent and not person.marketing_consent:
        contact_consent_set(
            actor=actor,
            contact=person,
            granted=True,
            at=current.consent_at or timezone.now(),
            method=current.consent_method or f"lead #{current.pk}",
        )
    summary = scorecard_summary(current)
    body = summary + (f"\n\nNotes from the lead:\n{current.notes}" if current.notes else "")
    if override_reason:
        who = acting_user(actor) or "the system"
        body += f"\n\nQualified below the threshold by {who}: {override_reason}"
    activity_create(actor=actor, subject=f"From lead #{current.pk}", body=body, deal=deal)
    _close(current, actor, LeadStatus.QUALIFIED)
    current.override_reason = override_reason
    current.organization = org or current.organization
    current.save()
    audit_changed(actor=actor, obj=current, before=before)
    made = [
        f"contact {person.full_name} ({'new' if contact_created else 'linked'})" if person else "",
        f"organization {org.name} ({'new' if org_created else 'linked'})" if org else "",
    ]
    _timeline(
        current,
        actor,
        "Qualified",
        f"Became deal “{deal.title}” in {pipeline.name} ({deal.stage.name})"
        + "".join(f"; {m}" for m in made if m)
        + (f". Override: {override_reason}" if override_reason else "."),
    )
    lead_event_emit("lead.qualified", current, deal_id=deal.pk)
    return deal


@transaction.atomic
def lead_nurture(
    *,
    actor: Any,
    lead: Lead,
    reason: str,
    until: dt.date,
    email_template_note: str = "",
    remind_to_email: bool = False,
) -> Lead:
    """Park an open lead until a revisit date, when it comes back to its owner by itself.

    With `remind_to_email`, the owner gets a task to send a nurture email halfway there.
    """
    from ..tasks import lead_nurture_return_task

    current = lock_lead(lead, actor)
    _require_open(current)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the lead should wait.", field="reason")
    if len(reason) > 300:
        raise DomainError("The reason can be at most 300 characters long.", field="reason")
    today = timezone.localdate()
    if until is None or until <= today:
        raise DomainError("The revisit date must be in the future.", field="until")
    if until > today + dt.timedelta(days=5 * 366):
        raise DomainError("The revisit date must be within five years.", field="until")
    before = audit_snapshot(current)
    _close(current, actor, LeadStatus.NURTURING)
    current.nurture_reason = reason
    current.nurture_until = until
    current.outcome_note = reason
    current.save()
    audit_changed(actor=actor, obj=current, before=before)
    _timeline(current, actor, "Nurturing", f"Until {until.isoformat()}: {reason}")
    if remind_to_email:
        owner = current.owner or acting_user(actor)
        due = today + (until - today) / 2
        Activity.objects.create(
            kind=ActivityKind.TASK,
            subject=f"Send a nurture email to {current.full_name}"[:200],
            body=(email_template_note or "").strip()[:10_000]
            or f"Keep in touch before the revisit on {until.isoformat()}.",
            actor=acting_user(actor),
            lead=current,
            owner=owner,
            due_at=timezone.make_aware(dt.datetime.combine(due, dt.time(9))),
        )
    run_after = timezone.make_aware(dt.datetime.combine(until, dt.time.min))
    task = lead_nurture_return_task.using(run_after=run_after)
    if task.get_backend().supports_defer:
        # In the same transaction (database backend): the job exists exactly when the lead waits.
        task.enqueue(lead_id=current.pk)
    lead_event_emit("lead.nurtured", current, nurture_reason=reason)
    return current


@transaction.atomic
def lead_disqualify(*, actor: Any, lead: Lead, reason: DisqualifyReason, note: str = "") -> Lead:
    """Discard an open lead for a reason from the list (with a note); it can be reopened."""
    current = lock_lead(lead, actor)
    _require_open(current)
    if reason is None or not DisqualifyReason.objects.filter(pk=reason.pk, is_active=True).exists():
        raise DomainError("Choose a reason from the list.", field="reason")
    note = (note or "").strip()
    if len(note) > 10_000:
        raise DomainError("The note can be at most 10,000 characters long.", field="note")
    if reason.name.lower() == "other" and not note:
        raise DomainError("Say what the other reason is in the note.", field="note")
    before = audit_snapshot(current)
    _close(current, actor, LeadStatus.DISQUALIFIED)
    current.disqualify_reason = reason
    current.outcome_note = note
    current.save()
    audit_changed(actor=actor, obj=current, before=before)
    _timeline(current, actor, "Discarded", reason.name + (f": {note}" if note else ""))
    lead_event_emit("lead.disqualified", current, disqualify_reason=reason.name)
    return current


@transaction.atomic
def lead_reopen(*, actor: Any, lead: Lead) -> Lead:
    """Bring a discarded or nurtured lead back to the open status it had before."""
    current = lock_lead(lead, actor)
    if current.status not in (LeadStatus.DISQUALIFIED, LeadStatus.NURTURING):
        raise DomainError("Only discarded or nurtured leads can be reopened.", field="status")
    was = current.get_status_display().lower()
    before = audit_snapshot(current)
    current.version += 1
    current.status = (
        current.status_before_outcome
        if current.status_before_outcome in OPEN_LEAD_STATUSES
        else LeadStatus.NEW
    )
    current.status_before_outcome = ""
    current.outcome_at = None
    current.outcome_by = None
    current.outcome_note = ""
    current.disqualify_reason = None
    current.save()
    audit_changed(actor=actor, obj=current, before=before)
    _timeline(current, actor, "Reopened", f"Was {was}; now {current.get_status_display().lower()}.")
    lead_event_emit("lead.reopened", current)
    return current
