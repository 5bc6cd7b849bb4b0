"""The campaign pages show the campaign's visible deals, open pipeline and won revenue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from closeloop.accounts.choices import RepVisibility
from closeloop.accounts.selectors import workspace_settings
from closeloop.leads.campaign_selectors import campaign_results
from tests.factories import DealFactory

from .conftest import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = reverse("leads:campaign_list")
# session, user, workspace setting, unread notifications; campaigns with lead counts;
# deal money grouped by campaign, status and currency
CAMPAIGN_LIST_QUERIES = 6


@pytest.fixture
def webinar(rep, outsider):
    campaign = CampaignFactory(name="Webinar", cost=Decimal("500.00"), currency="EUR")
    LeadFactory.create_batch(4, owner=rep, campaign=campaign)
    LeadFactory(owner=outsider, campaign=campaign)
    DealFactory(owner=rep, campaign=campaign, title="Open one", value=Decimal("1000.50"))
    DealFactory(owner=rep, campaign=campaign, title="Open two", value=Decimal("200"))
    DealFactory(owner=rep, campaign=campaign, status="won", value=Decimal("1500.25"))
    DealFactory(owner=rep, campaign=campaign, status="won", value=Decimal("99.75"))
    DealFactory(owner=rep, campaign=campaign, status="won", value=Decimal("300"), currency="USD")
    DealFactory(owner=rep, campaign=campaign, status="lost", value=Decimal("700"))
    DealFactory(owner=outsider, campaign=campaign, status="won", title="Hidden",
                value=Decimal("9999"))  # fmt: skip
    DealFactory(owner=rep, status="won", value=Decimal("50"))  # no campaign
    return campaign


def test_results_count_only_visible_deals_and_keep_currencies_apart(rep, webinar):
    results = campaign_results(user=rep, campaign=webinar, leads=4)
    assert (results.deals, results.open_deals, results.won_deals, results.lost_deals) == (
        6, 2, 3, 1,
    )  # fmt: skip
    assert results.open_value == {"EUR": Decimal("1200.50")}
    assert results.won_revenue == {"EUR": Decimal("1600.00"), "USD": Decimal("300.00")}
    assert results.cost_per_lead == Decimal("125.00")  # 500 EUR over 4 visible leads
    assert results.return_on_cost == Decimal("3.20")  # 1600 EUR won over 500 EUR cost


def test_detail_page_shows_deals_and_money(rep_client, webinar):
    response = rep_client.get(reverse("leads:campaign_detail", args=[webinar.pk]))
    body = response.content.decode()
    titles = [deal.title for deal in response.context["deal_page"]]
    assert len(titles) == 6 and "Hidden" not in titles and "Open one" in titles
    assert "€1,200.50" in body  # open pipeline
    assert "€1,600" in body and "$300" in body  # won revenue per currency
    assert "€125" in body and "3.20×" in body
    assert "won revenue in EUR of the won deals you can see ÷ cost" in body
    assert "not converted" in body


def test_without_cost_no_cost_figures(rep_client, rep):
    campaign = CampaignFactory(name="Free")
    body = rep_client.get(reverse("leads:campaign_detail", args=[campaign.pk])).content.decode()
    assert "No deals from this campaign yet" in body
    assert "Cost per lead" not in body and "Return on cost" not in body


def test_cost_without_leads_has_no_cost_per_lead(rep):
    campaign = CampaignFactory(name="Early", cost=Decimal("100"), currency="EUR")
    results = campaign_results(user=rep, campaign=campaign, leads=0)
    assert results.cost_per_lead is None and results.return_on_cost == Decimal("0.00")


def test_list_shows_leads_deals_and_won_revenue(rep_client, webinar):
    CampaignFactory(name="Empty")
    campaigns = {c.name: c for c in rep_client.get(CAMPAIGNS).context["campaigns"]}
    assert campaigns["Webinar"].lead_count == 4
    assert campaigns["Webinar"].results.deals == 6
    assert campaigns["Webinar"].results.won_revenue_list == [
        ("EUR", Decimal("1600.00")), ("USD", Decimal("300.00")),
    ]  # fmt: skip
    assert campaigns["Empty"].results.deals == 0
    body = rep_client.get(CAMPAIGNS).content.decode()
    assert "€1,600" in body and "$300" in body


@pytest.mark.parametrize("count", [2, 8])
def test_list_queries_do_not_grow_with_campaigns(
    rep_client, rep, django_assert_max_num_queries, count
):
    for _ in range(count):
        campaign = CampaignFactory()
        LeadFactory(owner=rep, campaign=campaign)
        DealFactory(owner=rep, campaign=campaign, status="won")
    with django_assert_max_num_queries(CAMPAIGN_LIST_QUERIES):
        response = rep_client.get(CAMPAIGNS)
    assert len(response.context["campaigns"]) == count


def _results_card(client, campaign) -> str:
    body = client.get(reverse("leads:campaign_detail", args=[campaign.pk])).content.decode()
    return body[body.index('id="campaign-results"') : body.index(">Details</h2>")]


def test_a_rep_is_told_the_figures_are_over_what_they_can_see(rep_client, webinar):
    card = _results_card(rep_client, webinar)
    assert '€125 <span class="muted">over the 4 leads you can see</span>' in card
    assert "of the won deals you can see" in card
    assert "Counted over the leads and deals you can see" in card
    assert "9,999" not in card


def test_an_admin_sees_the_whole_campaign_and_is_told_so(admin_client_, webinar):
    card = _results_card(admin_client_, webinar)
    assert '€100 <span class="muted">over all 5 leads</span>' in card  # 500 over 5
    assert "of all won deals" in card
    assert "Counted over all of the campaign's leads and deals." in card


def test_a_rep_in_a_workspace_that_shares_everything_sees_it_all(rep_client, rep, webinar):
    ws = workspace_settings()
    ws.rep_visibility = RepVisibility.ALL
    ws.save()
    card = _results_card(rep_client, webinar)
    assert "over all 5 leads" in card
    assert campaign_results(user=rep, campaign=webinar, leads=5).complete


def test_the_list_says_what_it_counts(rep_client, admin_client_, webinar):
    assert "count only the records you can see" in rep_client.get(CAMPAIGNS).content.decode()
    assert "count all of each campaign" in admin_client_.get(CAMPAIGNS).content.decode()
