"""Composing from a record page: template fill, attachments, timelines, sender, permissions."""

from __future__ import annotations

import email
from email import policy
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from closeloop.accounts.models import WorkspaceSettings
from closeloop.activities.choices import ActivityKind
from closeloop.leads.models import Lead
from closeloop.messaging.choices import MessageState
from closeloop.messaging.models import EmailTemplate, Message
from tests.factories import PASSWORD

from .conftest import run_worker

pytestmark = pytest.mark.django_db


def _send(client: Client, deal: Any, **fields: Any) -> Any:
    data = {
        "template": "", "to": "Lena Lind <lena@bakery.example>", "cc": "", "bcc": "",
        "subject": "Your website", "text_body": "Hi Lena", "html_body": "",
        "add_signature": "on", **fields,
    }  # fmt: skip
    return client.post(f"/email/deal/{deal.pk}/", data)


def test_deal_page_links_to_compose_with_the_contact_prefilled(
    rep_client: Client, bakery_deal: Any, follow_up: EmailTemplate
) -> None:
    deal_page = rep_client.get(f"/deals/{bakery_deal.pk}/").content.decode()
    assert f'href="/email/deal/{bakery_deal.pk}/"' in deal_page
    page = rep_client.get(f"/email/deal/{bakery_deal.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'value="Lena Lind &lt;lena@bakery.example&gt;"' in body
    assert f'<option value="{follow_up.pk}">Follow-up</option>' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'enctype="multipart/form-data"' in body


def test_choosing_a_template_fills_subject_and_bodies_for_the_record(
    rep_client: Client, rep: Any, bakery_deal: Any, follow_up: EmailTemplate
) -> None:
    rep.signature = "Rita Rep\nSales"
    rep.save()
    response = rep_client.post(
        f"/email/deal/{bakery_deal.pk}/fill/",
        {"template": follow_up.pk, "subject": "", "text_body": "", "add_signature": "on"},
    )
    body = response.content.decode()
    assert body.startswith('\n  <div id="compose-body">')  # the fragment htmx swaps in
    assert 'value="New website for Bakery Lind"' in body
    assert ">\nHi Lena,\n\nthanks for your time.\n\nRita Rep</textarea>" in body
    assert "&lt;p&gt;Hi Lena,&lt;/p&gt;" in body
    # the template places the owner's signature itself, so none is added below it
    checkbox = body.split('name="add_signature"')[1].split(">")[0]
    assert "checked" not in checkbox


def test_a_template_missing_a_value_says_so_and_keeps_what_was_typed(
    rep_client: Client, rep: Any, follow_up: EmailTemplate
) -> None:
    lead = Lead.objects.create(email="noname@example.org", owner=rep)
    response = rep_client.post(
        f"/email/lead/{lead.pk}/fill/",
        {"template": follow_up.pk, "subject": "Draft", "text_body": "My words"},
    )
    body = response.content.decode()
    assert "cannot be used for this record" in body
    assert "{{ deal.title }}" in body
    assert ">\nMy words</textarea>" in body


def test_sending_with_attachments_queues_one_message_on_every_timeline(
    rep_client: Client, rep: Any, bakery_deal: Any, follow_up: EmailTemplate, settings: Any,
    tmp_path: Any,
) -> None:  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    rep.signature = "Rita Rep\nSales"
    rep.save()
    response = _send(
        rep_client, bakery_deal, template=follow_up.pk, subject="New website for Bakery Lind",
        text_body="Hi Lena, here is the offer.",
        html_body="<html><head><style>p { color: #123456; }</style></head>"
        "<body><p>Hi Lena, here is the offer.</p></body></html>",
        cc="boss@bakery.example", attachments=[
            SimpleUploadedFile("offer.pdf", b"%PDF-1.4 offer", "application/pdf"),
            SimpleUploadedFile("terms.txt", b"Pay in 30 days", "text/plain"),
        ],
    )  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == f"/deals/{bakery_deal.pk}/"
    message = Message.objects.get()
    assert message.to == ["Lena Lind <lena@bakery.example>"]
    assert message.cc == ["boss@bakery.example"]
    assert message.template == follow_up
    assert message.from_email == "Rita Rep via Closeloop <closeloop@localhost>"
    assert message.reply_to == "rep@example.com"
    assert message.text_body == "Hi Lena, here is the offer.\n\n-- \nRita Rep\nSales"
    assert '<p style="color: #123456;">Hi Lena, here is the offer.</p>' in message.html_body
    assert '<div class="signature">-- <br>Rita Rep<br>Sales</div></body>' in message.html_body
    assert [(a.filename, a.size) for a in message.attachments.all()] == [
        ("offer.pdf", 14), ("terms.txt", 14),
    ]  # fmt: skip
    assert (message.deal, message.contact, message.organization) == (
        bakery_deal, bakery_deal.contact, bakery_deal.organization,
    )  # fmt: skip
    activity = message.activity
    assert activity.kind == ActivityKind.EMAIL
    for page in (
        f"/deals/{bakery_deal.pk}/",
        f"/people/contacts/{bakery_deal.contact.pk}/",
        f"/people/organizations/{bakery_deal.organization.pk}/",
    ):
        assert "New website for Bakery Lind" in rep_client.get(page).content.decode(), page


def test_a_missing_merge_value_blocks_the_send_with_a_message(rep_client: Client, rep: Any) -> None:
    lead = Lead.objects.create(email="noname@example.org", owner=rep)
    response = rep_client.post(
        f"/email/lead/{lead.pk}/",
        {"to": "noname@example.org", "subject": "Hello {{ contact.first_name }}",
         "text_body": "Dear {{ contact.first_name }}", "add_signature": "on"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "Contact's first name ({{ contact.first_name }})" in errors
    assert not Message.objects.exists()


def test_merge_fields_typed_into_a_blank_email_are_filled(rep_client: Client, rep: Any) -> None:
    lead = Lead.objects.create(first_name="<Lena>", email="lena@example.org", owner=rep)
    response = rep_client.post(
        f"/email/lead/{lead.pk}/",
        {"to": "lena@example.org", "subject": "Hello {{ contact.first_name }}",
         "text_body": "Dear {{ lead.first_name }}", "html_body": "<p>{{ lead.first_name }}</p>"},
    )  # fmt: skip
    assert response.status_code == 302
    message = Message.objects.get()
    assert (message.subject, message.text_body) == ("Hello <Lena>", "Dear <Lena>")
    assert "<p>&lt;Lena&gt;</p>" in message.html_body
    assert message.lead == lead
    assert "Hello &lt;Lena&gt;" in rep_client.get(f"/leads/{lead.pk}/").content.decode()


def test_an_html_only_email_gets_a_text_part(rep_client: Client, bakery_deal: Any) -> None:
    response = _send(rep_client, bakery_deal, text_body="", add_signature="",
                     html_body="<p>Hi <b>Lena</b></p><ul><li>one</li></ul>")  # fmt: skip
    assert response.status_code == 302
    assert Message.objects.get().text_body == "Hi Lena\n\n- one"


def test_an_empty_email_is_refused(rep_client: Client, bakery_deal: Any) -> None:
    response = _send(rep_client, bakery_deal, text_body=" ", html_body="")
    assert response.context["form"].errors["text_body"] == ["The message cannot be empty."]
    assert not Message.objects.exists()


def test_records_the_user_cannot_see_are_not_found(
    outsider_client: Client, bakery_deal: Any, follow_up: EmailTemplate
) -> None:
    contact = bakery_deal.contact
    for url in (f"/email/deal/{bakery_deal.pk}/", f"/email/contact/{contact.pk}/"):
        assert outsider_client.get(url).status_code == 404
        assert outsider_client.post(url, {"to": "x@example.org"}).status_code == 404
        assert outsider_client.post(url + "fill/", {"template": follow_up.pk}).status_code == 404
    assert _send(outsider_client, bakery_deal).status_code == 404
    assert outsider_client.get("/email/planet/1/").status_code == 404
    assert not Message.objects.exists()


def test_the_form_needs_its_csrf_token(rep: Any, bakery_deal: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=rep.email, password=PASSWORD)
    assert _send(client, bakery_deal).status_code == 403
    assert not Message.objects.exists()


def test_attachments_over_the_limit_are_refused_clearly(
    rep_client: Client, bakery_deal: Any, settings: Any
) -> None:
    settings.EMAIL_ATTACHMENTS_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.bin", b"x" * (1024 * 1024 + 1), "application/octet-stream")
    response = _send(rep_client, bakery_deal, attachments=[big])
    errors = response.context["form"].errors
    assert "“big.bin” is 1.1 MB; at most 1 MB is accepted here." in errors["attachments"]
    assert "Attach the files again" in response.content.decode()
    halves = [
        SimpleUploadedFile(name, b"x" * (600 * 1024), "application/pdf")
        for name in ("a.pdf", "b.pdf")
    ]
    response = _send(rep_client, bakery_deal, attachments=halves)
    assert (
        "The attachments (“a.pdf”, “b.pdf”) come to 1.2 MB; at most 1 MB together can be sent."
        in response.context["form"].errors["attachments"]
    )
    assert not Message.objects.exists()


def test_users_send_from_their_own_address_only_where_allowed(
    rep_client: Client, admin_client_: Client, bakery_deal: Any
) -> None:
    page = admin_client_.get("/settings/workspace/").content.decode()
    assert 'name="send_as_user"' in page and "disabled" in page.split('name="send_as_user"')[1][:80]
    with override_settings(EMAIL_ALLOW_USER_FROM=True):
        response = admin_client_.post(
            "/settings/workspace/",
            {"name": "Acme", "base_currency": "EUR", "rep_visibility": "own",
             "send_as_user": "on"},
        )  # fmt: skip
        assert response.status_code == 302
        assert WorkspaceSettings.objects.get().send_as_user
        _send(rep_client, bakery_deal)
    assert Message.objects.get().from_email == "Rita Rep <rep@example.com>"
    # the server no longer allows it: back to the workspace address, whatever the flag says
    _send(rep_client, bakery_deal, subject="Second")
    assert Message.objects.get(subject="Second").from_email == (
        "Rita Rep via Closeloop <closeloop@localhost>"
    )


def test_a_user_edits_their_signature_on_the_profile_page(rep_client: Client, rep: Any) -> None:
    assert rep_client.get("/accounts/profile/").status_code == 200
    response = rep_client.post(
        "/accounts/profile/", {"section": "signature", "signature": "Rita Rep  \nSales\n"}
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.signature == "Rita Rep\nSales"


@pytest.mark.django_db(transaction=True)
def test_the_sent_mail_has_inlined_html_and_a_text_part(
    rep: Any,
    smtp_server: Any,
) -> None:
    from closeloop.messaging.compose import email_compose_send
    from closeloop.pipeline.services import workspace_defaults_ensure
    from tests.factories import ContactEmailFactory, ContactFactory, DealFactory

    workspace_defaults_ensure()
    contact = ContactFactory(first_name="Lena", last_name="Lind", owner=rep)
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    deal = DealFactory(owner=rep, contact=contact, organization=contact.organization)
    recorder = smtp_server.recorder
    message = email_compose_send(
        actor=rep, to="lena@bakery.example", subject="Offer for {{ contact.first_name }}",
        text_body="", deal=deal,
        html_body="<html><head><style>.total { font-weight: bold; }</style></head><body>"
        '<p>Hi {{ contact.first_name }},</p><p class="total">Total: {{ deal.value }}</p>'
        "</body></html>",
    )  # fmt: skip
    run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    received = email.message_from_bytes(recorder.envelopes[0].content, policy=policy.default)
    assert received["Subject"] == "Offer for Lena"
    assert received["Reply-To"] == "rep@example.com"
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.strip() == "Hi Lena,\n\nTotal: €1,000"
    html = received.get_body(("html",)).get_content()
    assert '<p class="total" style="font-weight: bold;">Total: €1,000</p>' in html
