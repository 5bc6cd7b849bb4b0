"""The proposal page and starting proposals on a deal, through the HTTP client."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from closeloop.proposals.choices import ProposalStatus
from closeloop.proposals.forms import LINE_INPUTS
from closeloop.proposals.models import Product, Proposal
from closeloop.proposals.services import (
    LineIn,
    product_create,
    proposal_create,
    proposal_lines_set,
    proposal_update,
)
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


def _form(proposal: Proposal, lines: list[dict[str, str]], **changes: Any) -> dict[str, Any]:
    """The editor's form as a browser posts it: terms, then one list per line input."""
    data: dict[str, Any] = {
        "version": str(proposal.version),
        "title": proposal.title,
        "intro": proposal.intro,
        "closing": proposal.closing,
        "payment_terms": "net",
        "net_days": "30",
        "validity_days": "30",
        "terms_conditions": "",
    }
    data.update(changes)
    for name in LINE_INPUTS:
        default = {"discount_kind": "percent", "billing": "one_off"}.get(name, "")
        data[f"line_{name}"] = [line.get(name, default) for line in lines]
    return data


@pytest.fixture
def proposal(rep: Any, bakery_deal: Any, web_template: Any) -> Proposal:
    return proposal_create(actor=rep, deal=bakery_deal, template=web_template)


def test_the_deal_page_lists_its_proposals_with_totals(
    rep_client: Any, bakery_deal: Any, proposal: Proposal
):
    page = rep_client.get(reverse("pipeline:deal_detail", args=[bakery_deal.pk]))
    html = page.content.decode()
    assert "Proposal for New website" in html
    assert "€4,760.00" in html  # 4000 + 19 % tax, one-off
    assert "€699.72" in html  # 12 × 49 + 19 %, monthly, apart
    assert reverse("proposals:new", args=[bakery_deal.pk]) in html


def test_starting_from_a_template_opens_the_proposal_page(
    rep_client: Any, bakery_deal: Any, web_template: Any
):
    url = reverse("proposals:new", args=[bakery_deal.pk])
    assert "Website package" in rep_client.get(url).content.decode()
    response = rep_client.post(url, {"start": f"template:{web_template.pk}", "title": "Our offer"})
    proposal = Proposal.objects.get(deal=bakery_deal)
    assert response.status_code == 302
    assert response["Location"] == reverse("proposals:detail", args=[proposal.pk])
    assert proposal.title == "Our offer" and proposal.template == web_template
    assert [line.name for line in proposal.lines.all()] == ["Website build", "Hosting"]


def test_starting_from_an_earlier_proposal_or_blank(
    rep: Any, rep_client: Any, bakery_deal: Any, proposal: Proposal
):
    other = DealFactory(owner=rep, title="Shop redesign")
    url = reverse("proposals:new", args=[other.pk])
    page = rep_client.get(url, {"q": "bakery"})  # the earlier deal's organization
    assert proposal.title in page.content.decode()
    assert proposal.title not in rep_client.get(url, {"q": "nothing like it"}).content.decode()
    rep_client.post(url, {"start": f"proposal:{proposal.pk}"})
    copy = Proposal.objects.get(deal=other)
    assert copy.based_on == proposal and copy.lines.count() == 2
    rep_client.post(url, {"start": "blank", "title": "Empty"})
    assert Proposal.objects.get(deal=other, title="Empty").lines.count() == 0


def test_the_picker_offers_only_proposals_the_user_may_see(
    rep_client: Any, outsider: Any, bakery_deal: Any, web_template: Any
):
    hidden_deal = DealFactory(owner=outsider, title="Secret deal")
    hidden = proposal_create(actor=outsider, deal=hidden_deal, title="Secret offer")
    url = reverse("proposals:new", args=[bakery_deal.pk])
    assert "Secret offer" not in rep_client.get(url).content.decode()
    assert rep_client.post(url, {"start": f"proposal:{hidden.pk}"}).status_code == 404
    assert not Proposal.objects.filter(deal=bakery_deal).exists()


def test_the_proposal_page_shows_lines_totals_and_the_placeholders(
    rep_client: Any, proposal: Proposal
):
    page = rep_client.get(reverse("proposals:detail", args=[proposal.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Website build"' in html and 'value="Hosting"' in html
    assert "€4,760.00" in html and "€699.72" in html
    assert "Tax 19 %" in html and "Monthly (recurring)" in html
    assert "Not sent yet" in html


def test_saving_lines_and_terms(rep_client: Any, proposal: Proposal, website: Product):
    lines = [
        {"product": str(website.pk), "name": "Website build", "quantity": "1",
         "unit_price": "4000", "discount_value": "10", "tax_rate": "19"},
        {"name": "Training", "quantity": "3", "unit": "hour", "unit_price": "80.5",
         "discount_kind": "amount", "discount_value": "1.5", "tax_rate": "7"},
    ]  # fmt: skip
    data = _form(proposal, lines, title="Website and training", net_days="45",
                 dlv_label=["Kick-off"], dlv_date=[""], dlv_offset_days=["7"])  # fmt: skip
    response = rep_client.post(reverse("proposals:detail", args=[proposal.pk]), data)
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.title == "Website and training" and proposal.net_days == 45
    assert proposal.payment_terms == "net" and proposal.instalments == []
    assert proposal.delivery == [{"label": "Kick-off", "offset_days": 7}]
    saved = list(proposal.lines.all())
    assert [(line.name, line.discount_value) for line in saved] == [
        ("Website build", Decimal("10")),
        ("Training", Decimal("1.5")),
    ]
    assert saved[0].product == website and saved[1].unit == "hour"
    page = rep_client.get(response["Location"]).content.decode()
    # 3600 + 19 % = 4284; 241.50 − 1.50 = 240 + 7 % = 256.80
    assert "€4,540.80" in page


def test_reordering_is_the_order_posted(rep_client: Any, proposal: Proposal):
    lines = [{"name": "B", "unit_price": "1"}, {"name": "A", "unit_price": "2"}]
    rep_client.post(reverse("proposals:detail", args=[proposal.pk]), _form(proposal, lines))
    assert [line.name for line in proposal.lines.all()] == ["B", "A"]


def test_a_bad_line_is_shown_with_the_form_and_nothing_changes(rep_client: Any, proposal: Proposal):
    lines = [{"name": "Website", "unit_price": "100"}, {"name": "Odd", "quantity": "-2"}]
    response = rep_client.post(
        reverse("proposals:detail", args=[proposal.pk]), _form(proposal, lines, title="Changed")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Line 2 (Odd): the quantity must be more than 0." in html
    assert 'value="-2"' in html  # what was typed is shown again
    proposal.refresh_from_db()
    assert proposal.title == "Proposal for New website" and proposal.lines.count() == 2


def test_a_bad_instalment_plan_is_named(rep_client: Any, proposal: Proposal):
    data = _form(proposal, [{"name": "Website", "unit_price": "100"}], payment_terms="instalments",
                 inst_label=["Deposit"], inst_percent=["40"], inst_due=["acceptance"])  # fmt: skip
    html = rep_client.post(reverse("proposals:detail", args=[proposal.pk]), data).content.decode()
    assert "The instalments add up to 40 %, not 100 %." in html


def test_an_unknown_merge_field_is_refused(rep_client: Any, proposal: Proposal):
    data = _form(proposal, [], intro="Hello {{ contact.shoe_size }}")
    html = rep_client.post(reverse("proposals:detail", args=[proposal.pk]), data).content.decode()
    assert "Unknown merge field: {{ contact.shoe_size }}" in html
    proposal.refresh_from_db()
    assert "shoe_size" not in proposal.intro


def test_a_stale_save_is_refused_and_the_form_shown_again(
    rep: Any, rep_client: Any, proposal: Proposal
):
    opened = _form(proposal, [{"name": "Mine", "unit_price": "5"}], title="My title")
    proposal_update(actor=rep, proposal=proposal, title="Someone else's title")
    response = rep_client.post(reverse("proposals:detail", args=[proposal.pk]), opened)
    html = response.content.decode()
    assert response.status_code == 200
    assert "was changed by someone else since you opened it" in html
    assert 'value="My title"' in html and 'value="Mine"' in html
    proposal.refresh_from_db()
    assert proposal.title == "Someone else's title" and proposal.lines.count() == 2


def test_live_totals_of_unsaved_lines(rep_client: Any, proposal: Proposal):
    url = reverse("proposals:totals", args=[proposal.pk])
    lines = [
        {"name": "A", "quantity": "0.3333", "unit_price": "10", "tax_rate": "19"},
        {"name": "B", "unit_price": "20", "discount_value": "100", "tax_rate": "7"},
        {"name": "C", "unit_price": "9.99", "tax_rate": "19", "billing": "yearly"},
    ]
    html = rep_client.post(url, _form(proposal, lines)).content.decode()
    assert "€23.33" in html  # 3.33 + 20.00 subtotal
    assert "−€20.00" in html  # the 100 % discount
    assert "€0.63" in html  # 19 % of 3.33
    assert "€3.96" in html  # one-off total
    assert "Yearly (recurring)" in html and "€11.89" in html  # apart: 9.99 + 1.90
    bad = rep_client.post(url, _form(proposal, [{"name": "X", "discount_value": "120"}]))
    assert "a discount cannot be more than 100 %" in bad.content.decode()
    proposal.refresh_from_db()
    assert proposal.lines.count() == 2  # nothing saved


def test_a_product_of_another_currency_is_refused(admin: Any, rep_client: Any, proposal: Proposal):
    dollars = product_create(actor=admin, name="US support", unit_price="10", currency="USD")
    data = _form(proposal, [{"product": str(dollars.pk), "name": "US support"}])
    html = rep_client.post(reverse("proposals:detail", args=[proposal.pk]), data).content.decode()
    assert "US support is priced in USD, this proposal is in EUR." in html


def test_a_closed_proposal_cannot_be_saved(rep_client: Any, proposal: Proposal):
    Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.ACCEPTED)
    page = rep_client.get(reverse("proposals:detail", args=[proposal.pk])).content.decode()
    assert "it can no longer be changed" in page and "Save proposal" not in page
    proposal.refresh_from_db()
    response = rep_client.post(
        reverse("proposals:detail", args=[proposal.pk]), _form(proposal, [], title="Late")
    )
    assert "it is closed" in response.content.decode()


def test_invisible_proposals_answer_404(outsider_client: Any, proposal: Proposal, website: Product):
    pk = proposal.pk
    for url in (
        reverse("proposals:detail", args=[pk]),
        reverse("proposals:totals", args=[pk]),
        reverse("proposals:materials", args=[pk]),
    ):
        assert outsider_client.get(url).status_code in (404, 405)
        assert outsider_client.post(url, _form(proposal, [], title="Hacked")).status_code == 404
    assert outsider_client.get(reverse("proposals:new", args=[proposal.deal_id])).status_code == 404
    proposal.refresh_from_db()
    assert proposal.title != "Hacked"


def test_the_proposal_page_query_count_does_not_grow_with_lines(
    rep: Any, rep_client: Any, proposal: Proposal
):
    url = reverse("proposals:detail", args=[proposal.pk])
    rep_client.get(url)
    with CaptureQueriesContext(connection) as two_lines:
        rep_client.get(url)
    proposal_lines_set(
        actor=rep,
        proposal=proposal,
        lines=[LineIn(name=f"Line {i}", unit_price="10") for i in range(30)],
    )
    with CaptureQueriesContext(connection) as thirty_lines:
        assert rep_client.get(url).status_code == 200
    # the editor, the send panel and the approval panel each read the lines once
    # (free-text lines need no product query, so it may even be one fewer)
    assert len(thirty_lines) <= len(two_lines) <= 20


def test_the_deal_page_query_count_does_not_grow_with_proposals(
    rep: Any, rep_client: Any, bakery_deal: Any, django_assert_num_queries: Any
):
    url = reverse("pipeline:deal_detail", args=[bakery_deal.pk])
    proposal_create(actor=rep, deal=bakery_deal, title="One")
    rep_client.get(url)
    with CaptureQueriesContext(connection) as one:
        rep_client.get(url)
    for i in range(5):
        p = proposal_create(actor=rep, deal=bakery_deal, title=f"More {i}")
        proposal_lines_set(actor=rep, proposal=p, lines=[LineIn(name="X", unit_price="1")])
    with django_assert_num_queries(len(one)):
        html = rep_client.get(url).content.decode()
    assert "More 4" in html
