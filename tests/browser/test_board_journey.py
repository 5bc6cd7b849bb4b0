"""The board in a real browser: drag between stages, and drop on Lost with its reason form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from tests.factories import PASSWORD, DealFactory, stage_named

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _column(page, name: str):  # type: ignore[no-untyped-def]
    return page.locator(f'section.column[aria-label="{name}"]')


def _drag(page, card, target_selector: str) -> None:  # type: ignore[no-untyped-def]
    """Drag with real mouse events, so the page's own drag-and-drop code runs."""
    box = card.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 30, box["y"] + box["height"] / 2 + 10, steps=5)
    target = page.locator(target_selector)
    expect(target).to_be_visible()
    tbox = target.bounding_box()
    page.mouse.move(tbox["x"] + tbox["width"] / 2, tbox["y"] + tbox["height"] / 2, steps=10)
    page.mouse.up()


def test_drag_card_to_next_stage_updates_totals(page, live_server, rep):
    deal = DealFactory(
        owner=rep, title="Bakery website", stage=stage_named("Proposal"), value=Decimal("4000")
    )
    DealFactory(
        owner=rep, title="Fitness app", stage=stage_named("Proposal"), value=Decimal("1000")
    )
    log_in(page, live_server, rep.email, PASSWORD)
    proposal, negotiation = _column(page, "Proposal"), _column(page, "Negotiation / commitment")
    expect(proposal.locator('[data-role="total"]')).to_have_text("€5,000")
    expect(negotiation.locator('[data-role="count"]')).to_have_text("0")

    card = page.locator(f'.deal-card[data-deal="{deal.pk}"]')
    _drag(page, card, 'section.column[aria-label="Negotiation / commitment"] .column-cards')

    expect(negotiation.locator('[data-role="count"]')).to_have_text("1")
    expect(negotiation.locator('[data-role="total"]')).to_have_text("€4,000")
    expect(negotiation.locator('[data-role="weighted"]')).to_have_text("€3,200")
    expect(proposal.locator('[data-role="count"]')).to_have_text("1")
    expect(proposal.locator('[data-role="total"]')).to_have_text("€1,000")
    expect(negotiation.locator(f'.deal-card[data-deal="{deal.pk}"]')).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage.name == "Negotiation / commitment"
    # the move survives a reload
    page.reload()
    expect(_column(page, "Negotiation / commitment").get_by_text("Bakery website")).to_be_visible()


def test_drop_on_lost_asks_for_reason_then_deal_shows_lost_at_stage(page, live_server, rep):
    deal = DealFactory(owner=rep, title="Dental chairs", stage=stage_named("Proposal"))
    log_in(page, live_server, rep.email, PASSWORD)
    card = page.locator(f'.deal-card[data-deal="{deal.pk}"]')
    _drag(page, card, '.dropzone[data-drop="lost"]')

    dialog = page.locator("#lose-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Dental chairs")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(dialog).to_be_visible()  # the reason is required: nothing was sent
    assert Deal.objects.get(pk=deal.pk).status == DealStatus.OPEN

    dialog.get_by_label("Reason").select_option(label="Price")
    dialog.get_by_label("Competitor").fill("Cheap Chairs Ltd")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f'.deal-card[data-deal="{deal.pk}"]')).to_have_count(0)
    expect(_column(page, "Proposal").locator('[data-role="count"]')).to_have_text("0")

    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.locator("h1")).to_contain_text("Lost at Proposal")
    expect(page.locator("dl.fields")).to_contain_text("Cheap Chairs Ltd")


def test_refused_move_snaps_back_with_the_reason(page, live_server, rep):
    deal = DealFactory(owner=rep, title="Print run", stage=stage_named("Proposal"))
    log_in(page, live_server, rep.email, PASSWORD)
    # someone else closes the deal after the board was loaded
    Deal.objects.filter(pk=deal.pk).update(status=DealStatus.WON, version=deal.version + 1)
    card = page.locator(f'.deal-card[data-deal="{deal.pk}"]')
    _drag(page, card, 'section.column[aria-label="Demo / meeting"] .column-cards')
    expect(page.locator("#toast")).to_contain_text("changed by someone else")
    expect(_column(page, "Proposal").locator(f'.deal-card[data-deal="{deal.pk}"]')).to_be_visible()
