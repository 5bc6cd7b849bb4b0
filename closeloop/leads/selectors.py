"""Every read of leads with rules: visibility is applied here, through `visible_to`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from closeloop.core.http import query_date, query_int

from .choices import OPEN_LEAD_STATUSES, DuplicateState, LeadStatus
from .models import Campaign, DisqualifyReason, DuplicatePair, Lead, Source

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
    "score": ("score",),
    "-score": ("-score",),
}
# the inbox's status filter: open leads by default, every lead, or one status
STATUS_OPEN, STATUS_ALL = "open", "all"


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
        status = params.get("status") or STATUS_OPEN
        sort = params.get("sort") or "-created"
        return cls(
            q=(params.get("q") or "").strip()[:200],
            status=status if status in (*LeadStatus.values, STATUS_ALL) else STATUS_OPEN,
            source_id=query_int(params, "source"),
            campaign_id=query_int(params, "campaign"),
            owner_id=query_int(params, "owner"),
            mine=params.get("mine") in ("1", "on", "true"),
            created_from=query_date(params, "from"),
            created_to=query_date(params, "to"),
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
    if filters.status == STATUS_OPEN:
        qs = qs.filter(status__in=OPEN_LEAD_STATUSES)
    elif filters.status and filters.status != STATUS_ALL:
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


def disqualify_reason_list() -> QuerySet[DisqualifyReason]:
    """Every discard reason, retired ones too: a workspace list anyone signed in may read."""
    return DisqualifyReason.objects.all()


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.all()


def lead_get_with_trashed(*, user: Any, pk: int) -> Lead | None:
    """A lead `user` may see, in the trash or not (for restoring it)."""
    return Lead.with_trashed.visible_to(user).filter(pk=pk).first()


def lead_timeline(*, lead: Lead, limit: int = 200) -> list[Any]:
    """A lead's activities, newest first (the caller has checked the lead is visible)."""
    from closeloop.activities.selectors import planned_attendees_attach
    from closeloop.messaging.timeline_files import timeline_files_attach

    entries = list(
        lead.activities.select_related("actor", "owner").order_by("-created_at", "-pk")[:limit]
    )
    return timeline_files_attach(planned_attendees_attach(entries))


@dataclass(frozen=True)
class DuplicateFlag:
    """An open duplicate pair seen from one lead: the other record, if the user may see it."""

    pair: DuplicatePair
    other_lead: Lead | None
    other_contact: Any
    hidden: bool


def lead_duplicate_flags(*, user: Any, lead: Lead) -> list[DuplicateFlag]:
    """Open duplicate pairs involving `lead`; records the user may not see are not named."""
    from closeloop.people.selectors import contact_queryset

    pairs = list(
        DuplicatePair.objects.filter(
            Q(lead=lead) | Q(other_lead=lead), state=DuplicateState.OPEN
        ).order_by("-score", "-pk")[:20]
    )
    lead_ids = {p.other_lead_id if p.lead_id == lead.pk else p.lead_id for p in pairs}
    contact_ids = {p.other_contact_id for p in pairs if p.lead_id == lead.pk}
    leads = {o.pk: o for o in lead_queryset(user=user).filter(pk__in=lead_ids - {None})}
    contacts = {o.pk: o for o in contact_queryset(user=user).filter(pk__in=contact_ids - {None})}
    flags = []
    for pair in pairs:
        if pair.lead_id == lead.pk:
            other_lead = leads.get(pair.other_lead_id) if pair.other_lead_id else None
            other_contact = contacts.get(pair.other_contact_id) if pair.other_contact_id else None
        else:
            other_lead = leads.get(pair.lead_id) if pair.lead_id else None
            other_contact = None
        flags.append(
            DuplicateFlag(pair, other_lead, other_contact, not (other_lead or other_contact))
        )
    return flags


def _visible_lead_count(user: Any, field: str) -> Any:
    counts = (
        lead_queryset(user=user)
        .filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def campaign_list_with_counts(*, user: Any) -> QuerySet[Campaign]:
    """Campaigns with how many leads `user` may see in each."""
    return Campaign.objects.annotate(lead_count=_visible_lead_count(user, "campaign"))


def campaign_get(*, pk: int) -> Campaign | None:
    """One campaign (campaigns are shared by the whole workspace)."""
    return Campaign.objects.filter(pk=pk).first()


def campaign_status_counts(*, user: Any, campaign: Campaign) -> list[tuple[str, str, int]]:
    """(status, label, count) of the campaign's leads `user` may see, every status listed."""
    counts = dict(
        lead_queryset(user=user)
        .filter(campaign=campaign)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return [(value, label, counts.get(value, 0)) for value, label in LeadStatus.choices]


def source_list(*, user: Any) -> QuerySet[Source]:
    """Every source, retired ones too, with how many leads `user` may see from each."""
    return Source.objects.annotate(lead_count=_visible_lead_count(user, "source"))
