"""A rep schedules a demo from the deal page, finds it in "My work" and the week calendar,
completes it from "My work", and the deal's next step follows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from closeloop.activities.models import Activity
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_schedule_a_demo_see_it_in_my_work_and_the_week_and_complete_it(
    page, live_server, rep, bakery_deal
):  # type: ignore[no-untyped-def]
    log_in(page, live_server, rep.email, PASSWORD)
    card = page.locator(f'.deal-card[data-deal="{bakery_deal.pk}"]')
    expect(card.locator(".badge.no-next-step")).to_be_visible()

    page.goto(f"{live_server.url}/deals/{bakery_deal.pk}/")
    expect(page.locator("#next-step")).to_contain_text("no next step")
    page.get_by_role("link", name="Schedule…").click()
    form = page.locator("form.schedule-form")
    expect(form).to_be_visible()
    day = timezone.localdate() + dt.timedelta(days=1)
    form.get_by_label("Kind").select_option("demo")
    form.get_by_label("Subject").fill("Product demo")
    form.get_by_label("Date").fill(day.isoformat())
    form.get_by_label("Start time").fill("10:00")
    form.get_by_label("End time").fill("11:00")
    form.get_by_label("Location or video link").fill("https://meet.example.com/lena")
    form.get_by_label("Lena Lind <lena@bakery.example>").check()
    form.get_by_role("button", name="Schedule").click()

    page.wait_for_url(f"{live_server.url}/deals/{bakery_deal.pk}/")
    expect(page.locator("#next-step")).to_contain_text("Product demo")
    expect(page.locator("#timeline")).to_contain_text("With Lena Lind")
    demo = Activity.objects.get(subject="Product demo")
    assert demo.attendees.get().email == "lena@bakery.example"

    page.get_by_role("link", name="My work").first.click()
    row = page.locator(f"#act-{demo.pk}")
    expect(row).to_contain_text("Open")
    page.get_by_role("link", name="Week calendar").click()
    page.goto(f"{live_server.url}/work/week/?date={day.isoformat()}")
    item = page.locator(".week-item", has_text="Product demo")
    expect(item).to_contain_text("10:00–11:00")
    assert item.get_attribute("data-day") == str(day.weekday())

    page.goto(f"{live_server.url}/work/")
    row = page.locator(f"#act-{demo.pk}")
    row.get_by_label("Outcome of Product demo").select_option("held")
    row.get_by_role("button", name="Done").click()
    expect(page.locator(f"#act-{demo.pk}")).to_contain_text("Done · Held")
    demo.refresh_from_db()
    assert demo.outcome == "held" and demo.done_at is not None

    page.goto(f"{live_server.url}/deals/{bakery_deal.pk}/")
    expect(page.locator("#next-step")).to_contain_text("no next step")
