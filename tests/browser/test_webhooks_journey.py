"""Webhooks in a real browser: a rep subscribes from the profile, sends a test ping, and sees it
delivered (with the receiver's answer) in the subscription's log; then a won deal arrives too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from closeloop.integrations.models import WebhookSubscription
from closeloop.pipeline.services import deal_mark_won
from tests.integrations.documented import documented_verify
from tests.integrations.receiver import receiver as receiver
from tests.worker import run_worker

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_subscribe_ping_and_read_the_delivery_log(page, live_server, rep, bakery_deal, receiver):
    log_in(page, live_server, rep.email, "correct-horse-battery")
    page.get_by_role("link", name="Profile").click()
    page.get_by_role("link", name="Your webhook subscriptions").click()
    expect(page.get_by_text("No webhooks yet")).to_be_visible()
    page.get_by_role("link", name="Add subscription").click()

    page.get_by_label("URL").fill("ftp://files.example.com/")
    page.get_by_label("deal.won — A deal was won.").check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("is not an http:// or https:// address")).to_be_visible()

    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Description").fill("Shop <test>")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_text("Subscribed.")).to_be_visible()
    subscription = WebhookSubscription.objects.get()
    expect(page.locator("#webhook-secret")).to_have_text(subscription.secret)
    expect(page.get_by_text("Shop <test>")).to_be_visible()

    page.get_by_role("button", name="Send test ping").click()
    expect(page.get_by_text("A test ping is on its way")).to_be_visible()
    run_worker()
    page.reload()
    row = page.locator("#webhook-deliveries tbody tr").first
    expect(row).to_contain_text("ping")
    expect(row).to_contain_text("Delivered")
    expect(row).to_contain_text("200")

    deal_mark_won(actor=rep, deal=bakery_deal)
    run_worker()
    page.reload()
    expect(page.locator("#webhook-deliveries tbody tr")).to_have_count(2)
    page.locator("#webhook-deliveries tbody tr").first.get_by_role("link", name="deal.won").click()
    expect(page.locator("#delivery-state")).to_contain_text("Delivered")
    expect(page.locator("#webhook-attempts")).to_contain_text('{"ok": true}')

    verify = documented_verify()
    for request in receiver.received:
        assert verify(subscription.secret, request.body, request.headers["Closeloop-Signature"])
    assert [r.json["type"] for r in receiver.received] == ["ping", "deal.won"]
