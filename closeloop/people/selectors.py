"""Every read of organizations and contacts with rules: visibility is applied here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from closeloop.activities.models import Activity
from closeloop.activities.selectors import planned_attendees_attach
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from closeloop.pipeline.selectors import deal_queryset

from .models import Contact, ContactEmail, ContactPhone, Organization
from .phones import normalize_phone

ORGANIZATION_SORTS = {"name": "name", "-name": "-name", "created": "created_at",
                      "-created": "-created_at", "domain": "domain", "-domain": "-domain",
                      "owner": "owner__full_name", "-owner": "-owner__full_name",
                      "contacts": "contact_count", "-contacts": "-contact_count"}  # fmt: skip
CONTACT_SORTS = {"name": "last_name", "-name": "-last_name", "created": "created_at",
                 "-created": "-created_at", "organization": "organization__name",
                 "-organization": "-organization__name", "title": "job_title",
                 "-title": "-job_title", "owner": "owner__full_name",
                 "-owner": "-owner__full_name"}  # fmt: skip


def organization_queryset(*, user: Any) -> QuerySet[Organization]:
    """Organizations `user` may see (not trashed)."""
    return Organization.objects.visible_to(user)


def contact_queryset(*, user: Any) -> QuerySet[Contact]:
    """Contacts `user` may see (not trashed)."""
    return Contact.objects.visible_to(user)


@dataclass(frozen=True)
class OrganizationFilters:
    """What a list of organizations is narrowed to; every field is optional."""

    q: str = ""
    owner_id: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


@dataclass(frozen=True)
class ContactFilters:
    """What a list of contacts is narrowed to; every field is optional."""

    q: str = ""
    organization_id: int | None = None
    owner_id: int | None = None
    marketing_consent: bool | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


def _created_between(qs: QuerySet[Any], start: dt.date | None, end: dt.date | None) -> QuerySet:
    if start:
        qs = qs.filter(created_at__date__gte=start)
    if end:
        qs = qs.filter(created_at__date__lte=end)
    return qs


def organization_search(*, user: Any, filters: OrganizationFilters) -> QuerySet[Organization]:
    """Organizations `user` may see, by name or domain, owner and creation date (unordered)."""
    qs = organization_queryset(user=user).select_related("owner")
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(domain__icontains=filters.q))
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    return _created_between(qs, filters.created_from, filters.created_to)


def organization_list(
    *, user: Any, q: str = "", owner_id: int | None = None, sort: str = "name"
) -> QuerySet[Organization]:
    """Organizations for the list page: search by name or domain, filter by owner."""
    qs = organization_search(user=user, filters=OrganizationFilters(q=q, owner_id=owner_id))
    qs = qs.annotate(
        contact_count=Count("contacts", filter=Q(contacts__deleted_at__isnull=True), distinct=True)
    )
    return qs.order_by(ORGANIZATION_SORTS.get(sort, "name"), "pk")


def contact_search(*, user: Any, filters: ContactFilters) -> QuerySet[Contact]:
    """Contacts `user` may see, by name, email or phone, organization, owner, marketing consent
    and creation date, with their emails and phones (unordered)."""
    qs = contact_queryset(user=user).select_related("organization", "owner")
    if q := filters.q:
        match = (
            Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(emails__email__icontains=q)
            | Q(phones__e164__icontains=q.replace(" ", ""))
            | Q(phones__raw__icontains=q)
        )
        # "030 1234567" finds "+49 30 1234567": a full number is compared in E.164.
        if e164 := normalize_phone(q):
            match |= Q(phones__e164=e164)
        qs = qs.filter(match).distinct()
    if filters.organization_id:
        qs = qs.filter(organization_id=filters.organization_id)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.marketing_consent is not None:
        qs = qs.filter(marketing_consent=filters.marketing_consent)
    qs = _created_between(qs, filters.created_from, filters.created_to)
    return qs.prefetch_related(
        Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "pk")),
        Prefetch("phones", queryset=ContactPhone.objects.order_by("-is_primary", "pk")),
    )


def contact_list(
    *,
    user: Any,
    q: str = "",
    organization_id: int | None = None,
    owner_id: int | None = None,
    sort: str = "name",
) -> QuerySet[Contact]:
    """Contacts for the list page: search by name, email or phone; filter by organization, owner."""
    filters = ContactFilters(q=q, organization_id=organization_id, owner_id=owner_id)
    qs = contact_search(user=user, filters=filters)
    return qs.order_by(CONTACT_SORTS.get(sort, "last_name"), "first_name", "pk")


def organization_get(*, user: Any, pk: int) -> Organization | None:
    """One organization if `user` may see it and it is not trashed; None otherwise."""
    return organization_queryset(user=user).select_related("owner").filter(pk=pk).first()


def contact_get(*, user: Any, pk: int) -> Contact | None:
    """One contact with its emails and phones if `user` may see it; None otherwise."""
    return (
        contact_queryset(user=user)
        .select_related("organization", "owner")
        .prefetch_related("emails", "phones")
        .filter(pk=pk)
        .first()
    )


@dataclass(frozen=True)
class Duplicate:
    """Another record that already has a value a new or changed one would take."""

    pk: int
    field: str
    value: str


def organization_duplicate(
    *, name: str = "", domain: str = "", exclude_pk: int | None = None
) -> Duplicate | None:
    """Another organization (not trashed) with this domain, or this name in any case: what an
    import skips as a duplicate. Every organization counts, seen by the caller or not."""
    others = Organization.objects.all()
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if domain and (pk := others.filter(domain=domain).values_list("pk", flat=True).first()):
        return Duplicate(pk, "domain", domain)
    if name and (pk := others.filter(name__iexact=name).values_list("pk", flat=True).first()):
        return Duplicate(pk, "name", name)
    return None


def contact_duplicate(
    *, emails: list[str], phones_e164: list[str], exclude_pk: int | None = None
) -> Duplicate | None:
    """Another contact (not trashed) with one of these emails (lower-case) or phones (E.164):
    what an import skips as a duplicate. Every contact counts, seen by the caller or not."""
    other = Q(contact__deleted_at__isnull=True) & ~Q(contact_id=exclude_pk or 0)
    checks = (
        (ContactEmail, "email", "emails", emails),
        (ContactPhone, "e164", "phones", phones_e164),
    )
    for model, column, field, values in checks:
        values = [v for v in values if v]
        if not values:
            continue
        row = (
            model.objects.filter(other, **{f"{column}__in": values})
            .values_list("contact_id", column)
            .first()
        )
        if row:
            return Duplicate(row[0], field, row[1])
    return None


def organization_trash(*, user: Any) -> QuerySet[Organization]:
    """Trashed organizations `user` may see, most recently trashed first."""
    return Organization.with_trashed.trashed().visible_to(user).order_by("-deleted_at")


def contact_trash(*, user: Any) -> QuerySet[Contact]:
    """Trashed contacts `user` may see, most recently trashed first."""
    return Contact.with_trashed.trashed().visible_to(user).order_by("-deleted_at")


def organization_get_with_trashed(*, user: Any, pk: int) -> Organization | None:
    """One organization `user` may see, trashed or not (for restore)."""
    return Organization.with_trashed.visible_to(user).filter(pk=pk).first()


def contact_get_with_trashed(*, user: Any, pk: int) -> Contact | None:
    """One contact `user` may see, trashed or not (for restore)."""
    return Contact.with_trashed.visible_to(user).filter(pk=pk).first()


def organization_contacts(*, user: Any, organization: Organization) -> QuerySet[Contact]:
    """The contacts of an organization that `user` may see."""
    return (
        contact_queryset(user=user)
        .filter(organization=organization)
        .select_related("owner")
        .prefetch_related("emails", "phones")
        .order_by("last_name", "first_name", "pk")
    )


def related_deals(
    *, user: Any, organization: Organization | None = None, contact: Contact | None = None
) -> dict[str, list[Deal]]:
    """Deals of an organization or contact that `user` may see, split into open and closed."""
    qs = deal_queryset(user=user).select_related("stage", "owner", "pipeline")
    if organization is not None:
        qs = qs.filter(organization=organization)
    if contact is not None:
        qs = qs.filter(contact=contact)
    deals = list(qs.order_by("-created_at", "-pk")[:500])
    return {
        "open": [d for d in deals if d.status == DealStatus.OPEN],
        "closed": [d for d in deals if d.status != DealStatus.OPEN],
    }


def people_timeline(
    *, user: Any, organization: Organization | None = None, contact: Contact | None = None,
    limit: int = 200,
) -> list[Activity]:  # fmt: skip
    """Activities on an organization or contact, newest first.

    Entries that also belong to a deal or contact the user may not see are left out, so a
    shared organization's timeline does not reveal another rep's private deal notes.
    """
    qs = Activity.objects.all()
    if organization is not None:
        qs = qs.filter(organization=organization)
    if contact is not None:
        qs = qs.filter(contact=contact)
    qs = qs.filter(Q(deal__isnull=True) | Q(deal__in=deal_queryset(user=user).values("pk")))
    if contact is None:
        qs = qs.filter(
            Q(contact__isnull=True) | Q(contact__in=contact_queryset(user=user).values("pk"))
        )
    from closeloop.messaging.timeline_files import timeline_files_attach

    entries = list(
        qs.select_related("actor", "owner", "deal", "contact").order_by("-created_at", "-pk")[
            :limit
        ]
    )
    return timeline_files_attach(planned_attendees_attach(entries))
