"""Reading proposals and the catalogue; a proposal is seen by whoever may see its deal."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from .choices import ProposalStatus
from .models import Product, Proposal, ProposalTemplate


def proposal_list(*, user: Any, deal: Any = None) -> QuerySet[Proposal]:
    """The proposals the user may see (through their deals), newest first."""
    qs = Proposal.objects.visible_to(user).filter(deal__deleted_at__isnull=True)
    if deal is not None:
        qs = qs.filter(deal=deal)
    return qs.select_related("deal", "template")


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


def proposal_start_suggestions(*, user: Any, deal: Any, limit: int = 20) -> list[Proposal]:
    """Earlier proposals to start from, for the picker: accepted ones sharing the most products
    with this deal's proposals first, then other accepted ones, then the rest, newest first.
    Only proposals the user may see, in the deal's currency."""
    products = set(
        Product.objects.filter(
            pk__in=proposal_list(user=user, deal=deal).values("lines__product")
        ).values_list("pk", flat=True)
    )
    qs = (
        proposal_list(user=user)
        .exclude(deal=deal)
        .filter(currency=deal.currency)
        .annotate(
            shared=Count("lines", filter=Q(lines__product__in=products))
            if products
            else Count("pk", filter=Q(pk__in=[])),
            won=Count("pk", filter=Q(status=ProposalStatus.ACCEPTED)),
        )
        .order_by("-won", "-shared", "-created_at")
    )
    return list(qs[:limit])
