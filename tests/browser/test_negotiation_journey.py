"""A rep asks for a discount, a manager approves it from the inbox, and the next version shows
what changed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from closeloop.proposals.choices import ApprovalState
from closeloop.proposals.models import DiscountApproval
from closeloop.proposals.services import (
    LineIn,
    discount_limit_set,
    product_create,
    proposal_create,
    proposal_lines_set,
    send_blocker,
    version_freeze,
)
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_ask_approve_and_see_what_changed(  # type: ignore[no-untyped-def]
    page, browser, live_server, rep, manager, admin, bakery_deal
):
    discount_limit_set(actor=admin, role="rep", max_percent="10")
    website = product_create(
        actor=admin, name="Website build", unit_price=Decimal("4000"), currency="EUR"
    )
    proposal = proposal_create(actor=rep, deal=bakery_deal, title="Website offer")
    proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=website)])
    version_freeze(actor=rep, proposal=proposal, note="First offer")
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, discount_value="15")]
    )

    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/proposals/{proposal.pk}/")
    panel = page.get_by_label("Discount approval")
    expect(panel).to_contain_text("15.0 % discount, above the 10 % you may give")
    panel.get_by_label("Why is this discount needed?").fill("Three-year customer")
    panel.get_by_role("button", name="Request approval").click()
    expect(page.get_by_label("Discount approval")).to_contain_text(
        "waiting for a manager's approval"
    )

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    boss = context.new_page()
    log_in(boss, live_server, manager.email, PASSWORD)
    boss.goto(f"{live_server.url}/proposals/approvals/")
    row = boss.get_by_role("row", name="Website offer")
    row.get_by_label("Note for Website offer").fill("OK this once")
    row.get_by_role("button", name="Approve").click()
    expect(boss.locator(".messages")).to_contain_text("is approved")
    expect(boss.get_by_text("Nothing waits for your approval.")).to_be_visible()
    context.close()

    assert DiscountApproval.objects.get().state == ApprovalState.APPROVED
    assert send_blocker(proposal, actor=rep) is None
    version_freeze(actor=rep, proposal=proposal, note="Customer asked for 15 %")

    page.reload()
    expect(page.get_by_label("Discount approval")).to_contain_text("OK this once")
    page.get_by_label("Versions").get_by_role("link", name="Version 2").click()
    expect(page.get_by_role("heading", name="What changed since version 1")).to_be_visible()
    expect(page.locator(".diff")).to_contain_text("discount: 0 % → 15 %")
    page.get_by_label("Negotiation note").fill("Customer asked for 15 % for three years")
    page.get_by_role("button", name="Save note").click()
    expect(page.locator(".messages")).to_contain_text("The note on version 2 is saved.")
