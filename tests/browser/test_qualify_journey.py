"""A rep fills a lead's scorecard in Chromium until it passes, qualifies it, finds the deal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from closeloop.leads.models import Lead, Source
from closeloop.pipeline.models import Deal
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def _answer(page, name: str, status: str) -> None:  # type: ignore[no-untyped-def]
    item = page.locator(f'form.scorecard-item[aria-label="{name}"]')
    item.get_by_label(f"{name} status").select_option(status)
    item.get_by_role("button", name=f"Save {name}").click()


def test_fill_scorecard_qualify_and_find_the_deal_on_the_board(page, live_server, rep):
    lead = Lead.objects.create(
        owner=rep,
        first_name="Ada",
        last_name="Lovelace",
        email="ada@engines.example",
        company_name="Analytical Engines",
        company_domain="engines.example",
        source=Source.objects.get_or_create(name="Referral")[0],
        utm_campaign="autumn",
    )
    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    score = page.locator('#scorecard [data-role="score"]')
    expect(score).to_have_text("0 / 100")

    budget = page.locator('form.scorecard-item[aria-label="Budget"]')
    budget.get_by_label("Budget status").select_option("yes")
    budget.get_by_label("Budget from").fill("8000")
    budget.get_by_label("Budget to").fill("12000")
    budget.get_by_label("Budget currency").fill("EUR")
    budget.get_by_role("button", name="Save Budget").click()
    expect(score).to_have_text("25 / 100")  # saved by htmx, no reload
    _answer(page, "Need", "yes")
    expect(score).to_have_text("50 / 100")
    _answer(page, "Authority", "partly")
    expect(score).to_have_text("63 / 100")
    expect(page.locator('#scorecard [data-role="gaps"]')).to_contain_text(
        "Missing: Authority, Timeline."
    )

    page.reload()  # the outcome card follows the saved score
    page.get_by_role("link", name="Qualify…").click()
    page.get_by_label("Deal title").fill("Difference engine")
    page.get_by_role("button", name="Qualify and create the deal").click()

    deal = Deal.objects.get()
    page.wait_for_url(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.locator("body")).to_contain_text("is sales-qualified")
    panel = page.locator("#from-lead")
    expect(panel).to_contain_text("Score")
    expect(panel).to_contain_text("Referral")
    expect(panel).to_contain_text("autumn")
    assert deal.value == 12000 and deal.lead_id == lead.pk

    page.goto(f"{live_server.url}/deals/board/")
    expect(page.locator(f'.deal-card[data-deal="{deal.pk}"]')).to_contain_text("Difference engine")
