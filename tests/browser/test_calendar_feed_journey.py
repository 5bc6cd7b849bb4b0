"""The calendar section of the profile in a real browser: create, copy and reset the feed link."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from closeloop.activities.choices import ActivityKind
from closeloop.activities.services import activity_schedule
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rep_subscribes_to_their_feed_and_resets_the_link(
    page, live_server, settings, rep, bakery_deal
):
    settings.SITE_URL = live_server.url
    activity_schedule(
        actor=rep, kind=ActivityKind.DEMO, subject="Bakery demo", deal=bakery_deal,
        starts_at=timezone.now() + dt.timedelta(days=2), send_invites=False,
    )  # fmt: skip
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/accounts/profile/")

    page.get_by_role("button", name="Create feed link").click()
    expect(page.get_by_text("Your calendar feed link is ready.")).to_be_visible()
    link = page.get_by_label("Feed link").input_value()
    assert link.startswith(f"{live_server.url}/calendar/") and link.endswith(".ics")
    webcal = page.get_by_role("link", name="Open in calendar app").get_attribute("href")
    assert webcal == "webcal://" + link.split("://", 1)[1]

    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link

    feed = page.request.get(link)
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Bakery demo" in feed.text()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset link").click()
    expect(page.get_by_text("the old one no longer works")).to_be_visible()
    new_link = page.get_by_label("Feed link").input_value()
    assert new_link != link
    assert page.request.get(link).status == 404
    assert page.request.get(new_link).status == 200

    page.get_by_label("Meeting reminders").select_option(label="1 hour before")
    page.get_by_label("Send me a morning digest").check()
    page.get_by_label("Digest at").select_option("8")
    page.get_by_role("button", name="Save reminders").click()
    expect(page.get_by_text("Your reminder settings are saved.")).to_be_visible()
    rep.refresh_from_db()
    assert (rep.reminder_minutes, rep.digest_enabled, rep.digest_hour) == (60, True, 8)
    expect(page.get_by_label("Meeting reminders")).to_have_value("60")
