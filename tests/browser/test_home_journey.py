"""The home page in a real browser: log in, read the strip, follow a stage to its list."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import Lead
from tests.factories import PASSWORD, DealFactory, stage_named

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_strip_links_to_the_filtered_lists(page, live_server, rep, outsider):
    Lead.objects.create(last_name="Newcomer", owner=rep, status=LeadStatus.NEW)
    Lead.objects.create(last_name="Talking", owner=rep, status=LeadStatus.CONTACTED)
    Lead.objects.create(last_name="Hidden", owner=outsider, status=LeadStatus.NEW)
    DealFactory(
        owner=rep, title="Bakery site", stage=stage_named("Proposal"), value=Decimal("4000")
    )
    DealFactory(
        owner=rep, title="Gym app", stage=stage_named("Proposal"), status="won",
        won_at=timezone.now(), value=Decimal("2500"),
    )  # fmt: skip

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(rep.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    prospects = page.locator('[data-stage="Prospects"]')
    expect(prospects.locator(".count")).to_have_text("1")  # the outsider's lead is not counted
    expect(page.locator('[data-stage="Qualifying"] .count')).to_have_text("1")
    expect(page.locator('[data-stage="Proposal"] .value')).to_have_text("€4,000")
    expect(page.locator('[data-stage="Won"] .value')).to_have_text("€2,500")

    page.get_by_label("Period", exact=True).select_option("year")
    page.get_by_role("button", name="Show").click()
    expect(page.locator('[data-stage="Won"] .count')).to_have_text("1")

    prospects.click()
    expect(page.get_by_text("Newcomer")).to_be_visible()
    expect(page.get_by_text("Talking")).to_have_count(0)

    page.go_back()
    page.locator('[data-stage="Won"]').click()
    expect(page.get_by_text("Gym app")).to_be_visible()
    expect(page.get_by_text("Bakery site")).to_have_count(0)
