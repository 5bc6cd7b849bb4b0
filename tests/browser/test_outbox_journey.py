"""The Outbox in a real browser: held mail read like a mail catcher, its HTML part inert."""

from __future__ import annotations

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from closeloop.messaging.services import message_queue
from tests.messaging.conftest import run_worker

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_held_mail_is_readable_and_its_html_cannot_run_scripts(page, live_server, rep):
    message_queue(
        actor=rep,
        to="Lena Lead <lena@example.org>",
        subject="Your quote",
        text_body="Hello Lena, the quote is attached.",
        html_body=(
            "<p>Hello <b>Lena</b></p><script>document.body.setAttribute('data-ran', 'yes')</script>"
        ),
    )
    with override_settings(EMAIL_URL=""):
        run_worker()

        log_in(page, live_server, rep.email, "correct-horse-battery")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Outbox").click()
        expect(page.get_by_text("No mail server is configured")).to_be_visible()
        row = page.get_by_role("row", name="Your quote")
        expect(row).to_contain_text("Not sent (no mail server)")
        row.get_by_role("link", name="Your quote").click()

        expect(page.get_by_text("Hello Lena, the quote is attached.")).to_be_visible()
        frame = page.frame_locator("iframe.mail-html")
        expect(frame.locator("b")).to_have_text("Lena")
        expect(frame.locator("body")).not_to_have_attribute("data-ran", "yes")

        page.get_by_role("button", name="Resend").click()
        expect(page.get_by_text("The message is queued again")).to_be_visible()
        expect(page.locator(".page-head .badge")).to_have_text("Queued")
