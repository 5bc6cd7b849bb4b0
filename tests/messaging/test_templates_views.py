"""Settings → Email templates: admins only, fields checked on save, preview on a real record."""

from __future__ import annotations

import html
from typing import Any

import pytest

from closeloop.leads.models import Lead
from closeloop.messaging.models import EmailTemplate

pytestmark = pytest.mark.django_db


def test_only_admins_reach_the_template_pages(
    manager_client: Any, rep_client: Any, follow_up: EmailTemplate
) -> None:
    urls = [
        "/settings/email-templates/",
        "/settings/email-templates/new/",
        f"/settings/email-templates/{follow_up.pk}/",
    ]
    for client in (manager_client, rep_client):
        for url in urls:
            assert client.get(url).status_code == 403
        assert client.post(f"/settings/email-templates/{follow_up.pk}/delete/").status_code == 403
        assert client.post("/settings/email-templates/preview/").status_code == 403
    assert EmailTemplate.objects.filter(pk=follow_up.pk).exists()


def test_admin_creates_edits_and_deletes_a_template(admin_client_: Any) -> None:
    page = admin_client_.get("/settings/email-templates/")
    assert "No email templates yet" in page.content.decode()
    response = admin_client_.post(
        "/settings/email-templates/new/",
        {"name": "Intro", "subject": "Hello {{ contact.first_name }}", "text_body": "Hi",
         "html_body": "", "is_active": "on"},
    )  # fmt: skip
    template = EmailTemplate.objects.get(name="Intro")
    assert response.status_code == 302
    assert response["Location"] == f"/settings/email-templates/{template.pk}/"
    assert template.is_active and template.subject == "Hello {{ contact.first_name }}"

    response = admin_client_.post(
        f"/settings/email-templates/{template.pk}/",
        {"name": "Intro", "subject": "Hello", "text_body": "", "html_body": "<p>Hi</p>"},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.text_body, template.html_body, template.is_active) == ("", "<p>Hi</p>", False)
    listing = admin_client_.get("/settings/email-templates/").content.decode()
    assert "Intro" in listing and "Hidden" in listing

    response = admin_client_.post(f"/settings/email-templates/{template.pk}/delete/")
    assert response.status_code == 302
    assert not EmailTemplate.objects.exists()


def test_an_unknown_field_is_shown_on_its_field_and_nothing_is_saved(admin_client_: Any) -> None:
    response = admin_client_.post(
        "/settings/email-templates/new/",
        {"name": "Intro", "subject": "Hi", "text_body": "Dear {{ contact.nick_name }}"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "{{ contact.nick_name }}" in errors["text_body"][0]
    assert not EmailTemplate.objects.exists()


def test_preview_renders_subject_html_and_text_for_the_chosen_record(
    admin_client_: Any, bakery_deal: Any, follow_up: EmailTemplate, rep: Any
) -> None:
    rep.signature = "Rita Rep\nBakery friend"
    rep.save()
    edit_page = admin_client_.get(f"/settings/email-templates/{follow_up.pk}/").content.decode()
    assert f'value="deal:{bakery_deal.pk}"' in edit_page  # the deal is offered to preview on
    response = admin_client_.post(
        "/settings/email-templates/preview/",
        {"record": f"deal:{bakery_deal.pk}", "subject": follow_up.subject,
         "text_body": "", "html_body": follow_up.html_body},
    )  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200
    assert "New website for Bakery Lind" in body
    # the HTML goes into a sandboxed iframe, inlined and escaped into the attribute
    assert 'sandbox=""' in body
    srcdoc = html.unescape(body.split('srcdoc="', 1)[1].split('"', 1)[0])
    assert '<p style="color: #123456;">Hi Lena,</p>' in srcdoc
    assert "Rita Rep<br>Bakery friend" in srcdoc
    # with no text body, the text part is written from the HTML
    assert "(written from the HTML)" in body
    assert "Hi Lena,\n\nthanks for your time.\n\nRita Rep\nBakery friend" in body


def test_preview_names_the_missing_field(admin_client_: Any, follow_up: EmailTemplate) -> None:
    lead = Lead.objects.create(first_name="", email="x@example.org")
    response = admin_client_.post(
        "/settings/email-templates/preview/",
        {"record": f"lead:{lead.pk}", "subject": follow_up.subject,
         "text_body": follow_up.text_body, "html_body": ""},
    )  # fmt: skip
    body = html.unescape(response.content.decode())
    assert 'role="alert"' in body
    assert "{{ deal.title }}" in body and "{{ contact.first_name }}" in body
    assert "{{ owner.name }}" in body  # the lead has no owner


def test_preview_without_a_record_asks_for_one(admin_client_: Any) -> None:
    response = admin_client_.post(
        "/settings/email-templates/preview/", {"record": "deal:999999", "subject": "x"}
    )
    assert "Choose a lead, contact or deal" in response.content.decode()
