"""Every read of organizations and contacts with rules: visibility is applied here."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Contact, ContactEmail, ContactPhone, Organization

ORGANIZATION_SORTS = {"name": "name", "-name": "-name", "created": "created_at",
                      "-created": "-created_at"}  # fmt: skip
CONTACT_SORTS = {"name": "last_name", "-name": "-last_name", "created": "created_at",
                 "-created": "-created_at", "organization": "organization__name",
                 "-organization": "-organization__name"}  # fmt: skip


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
        qs = qs.filter(
            Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(emails__email__icontains=q)
            | Q(phones__e164__icontains=q.replace(" ", ""))
            | Q(phones__raw__icontains=q)
        ).distinct()
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
    return organization_queryset(user=user).select_related("owner").filter(pk=pk).first()


def contact_get(*, user: Any, pk: int) -> Contact | None:
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
