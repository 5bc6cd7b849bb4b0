"""Every read of leads with rules: visibility is applied here, through `visible_to`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from .choices import LeadStatus
from .models import Campaign, Lead, Source

LEAD_SORTS = {
    "name": ("last_name", "first_name"),
    "-name": ("-last_name", "-first_name"),
    "company": ("company_name",),
    "-company": ("-company_name",),
    "created": ("created_at",),
    "-created": ("-created_at",),
    "status": ("status",),
    "-status": ("-status",),
    "source": ("source__name",),
    "-source": ("-source__name",),
    "owner": ("owner__full_name",),
    "-owner": ("-owner__full_name",),
}


@dataclass(frozen=True)
class LeadFilters:
    """What a person narrowed the leads inbox to; every field is optional."""

    q: str = ""
    status: str | None = None
    source_id: int | None = None
    campaign_id: int | None = None
    owner_id: int | None = None
    mine: bool = False
    created_from: Any = None
    created_to: Any = None
    sort: str = "-created"

    @classmethod
    def from_query(cls, params: Any) -> LeadFilters:
        import datetime as dt

        def number(name: str) -> int | None:
            value = (params.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        def date(name: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat((params.get(name) or "").strip())
            except ValueError:
                return None

        status = params.get("status") or None
        sort = params.get("sort") or "-created"
        return cls(
            q=(params.get("q") or "").strip()[:200],
            status=status if status in LeadStatus.values else None,
            source_id=number("source"),
            campaign_id=number("campaign"),
            owner_id=number("owner"),
            mine=params.get("mine") in ("1", "on", "true"),
            created_from=date("from"),
            created_to=date("to"),
            sort=sort if sort in LEAD_SORTS else "-created",
        )


def lead_queryset(*, user: Any) -> QuerySet[Lead]:
    """All leads `user` may see (not trashed)."""
    return Lead.objects.visible_to(user)


def lead_get(*, user: Any, pk: int) -> Lead | None:
    """One lead if `user` may see it, with what its page shows; None otherwise."""
    return (
        lead_queryset(user=user)
        .select_related("owner", "source", "campaign", "organization", "import_batch")
        .filter(pk=pk)
        .first()
    )


def lead_list(*, user: Any, filters: LeadFilters) -> QuerySet[Lead]:
    """Leads for the inbox and exports: search, filters, sorting."""
    qs = lead_queryset(user=user).select_related("owner", "source", "campaign")
    if filters.q:
        q = filters.q
        qs = qs.filter(
            Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
            | Q(company_name__icontains=q)
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.source_id:
        qs = qs.filter(source_id=filters.source_id)
    if filters.campaign_id:
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.mine:
        qs = qs.filter(owner=user)
    elif filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.created_from:
        qs = qs.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__date__lte=filters.created_to)
    return qs.order_by(*LEAD_SORTS[filters.sort], "-pk")


def lead_trash_list(*, user: Any) -> QuerySet[Lead]:
    """Trashed leads `user` may see, most recently trashed first."""
    return Lead.with_trashed.trashed().visible_to(user).order_by("-deleted_at")


def source_choices() -> QuerySet[Source]:
    return Source.objects.filter(is_active=True)


def source_named(name: str) -> Source | None:
    return Source.objects.filter(name__iexact=name).first()


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.all()
