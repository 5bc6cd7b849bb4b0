"""Every write to leads, sources and campaigns goes through these functions."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.people.models import Organization
from closeloop.people.phones import normalize_phone

from .assignment import lead_assign_auto, lead_reassignment_record
from .choices import FREE_MAIL_DOMAINS, OPEN_LEAD_STATUSES, DuplicateState, LeadStatus
from .dedupe import Match, find_exact, find_likely
from .models import Campaign, DuplicatePair, ImportBatch, Lead, Source

MAX_NOTES = 100_000
TEXT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "phone": 60,
    "job_title": 150,
    "company_name": 200,
    "company_domain": 200,
    "website": 300,
    "company_size": 30,
    "industry": 100,
    "country": 2,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_term": 200,
    "utm_content": 200,
    "consent_method": 200,
    "external_id": 100,
}


@dataclass
class LeadInput:
    """What a lead is made of, from any channel; empty strings mean 'not given'."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    job_title: str = ""
    company_name: str = ""
    company_domain: str = ""
    website: str = ""
    company_size: str = ""
    industry: str = ""
    country: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    marketing_consent: bool = False
    consent_method: str = ""
    notes: str = ""
    external_id: str = ""
    owner: User | None = None
    source: Source | None = None
    campaign: Campaign | None = None
    status: str = LeadStatus.NEW
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LeadResult:
    """What lead_create did: the lead (new or existing) and any duplicate evidence."""

    lead: Lead | None
    created: bool
    duplicate: Match | None = None
    flagged: list[Match] = field(default_factory=list)


def _actor(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].lower() if "@" in email else ""


def clean_lead_input(data: LeadInput) -> LeadInput:
    """Trim, check and normalise every field; raise DomainError naming the first bad one."""
    for name, limit in TEXT_LIMITS.items():
        value = getattr(data, name)
        value = "" if value is None else str(value).strip()
        if len(value) > limit:
            raise DomainError(
                f"{name.replace('_', ' ').capitalize()} can be at most {limit} characters long.",
                field=name,
            )
        setattr(data, name, value)
    data.email = (data.email or "").strip().lower()
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError as exc:
            raise DomainError(
                f"“{data.email}” is not a valid email address.", field="email"
            ) from exc
    if len(data.notes or "") > MAX_NOTES:
        raise DomainError(f"Notes can be at most {MAX_NOTES:,} characters long.", field="notes")
    data.notes = (data.notes or "").strip()
    data.country = data.country.upper()
    if data.status not in LeadStatus.values:
        raise DomainError(f"“{data.status}” is not a lead status.", field="status")
    if not (data.first_name or data.last_name or data.email or data.phone or data.company_name):
        raise DomainError(
            "A lead needs at least a name, an email, a phone or a company.", field="last_name"
        )
    domain = (data.company_domain or "").lower().removeprefix("https://").removeprefix("http://")
    data.company_domain = domain.removeprefix("www.").split("/")[0]
    if not data.company_domain and data.email:
        domain = email_domain(data.email)
        if domain not in FREE_MAIL_DOMAINS:
            data.company_domain = domain
    if data.owner is not None and not data.owner.is_active:
        raise DomainError(f"{data.owner} is deactivated and cannot own leads.", field="owner")
    return data


def organization_for_domain(domain: str) -> Organization | None:
    """The organization a company domain belongs to (never for free-mail domains)."""
    if not domain or domain in FREE_MAIL_DOMAINS:
        return None
    return Organization.objects.filter(domain=domain).order_by("pk").first()


def campaign_for_utm(utm_campaign: str) -> Campaign | None:
    if not utm_campaign:
        return None
    return Campaign.objects.filter(utm_campaign__iexact=utm_campaign).first()


def _duplicate_message(match: Match, actor: Any) -> str:
    from .selectors import lead_get

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
        created_by=_actor(actor),
        import_batch=batch,
        organization=organization_for_domain(data.company_domain),
    )
    if lead.campaign is None:
        lead.campaign = campaign_for_utm(data.utm_campaign)
    if data.marketing_consent:
        lead.consent_at = now
    return lead


def _flag(lead: Lead, matches: list[Match]) -> None:
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
        raise DomainError(_duplicate_message(exact, actor), field=exact.field or "email")
    lead = _build_lead(data, actor=actor, batch=batch)
    lead.save()
    likely = find_likely(
        first_name=data.first_name,
        last_name=data.last_name,
        company=data.company_name,
        exclude_lead_id=lead.pk,
    )
    if likely:
        _flag(lead, likely)
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject="Lead created",
        body=f"Source: {lead.source or '—'}"
        + (f", campaign: {lead.campaign}" if lead.campaign else ""),
        actor=_actor(actor),
        lead=lead,
    )
    if lead.owner_id is None:
        lead_assign_auto(lead=lead)
    return LeadResult(lead=lead, created=True, flagged=likely)


LEAD_EDITABLE = [f.name for f in fields(LeadInput) if f.name != "extra"]


def _lock(lead: Lead, actor: Any) -> Lead:
    qs = Lead.objects.select_for_update().filter(pk=lead.pk)
    if actor is not None:
        qs = qs.visible_to(actor)
    current = qs.first()
    if current is None:
        raise DomainError("This lead does not exist or is not visible to you.")
    return current


@transaction.atomic
def lead_update(*, actor: Any, lead: Lead, data: LeadInput) -> Lead:
    """Change a lead's fields; an email or phone that belongs to another record is refused."""
    current = _lock(lead, actor)
    data = clean_lead_input(data)
    exact = find_exact(
        email=data.email, phone_e164=normalize_phone(data.phone), exclude_lead_id=current.pk
    )
    if exact is not None:
        raise DomainError(_duplicate_message(exact, actor), field=exact.field or "email")
    if data.status != current.status and not {data.status, current.status} <= set(
        OPEN_LEAD_STATUSES
    ):
        raise DomainError(
            "Qualify, nurture, discard or reopen a lead with its own buttons.", field="status"
        )
    previous_owner = current.owner
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
    current.save()
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject="Lead updated",
        body="Changed: " + ", ".join(changes),
        actor=_actor(actor),
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

    current = _lock(lead, actor)
    return activity_create(actor=actor, body=body, lead=current)


@transaction.atomic
def lead_trash(*, actor: Any, lead: Lead) -> Lead:
    """Put a lead in the trash, restorable until purged."""
    current = _lock(lead, actor)
    current.deleted_at = timezone.now()
    current.deleted_by = _actor(actor)
    current.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
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
    current.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
    return current


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
    return Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        owner=owner, updated_at=now
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
    target = _bulk_target(actor, lead_ids).filter(status__in=OPEN_LEAD_STATUSES)
    ids = list(target.values_list("pk", flat=True))
    return Lead.objects.filter(pk__in=ids).update(status=status, updated_at=timezone.now())


@transaction.atomic
def lead_bulk_trash(*, actor: Any, lead_ids: list[int]) -> int:
    """Put the chosen leads in the trash."""
    ids = list(_bulk_target(actor, lead_ids).values_list("pk", flat=True))
    return Lead.objects.filter(pk__in=ids).update(
        deleted_at=timezone.now(), deleted_by=_actor(actor)
    )


def _require_manager(actor: Any) -> None:
    if actor is not None and getattr(actor, "role", None) not in ("admin", "manager"):
        raise DomainError("Only admins and managers can change sources and campaigns.")


@transaction.atomic
def source_create(*, actor: Any, name: str) -> Source:
    """Add a lead source to the list."""
    _require_manager(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("A source needs a name.", field="name")
    if Source.objects.filter(name__iexact=name).exists():
        raise DomainError(f"“{name}” is already a source.", field="name")
    position = (Source.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    return Source.objects.create(name=name[:120], position=position)


@transaction.atomic
def source_update(*, actor: Any, source: Source, name: str, is_active: bool) -> Source:
    """Rename a source or retire it (leads keep it)."""
    _require_manager(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("A source needs a name.", field="name")
    if Source.objects.filter(name__iexact=name).exclude(pk=source.pk).exists():
        raise DomainError(f"“{name}” is already a source.", field="name")
    source.name, source.is_active = name[:120], is_active
    source.save(update_fields=["name", "is_active", "updated_at"])
    return source


CAMPAIGN_FIELDS = (
    "name",
    "channel",
    "starts_on",
    "ends_on",
    "cost",
    "currency",
    "utm_campaign",
    "notes",
)


def _clean_campaign(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    name = (values.get("name") or "").strip()
    if not name:
        raise DomainError("A campaign needs a name.", field="name")
    same_name = Campaign.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        same_name = same_name.exclude(pk=exclude_pk)
    if same_name.exists():
        raise DomainError(f"There is already a campaign called “{name}”.", field="name")
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts and ends and ends < starts:
        raise DomainError("The campaign cannot end before it starts.", field="ends_on")
    cost = values.get("cost")
    if cost is not None and cost < 0:
        raise DomainError("The cost cannot be negative.", field="cost")
    return {**values, "name": name}


@transaction.atomic
def campaign_create(*, actor: Any, **values: Any) -> Campaign:
    """Add a campaign that leads can be attributed to."""
    _require_manager(actor)
    return Campaign.objects.create(**_clean_campaign(values))


@transaction.atomic
def campaign_update(*, actor: Any, campaign: Campaign, **values: Any) -> Campaign:
    """Change a campaign's name, channel, dates or cost."""
    _require_manager(actor)
    for name, value in _clean_campaign(values, exclude_pk=campaign.pk).items():
        setattr(campaign, name, value)
    campaign.save()
    return campaign


@transaction.atomic
def duplicate_dismiss(*, actor: Any, pair: DuplicatePair) -> DuplicatePair:
    """Mark a flagged pair as not the same person; it is not shown again."""
    pair.state = DuplicateState.DISMISSED
    pair.resolved_by = _actor(actor)
    pair.resolved_at = timezone.now()
    pair.save(update_fields=["state", "resolved_by", "resolved_at", "updated_at"])
    return pair
