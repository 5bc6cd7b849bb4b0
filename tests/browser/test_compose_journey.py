"""Writing an email in a real browser: from a deal, with a template, onto the timeline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from closeloop.messaging.models import EmailTemplate, Message
from tests.factories import (
    PASSWORD,
    ContactEmailFactory,
    ContactFactory,
    DealFactory,
    OrganizationFactory,
)

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_rep_emails_a_deal_contact_from_a_template(page, live_server, rep):
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(
        first_name="Lena", last_name="Lind", organization=organization, owner=rep
    )
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    deal = DealFactory(title="New website", owner=rep, organization=organization, contact=contact)
    EmailTemplate.objects.create(
        name="Follow-up",
        subject="{{ deal.title }} for {{ company.name }}",
        text_body="Hi {{ contact.first_name }},\n\nthanks for your time.",
        html_body="<p>Hi {{ contact.first_name }},</p><p>thanks for your time.</p>",
    )
    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    page.get_by_role("link", name="Email").click()
    expect(page.get_by_role("heading", name="New email")).to_be_visible()
    expect(page.get_by_role("textbox", name="To", exact=True)).to_have_value(
        "Lena Lind <lena@bakery.example>"
    )

    page.get_by_label("Template").select_option(label="Follow-up")
    expect(page.get_by_role("textbox", name="Subject")).to_have_value("New website for Bakery Lind")
    expect(page.get_by_role("textbox", name="Message")).to_have_value(
        "Hi Lena,\n\nthanks for your time."
    )
    page.get_by_role("textbox", name="Message").fill(
        "Hi Lena,\n\nthanks for your time. The offer follows."
    )
    page.get_by_role("button", name="Send").click()

    page.wait_for_url(f"{live_server.url}/deals/{deal.pk}/")
    expect(
        page.get_by_text("Email “New website for Bakery Lind” is in the outbox.")
    ).to_be_visible()
    entry = page.locator("#timeline li.entry-email")
    expect(entry).to_contain_text("New website for Bakery Lind")
    expect(entry).to_contain_text("The offer follows.")
    message = Message.objects.get()
    assert message.to == ["Lena Lind <lena@bakery.example>"]
    assert message.template.name == "Follow-up"
    assert "<p>Hi Lena,</p>" in message.html_body


def test_admin_previews_an_unsaved_template_on_a_record(page, live_server, admin, rep):
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(first_name="Lena", last_name="Lind", organization=organization)
    deal = DealFactory(title="New website", owner=rep, organization=organization, contact=contact)
    log_in(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/settings/email-templates/new/")
    page.get_by_role("textbox", name="Name").fill("Intro")
    page.get_by_role("textbox", name="Subject").fill("About {{ deal.title }}")
    page.get_by_role("textbox", name="HTML body").fill(
        "<style>b { color: red; }</style><p>Hi <b>{{ contact.first_name }}</b></p>"
    )
    page.get_by_label("On the record").select_option(value=f"deal:{deal.pk}")
    preview = page.locator("#preview")
    expect(preview.locator('[data-role="preview-subject"]')).to_have_text("About New website")
    frame = page.frame_locator("iframe.mail-preview")
    expect(frame.locator("b")).to_have_text("Lena")
    expect(frame.locator("b")).to_have_attribute("style", "color: red;")
    expect(preview.locator('[data-role="preview-text"]')).to_have_text("Hi Lena")

    page.get_by_role("textbox", name="Subject").fill("About {{ deal.title }} {{ lead.first_name }}")
    page.get_by_role("button", name="Preview").click()
    expect(preview.get_by_role("alert")).to_contain_text("{{ lead.first_name }}")
    assert not EmailTemplate.objects.exists()  # previewing saves nothing
