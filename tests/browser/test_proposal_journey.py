"""The whole proposal journey in a real browser: a rep builds a proposal from a template on the
deal page, sends it from the proposal page, the customer accepts it, and the deal is won."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from closeloop.messaging.models import Message
from closeloop.pipeline.choices import DealStatus
from closeloop.proposals.models import Proposal, ProposalResponse
from closeloop.proposals.services import LineIn, product_create, template_save
from tests.factories import (
    PASSWORD,
    ContactEmailFactory,
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    stage_named,
)

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_rep_sends_a_proposal_and_the_customer_accepts_it(browser, page, live_server, admin, rep):
    website = product_create(
        actor=admin, name="Website build", unit="project", unit_price=Decimal("4000"),
        currency="EUR", tax_rate=Decimal("19"),
    )  # fmt: skip
    template = template_save(
        actor=admin, name="Website package", currency="EUR",
        intro="Dear {{ contact.first_name }}, here is our offer.",
        lines=[LineIn(product=website)],
    )  # fmt: skip
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(
        first_name="Lena", last_name="Lind", organization=organization, owner=rep
    )
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    deal = DealFactory(
        title="New website", owner=rep, organization=organization, contact=contact,
        stage=stage_named("Demo / meeting"),
    )  # fmt: skip
    pipeline = deal.pipeline
    pipeline.win_on_acceptance = True
    pipeline.save()

    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.locator("#deal-proposals").get_by_role("link", name="New proposal").click()
    page.get_by_label(template.name).check()
    page.get_by_role("button", name="Start proposal").click()
    proposal = Proposal.objects.get(deal=deal)
    page.wait_for_url(f"{live_server.url}/proposals/{proposal.pk}/")
    expect(page.locator("#totals")).to_contain_text("€4,760.00")
    # sending is on the proposal page itself
    expect(page.get_by_text("Empty “To” sends to Lena Lind")).to_be_visible()
    page.get_by_role("textbox", name="Message").fill("As promised, our offer.")
    page.get_by_role("textbox", name="Negotiation note").fill("first offer")
    page.get_by_role("button", name="Send").click()
    expect(
        page.get_by_text("Version 1 of “Proposal for New website” is on its way")
    ).to_be_visible()

    # the customer opens the link from the email, with no account
    link = re.search(r"https?://\S+/p/\S+/", Message.objects.get().text_body).group(0)  # type: ignore[union-attr]
    customer = browser.new_context().new_page()
    customer.goto(live_server.url + urlsplit(link).path)
    expect(customer.get_by_role("heading", name="Proposal for New website")).to_be_visible()
    expect(customer.get_by_text("Dear Lena, here is our offer.")).to_be_visible()
    expect(customer.locator("table.totals").first).to_contain_text("€4,760.00")
    customer.get_by_role("button", name="Accept proposal").click()
    expect(customer.get_by_text("Type your full name to accept.")).to_be_visible()
    customer.get_by_label("Your full name").fill("Lena Lind")
    customer.get_by_label("I accept this proposal").check()
    customer.get_by_role("button", name="Accept proposal").click()
    expect(customer.get_by_text("Accepted by Lena Lind")).to_be_visible()
    expect(customer.get_by_role("button", name="Accept proposal")).to_have_count(0)
    customer.context.close()

    assert ProposalResponse.objects.get().name == "Lena Lind"
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.locator(".badge.won").get_by_text("Won", exact=True)).to_be_visible()
    expect(page.get_by_text("won automatically").first).to_be_visible()
    deal.refresh_from_db()
    assert deal.status == DealStatus.WON and deal.value == Decimal("4760.00")
    assert deal.stage.name == "Proposal"  # the first send moved it forward
