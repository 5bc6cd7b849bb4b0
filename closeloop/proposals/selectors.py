"""Reading proposals and the catalogue; a proposal is seen by whoever may see its deal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from .choices import ProposalStatus
from .models import Material, Product, Proposal, ProposalTemplate
from .pricing import proposal_totals


def proposal_list(*, user: Any, deal: Any = None) -> QuerySet[Proposal]:
    """The proposals the user may see (through their deals), newest first."""
    qs = Proposal.objects.visible_to(user).filter(deal__deleted_at__isnull=True)
    if deal is not None:
        qs = qs.filter(deal=deal)
    return qs.select_related("deal", "template")


@dataclass(frozen=True)
class ProposalFilters:
    """Which visible proposals a list shows: of one deal, one status, one deal owner, started
    within [created_from, created_to] (whole days)."""

    deal_id: int | None = None
    status: str = ""
    owner_id: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


def proposal_search(*, user: Any, filters: ProposalFilters) -> QuerySet[Proposal]:
    """The visible proposals matching `filters`, with their lines (for the totals)."""
    qs = proposal_list(user=user).prefetch_related("lines")
    if filters.deal_id is not None:
        qs = qs.filter(deal_id=filters.deal_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.owner_id is not None:
        qs = qs.filter(deal__owner_id=filters.owner_id)
    if filters.created_from:
        qs = qs.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__date__lte=filters.created_to)
    return qs


def proposal_get(*, user: Any, pk: int) -> Proposal | None:
    """One proposal if the user may see it; None otherwise (the view answers 404)."""
    return proposal_list(user=user).filter(pk=pk).first()


def product_list(*, active_only: bool = True, currency: str = "") -> QuerySet[Product]:
    """The catalogue (everyone may read it), optionally the active ones of one currency."""
    qs = Product.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    if currency:
        qs = qs.filter(currency=currency)
    return qs


def template_list(*, active_only: bool = True) -> QuerySet[ProposalTemplate]:
    qs = ProposalTemplate.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def proposal_start_suggestions(
    *, user: Any, deal: Any, limit: int = 20, query: str = ""
) -> list[Proposal]:
    """Earlier proposals to start from, for the picker: accepted ones sharing the most products
    with this deal's proposals first, then other accepted ones, then the rest, newest first.
    Only proposals the user may see, in the deal's currency; `query` searches title, deal and
    organization."""
    products = set(
        Product.objects.filter(
            pk__in=proposal_list(user=user, deal=deal).values("lines__product")
        ).values_list("pk", flat=True)
    )
    qs = (
        proposal_list(user=user)
        .exclude(deal=deal)
        .filter(currency=deal.currency)
        .filter(
            Q(title__icontains=query)
            | Q(deal__title__icontains=query)
            | Q(deal__organization__name__icontains=query)
            if query
            else Q()
        )
        .annotate(
            shared=Count("lines", filter=Q(lines__product__in=products))
            if products
            else Count("pk", filter=Q(pk__in=[])),
            won=Count("pk", filter=Q(status=ProposalStatus.ACCEPTED)),
        )
        .order_by("-won", "-shared", "-created_at")
    )
    return list(qs[:limit])


def product_search(
    *, query: str = "", active: str = "active", billing: str = "", currency: str = ""
) -> QuerySet[Product]:
    """The catalogue page: name, SKU or description containing `query`; active, inactive or all;
    optionally of one billing (one-off, monthly, yearly) and one currency (the API's filters)."""
    qs = Product.objects.all()
    if active in ("active", "inactive"):
        qs = qs.filter(is_active=active == "active")
    if billing:
        qs = qs.filter(billing=billing)
    if currency:
        qs = qs.filter(currency=currency.upper())
    if query:
        qs = qs.filter(
            Q(name__icontains=query) | Q(sku__icontains=query) | Q(description__icontains=query)
        )
    return qs


def deal_proposals(*, user: Any, deal: Any) -> list[Proposal]:
    """A deal's proposals for its page, each with `totals` (live lines) and `last_sent_at`."""
    proposals: list[Proposal] = list(
        proposal_list(user=user, deal=deal)
        .annotate(last_sent_at=Max("versions__created_at"))
        .prefetch_related("lines")
    )
    for proposal in proposals:
        proposal.totals = proposal_totals(list(proposal.lines.all()), proposal.currency)  # type: ignore[attr-defined]
    return proposals


def material_get(*, user: Any, pk: int) -> Material | None:
    """A material the user may download: one on any template (everyone signed in may read
    templates) or on a proposal they may see."""
    visible = Q(templates__isnull=False) | Q(proposals__in=proposal_list(user=user).values("pk"))
    return Material.objects.filter(visible, pk=pk).distinct().first()
