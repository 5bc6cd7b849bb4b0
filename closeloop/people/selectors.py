"""Every read of organizations and contacts with rules: visibility is applied here."""

from __future__ import annotations

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


def organization_list(
    *, user: Any, q: str = "", owner_id: int | None = None, sort: str = "name"
) -> QuerySet[Organization]:
    """Organizations for the list page: search by name or domain, filter by owner."""
    qs = organization_queryset(user=user).select_related("owner")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(domain__icontains=q))
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    qs = qs.annotate(
        contact_count=Count("contacts", filter=Q(contacts__deleted_at__isnull=True), distinct=True)
    )
    return qs.order_by(ORGANIZATION_SORTS.get(sort, "name"), "pk")


def contact_list(
    *,
    user: Any,
    q: str = "",
    organization_id: int | None = None,
    owner_id: int | None = None,
    sort: str = "name",
) -> QuerySet[Contact]:
    """Contacts for the list page: search by name, email or phone; filter by organization, owner."""
    qs = contact_queryset(user=user).select_related("organization", "owner")
    if q:
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
    if organization_id:
        qs = qs.filter(organization_id=organization_id)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    qs = qs.prefetch_related(
        Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "pk")),
        Prefetch("phones", queryset=ContactPhone.objects.order_by("-is_primary", "pk")),
    )
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
