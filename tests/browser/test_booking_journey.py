"""A visitor books a demo on a rep's public page in a real browser; the rep sees it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import Resolver404, resolve
from playwright.sync_api import expect

from closeloop.activities.booking.models import Booking
from closeloop.activities.booking.services import (
    MeetingTypeInput,
    availability_set,
    booking_page_save,
    meeting_type_save,
)
from closeloop.activities.booking.slots import WeeklyWindow
from tests.factories import (
    PASSWORD,
    ContactEmailFactory,
    ContactFactory,
    DealFactory,
    OrganizationFactory,
)

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_visitor_books_a_demo_and_the_rep_sees_it_on_the_deal(browser, live_server, rep):
    rep.time_zone = "Europe/Berlin"
    rep.save(update_fields=["time_zone"])
    availability_set(
        actor=rep,
        user=rep,
        windows=[WeeklyWindow(d, dt.time(0), dt.time(23, 30)) for d in range(7)],
    )
    page_ = booking_page_save(actor=rep, owner=rep, slug="rita", title="Book a demo with Rita")
    meeting_type_save(
        actor=rep, page=page_,
        data=MeetingTypeInput(name="Product demo", kind="demo", duration_minutes=30,
                              location="https://meet.example/rita", notice_hours=1),
    )  # fmt: skip
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(
        first_name="Lena", last_name="Lind", organization=organization, owner=rep
    )
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    deal = DealFactory(title="New website", owner=rep, organization=organization, contact=contact)

    # The visitor's browser is in New York: the page picks that zone up by itself.
    visitor = browser.new_context(
        timezone_id="America/New_York", viewport={"width": 1280, "height": 900}
    )
    tab = visitor.new_page()
    tab.set_default_timeout(10_000)
    tab.goto(f"{live_server.url}/book/rita/")
    expect(tab.get_by_role("heading", name="Book a demo with Rita")).to_be_visible()
    tab.get_by_role("link", name="Product demo").click()
    tab.wait_for_url("**tz=America%2FNew_York**")
    expect(tab.get_by_label("Times shown in")).to_have_value("America/New_York")
    first_slot = tab.locator(".slot-list a").first
    chosen = first_slot.inner_text()
    first_slot.click()
    tab.get_by_label("Your name").fill("Lena Lind")
    tab.get_by_label("Your email").fill("lena@bakery.example")
    tab.get_by_label("Company").fill("Bakery Lind")
    tab.get_by_label("Anything we should know?").fill("Can it print receipts?")
    tab.get_by_role("button", name="Book Product demo").click()
    expect(tab.get_by_role("heading", name="You are booked")).to_be_visible()
    expect(tab.get_by_text(chosen, exact=False).first).to_be_visible()
    visitor.close()

    booking = Booking.objects.get()
    activity = booking.activity
    assert activity.deal == deal and activity.owner == rep and activity.kind == "demo"
    assert activity.due_at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") == chosen

    rep_context = browser.new_context(viewport={"width": 1280, "height": 900})
    rep_tab = rep_context.new_page()
    rep_tab.set_default_timeout(10_000)
    log_in(rep_tab, live_server, rep.email, PASSWORD)
    rep_tab.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(rep_tab.locator("#timeline")).to_contain_text("Product demo: Lena Lind with")
    try:
        resolve("/work/")
    except Resolver404:
        pass
    else:  # "My work" is built alongside; when it is there, the demo shows on it too
        rep_tab.goto(f"{live_server.url}/work/")
        expect(rep_tab.get_by_text("Product demo: Lena Lind with").first).to_be_visible()
    rep_context.close()
