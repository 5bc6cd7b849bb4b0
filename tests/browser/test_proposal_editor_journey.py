"""A rep builds a proposal from a template on a deal in a real browser: edits a line, adds one
from the catalogue, watches the totals follow, reorders, and saves."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from closeloop.proposals.models import Proposal
from closeloop.proposals.services import LineIn, product_create, template_save
from tests.factories import PASSWORD, DealFactory

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_rep_builds_a_proposal_from_a_template(page, live_server, rep, admin):
    website = product_create(actor=admin, name="Website build", unit_price="4000",
                             currency="EUR", tax_rate="19", unit="project")  # fmt: skip
    product_create(actor=admin, name="Hosting", unit_price="49", currency="EUR",
                   tax_rate="19", unit="month", billing="monthly")  # fmt: skip
    template_save(
        actor=admin,
        name="Website package",
        currency="EUR",
        intro="Dear {{ contact.first_name }},",
        lines=[LineIn(product=website)],
    )
    deal = DealFactory(owner=rep, title="Bakery website")
    log_in(page, live_server, rep.email, PASSWORD)

    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.locator("#deal-proposals").get_by_role("link", name="New proposal").click()
    page.get_by_label("Website package").check()
    page.get_by_role("button", name="Start proposal").click()
    proposal = Proposal.objects.get(deal=deal)
    page.wait_for_url(f"{live_server.url}/proposals/{proposal.pk}/")

    totals = page.locator("#totals")
    expect(totals.locator('[data-billing="one_off"] [data-role="total"]')).to_have_text("€4,760.00")
    # a 10 % discount on the website line: the totals follow without saving
    page.locator('input[name="line_discount_value"]').first.fill("10")
    expect(totals.locator('[data-billing="one_off"] [data-role="total"]')).to_have_text("€4,284.00")
    # a line from the catalogue: choosing the product fills it in, recurring totals apart
    page.get_by_role("button", name="Add line").click()
    row = page.locator("#line-rows tr").nth(1)
    row.get_by_label("Product").select_option(label="Hosting")
    expect(row.get_by_label("Unit price")).to_have_value("49")
    row.get_by_label("Quantity").fill("12")
    expect(totals.locator('[data-billing="monthly"] [data-role="total"]')).to_have_text("€699.72")
    # move hosting to the top, then save
    row.get_by_role("button", name="Move up").click()
    page.get_by_role("button", name="Save proposal").click()
    expect(page.get_by_text("Proposal saved.")).to_be_visible()

    lines = list(proposal.lines.all())
    assert [(line.name, line.quantity, line.discount_value) for line in lines] == [
        ("Hosting", Decimal("12"), Decimal("0")),
        ("Website build", Decimal("1"), Decimal("10")),
    ]
    assert lines[0].billing == "monthly" and lines[0].unit_price == Decimal("49")
    expect(page.locator('input[name="line_name"]').first).to_have_value("Hosting")
    # the deal page lists it
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.locator("#deal-proposals")).to_contain_text("€4,284.00")
