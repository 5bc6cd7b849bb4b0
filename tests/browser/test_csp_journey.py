"""The Content-Security-Policy in a real browser: the main pages load without one refusal (the
page fixture fails a test on any), the behaviours moved out of inline handlers still work
(auto-submitting filters, confirm dialogs, tick-all), and only the web form can be framed by
another site, whose thank-you address the form may send visitors on to."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from closeloop.leads.models import Lead
from closeloop.leads.services import LeadInput, lead_create
from closeloop.leads.webforms import (
    WebFormField,
    WebFormInput,
    webform_create,
    webform_public_token,
)
from closeloop.messaging.services import message_queue
from closeloop.proposals.services import proposal_create
from tests.factories import PASSWORD, DealFactory, stage_named

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_main_pages_run_under_the_policy(page, live_server, admin, rep, csp_violations):
    deal = DealFactory(owner=rep, title="Dental chairs", stage=stage_named("Proposal"))
    proposal = proposal_create(actor=admin, deal=deal, title="Chairs offer")
    jon = LeadInput(first_name="Jon", last_name="Smith", email="jon@acme.example")
    lead_create(actor=admin, data=jon)
    message = message_queue(actor=admin, to="lena@example.org", subject="Quote",
                            text_body="Hi", html_body="<p>Hi <b>Lena</b></p>")  # fmt: skip
    log_in(page, live_server, admin.email, PASSWORD)
    for path, visible in [
        ("/deals/board/", "Dental chairs"),
        ("/leads/", "Jon Smith"),
        (f"/deals/{deal.pk}/", "Dental chairs"),
        (f"/proposals/{proposal.pk}/", "Chairs offer"),
        ("/analytics/", "Analytics"),
        ("/settings/users/", "Rita Rep"),
        ("/settings/workspace/", "What sales reps see"),
        ("/accounts/profile/", "Time zone"),
        (f"/outbox/{message.pk}/", "Quote"),
        ("/admin/", "Site administration"),
    ]:
        page.goto(live_server.url + path)
        expect(page.locator("body")).to_contain_text(visible)
        page.wait_for_load_state("networkidle")
        assert csp_violations == [], path
    # the email's HTML part is framed from our own origin, under its own stricter policy
    page.goto(f"{live_server.url}/outbox/{message.pk}/")
    expect(page.frame_locator("iframe.mail-html").locator("b")).to_have_text("Lena")
    # the API docs run Swagger UI from our static files
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert csp_violations == []


def test_filters_submit_and_confirm_dialogs_ask_from_the_script(page, live_server, admin, rep):
    DealFactory(owner=rep, title="Rita's deal", stage=stage_named("Proposal"))
    DealFactory(owner=admin, title="Ada's deal", stage=stage_named("Proposal"))
    for n in range(3):
        lead_create(actor=admin, data=LeadInput(first_name=f"Lead{n}", last_name="Test",
                                                email=f"lead{n}@example.com"))  # fmt: skip
    dialogs: list[str] = []
    log_in(page, live_server, admin.email, PASSWORD)

    # the board's owner filter submits itself when changed
    page.get_by_label("Owner").select_option(label=rep.display_name)
    expect(page).to_have_url(re.compile(rf"owner={rep.pk}"))
    expect(page.locator("#board")).to_contain_text("Rita's deal")
    expect(page.locator("#board")).not_to_contain_text("Ada's deal")

    # the lead list: tick all, then Delete asks first; "no" sends nothing
    page.goto(f"{live_server.url}/leads/")
    page.get_by_label("Tick all leads on this page").check()
    boxes = page.locator('#bulk-form input[name="ids"]')
    expect(boxes).to_have_count(3)
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    page.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Delete").click()
    assert dialogs == ["Move the ticked leads to the trash?"]
    expect(page).to_have_url(f"{live_server.url}/leads/")
    assert Lead.objects.filter(deleted_at__isnull=True).count() == 3
    # "yes" sends it
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".messages")).to_be_visible()
    assert len(dialogs) == 2
    assert Lead.objects.filter(deleted_at__isnull=True).count() == 0


@pytest.fixture
def customer_site() -> Iterator[dict[str, str]]:
    """Another origin on this machine (Chromium keeps public sites from framing local ones, so
    the customer's site must be local too): `pages` maps a path to the HTML it answers."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0], "not found").encode()
            self.send_response(200 if self.path.split("?")[0] in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pages["origin"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield pages
    server.shutdown()
    server.server_close()


def test_only_the_web_form_can_be_framed_by_another_site(
    page, live_server, admin, csp_violations, customer_site
):
    site = customer_site["origin"]
    assert not live_server.url.startswith(site)  # another origin (localhost vs 127.0.0.1)
    fields = [WebFormField("email", "Your email", required=True)]
    webform = webform_create(actor=admin, data=WebFormInput(
        name="Contact us", fields=fields, redirect_url=f"{site}/thanks",
    ))  # fmt: skip
    form_url = f"{live_server.url}/f/{webform_public_token(webform)}/"
    customer_site["/"] = (
        f'<iframe id="form" src="{form_url}"></iframe>'
        f'<iframe id="login" src="{live_server.url}/accounts/login/"></iframe>'
    )
    customer_site["/thanks"] = "<h1>Thank you from the customer's site</h1>"
    page.goto(f"{site}/")
    expect(page.frame_locator("#form").get_by_label("Your email")).to_be_visible()
    # the login page (like every other page) refuses to be framed
    page.wait_for_load_state("networkidle")
    expect(page.frame_locator("#login").get_by_role("button", name="Log in")).to_have_count(0)
    assert any("frame-ancestors 'none'" in v for v in csp_violations), csp_violations
    csp_violations.clear()

    # sent from its own page, the form hands the visitor to the thank-you address it names
    page.goto(form_url)
    page.get_by_label("Your email").fill("visitor@example.org")
    page.wait_for_timeout(3200)  # forms sent within 3 s of loading are taken for bots
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading")).to_have_text("Thank you from the customer's site")
    assert page.url == f"{site}/thanks"
    assert Lead.objects.filter(email="visitor@example.org").exists()
