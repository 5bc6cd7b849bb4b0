"""The dashboards in a real browser: a rep's figures on the home page lead to their reports,
and the manager dashboard shows the team's figures and owners."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import PASSWORD, DealFactory, stage_named

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(page, live_server, user) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_my_figures_lead_to_my_funnel(page, live_server, rep, teammate):
    DealFactory(owner=rep, title="Bakery site", stage=stage_named("Proposal"), value=Decimal(4000))
    DealFactory(owner=teammate, title="Gym app", stage=stage_named("Proposal"), value=Decimal(900))
    _log_in(page, live_server, rep)

    mine = page.get_by_role("region", name="My figures")
    expect(mine.locator('[data-figure="opened"] .key-figure-value')).to_have_text("1")
    expect(mine.locator('[data-figure="open_value"] .key-figure-value')).to_have_text("€4,000")
    expect(mine.locator('[data-figure="weighted_value"] .key-figure-value')).to_have_text("€2,000")
    mine.locator('[data-figure="opened"] a').click()
    expect(page.get_by_role("heading", name="Funnel", level=1)).to_be_visible()
    assert f"owner={rep.pk}" in page.url
    expect(page.get_by_label("Owner")).to_have_value(str(rep.pk))


def test_the_manager_dashboard_shows_the_team(page, live_server, manager, rep, teammate):
    DealFactory(owner=rep, title="Bakery site", stage=stage_named("Proposal"), value=Decimal(4000))
    DealFactory(owner=teammate, title="Gym app", stage=stage_named("Proposal"), value=Decimal(900))
    _log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/analytics/")

    figures = page.get_by_role("region", name="Key figures")
    expect(figures.locator('[data-figure="opened"] .key-figure-value')).to_have_text("2")
    expect(figures.locator('[data-figure="open_value"] .key-figure-value')).to_have_text("€4,900")
    expect(page.get_by_role("region", name="Top insights")).to_contain_text("All insights")
    page.get_by_label("Period").select_option("this_year")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Period")).to_have_value("this_year")
    year = timezone.localdate().year
    expect(figures).to_contain_text(
        f"1 Jan {year} – 31 Dec {year}, against 1 Jan {year - 1} – 31 Dec {year - 1}"
    )
