"""Reads for the campaign pages: what each campaign brought in, counted over visible records.

Leads and deals are counted only where `user` may see them (the campaigns themselves are shared
by the workspace). Money is summed per currency and never converted: a campaign whose deals are
in two currencies shows two totals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from closeloop.accounts.visibility import owner_filter
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from closeloop.pipeline.selectors import deal_queryset

from .models import Campaign
from .selectors import campaign_list_with_counts


@dataclass
class CampaignResults:
    """A campaign's deals and money: open pipeline and won revenue per currency, and what the
    campaign's cost bought (per lead, and won revenue over cost in the cost's currency)."""

    leads: int = 0
    deals: int = 0
    open_deals: int = 0
    won_deals: int = 0
    lost_deals: int = 0
    open_value: dict[str, Decimal] = field(default_factory=dict)
    won_revenue: dict[str, Decimal] = field(default_factory=dict)
    cost_per_lead: Decimal | None = None
    return_on_cost: Decimal | None = None  # won revenue in the cost's currency ÷ cost
    # whether the viewer sees every lead and deal (admins, or everyone when the workspace shares
    # all records): otherwise the figures are over part of the campaign, and the page says so
    complete: bool = True

    @property
    def open_value_list(self) -> list[tuple[str, Decimal]]:
        return sorted(self.open_value.items())

    @property
    def won_revenue_list(self) -> list[tuple[str, Decimal]]:
        return sorted(self.won_revenue.items())


def _money_by_campaign(
    deals: QuerySet[Deal], campaign_ids: list[int]
) -> dict[int, dict[str, dict[str, Any]]]:
    """{campaign id: {status: {"count": n, currency: total, …}}} in one grouped query."""
    found: dict[int, dict[str, dict[str, Any]]] = defaultdict(lambda: defaultdict(dict))
    rows = (
        deals.filter(campaign_id__in=campaign_ids)
        .order_by()
        .values_list("campaign_id", "status", "currency")
        .annotate(n=Count("pk"), total=Sum("value"))
    )
    for campaign_id, status, currency, n, total in rows:
        bucket = found[campaign_id][status]
        bucket["count"] = bucket.get("count", 0) + n
        bucket.setdefault("money", {})[currency] = total or Decimal("0")
    return found


def _results(
    campaign: Campaign, leads: int, money: dict[str, dict[str, Any]], *, complete: bool
) -> CampaignResults:
    open_, won, lost = (
        money.get(s, {}) for s in (DealStatus.OPEN, DealStatus.WON, DealStatus.LOST)
    )
    results = CampaignResults(
        leads=leads,
        open_deals=open_.get("count", 0),
        won_deals=won.get("count", 0),
        lost_deals=lost.get("count", 0),
        open_value=open_.get("money", {}),
        won_revenue=won.get("money", {}),
        complete=complete,
    )
    results.deals = results.open_deals + results.won_deals + results.lost_deals
    if campaign.cost:
        if leads:
            results.cost_per_lead = (campaign.cost / leads).quantize(Decimal("0.01"))
        revenue = results.won_revenue.get(campaign.currency, Decimal("0"))
        results.return_on_cost = (revenue / campaign.cost).quantize(Decimal("0.01"))
    return results


def campaign_list_with_results(*, user: Any) -> list[Campaign]:
    """Every campaign with `.results`: visible leads, deals and won revenue (two queries)."""
    campaigns = list(campaign_list_with_counts(user=user))
    money = _money_by_campaign(deal_queryset(user=user), [c.pk for c in campaigns])
    complete = owner_filter(user) is None
    for campaign in campaigns:
        leads = getattr(campaign, "lead_count", 0)
        results = _results(campaign, leads, money.get(campaign.pk, {}), complete=complete)
        campaign.results = results  # type: ignore[attr-defined]
    return campaigns


def campaign_results(*, user: Any, campaign: Campaign, leads: int) -> CampaignResults:
    """One campaign's deals and money as `user` may see them; `leads` is its visible lead count."""
    money = _money_by_campaign(deal_queryset(user=user), [campaign.pk])
    complete = owner_filter(user) is None
    return _results(campaign, leads, money.get(campaign.pk, {}), complete=complete)


def campaign_deal_list(*, user: Any, campaign: Campaign) -> QuerySet[Deal]:
    """The campaign's deals `user` may see, newest first."""
    return (
        deal_queryset(user=user)
        .filter(campaign=campaign)
        .select_related("organization", "contact", "owner", "stage")
        .order_by("-created_at", "-pk")
    )
