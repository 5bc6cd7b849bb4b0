"""Targets and the team report in a real browser: a manager sets a target, the chart shows it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from closeloop.pipeline import services
from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD, stage_named

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_sets_a_target_and_sees_it_against_the_won_value(
    page, live_server, admin, manager, rep
):
    deal = services.deal_create(
        actor=admin, title="Bakery site", stage=stage_named("Proposal"), owner=rep,
        value=Decimal("6000"), currency="EUR",
    )  # fmt: skip
    services.deal_mark_won(actor=admin, deal=deal)
    month = timezone.localdate().strftime("%Y-%m")

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/analytics/targets/?month={month}")
    page.get_by_label("Won value of Rita Rep").fill("8000")
    page.get_by_role("button", name="Save targets").click()
    expect(page.get_by_text("saved (1 changed)")).to_be_visible()

    page.goto(f"{live_server.url}/analytics/team/?period=this_month")
    chart = page.locator("figure.chart svg").first
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).not_to_have_count(0)
    targets = page.locator('table[data-table="targets"]')
    expect(targets.locator("tr", has_text="Rita Rep")).to_contain_text("75.0")  # 6000 of 8000
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "team-report.png"), full_page=True)
