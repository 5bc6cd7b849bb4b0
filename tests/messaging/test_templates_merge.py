"""Merge fields: values escaped in HTML and not in text, missing values named, unknown refused."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.leads.models import Lead
from closeloop.messaging.html_mail import html_inline_css, html_to_text
from closeloop.messaging.merge import (
    MERGE_FIELDS,
    MergeMissing,
    merge_context_for,
    merge_field_register,
    merge_render_email,
)
from closeloop.messaging.template_services import (
    email_template_create,
    email_template_delete,
    email_template_update,
)

pytestmark = pytest.mark.django_db


def test_user_data_is_escaped_in_html_and_kept_as_typed_in_text(rep: Any) -> None:
    lead = Lead.objects.create(
        first_name="<script>alert(1)</script>", company_name="Tom & Jerry's", owner=rep
    )
    ctx = merge_context_for(sender=rep, lead=lead)
    rendered = merge_render_email(
        ctx,
        subject="Hello {{ contact.first_name }}",
        text_body="Hi {{ lead.first_name }} of {{ company.name }}",
        html_body="<p>Hi {{ lead.first_name }} of {{ company.name }}</p>",
    )
    assert "<script>" not in rendered.html_body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html_body
    assert "Tom &amp; Jerry&#x27;s" in rendered.html_body
    assert rendered.text_body == "Hi <script>alert(1)</script> of Tom & Jerry's"
    assert rendered.subject == "Hello <script>alert(1)</script>"


def test_a_signature_keeps_its_lines_in_html_escaped(rep: Any, bakery_deal: Any) -> None:
    rep.signature = "Rita Rep\n<b>Sales</b> & more"
    ctx = merge_context_for(sender=rep, deal=bakery_deal)
    rendered = merge_render_email(
        ctx,
        subject="x",
        text_body="{{ owner.signature }}",
        html_body="<p>{{ owner.signature }}</p>",
    )
    assert rendered.html_body == "<p>Rita Rep<br>&lt;b&gt;Sales&lt;/b&gt; &amp; more</p>"
    assert rendered.text_body == "Rita Rep\n<b>Sales</b> & more"


def test_fields_of_a_deal_come_from_its_contact_organization_and_owner(
    rep: Any, bakery_deal: Any
) -> None:
    ctx = merge_context_for(sender=rep, deal=bakery_deal, base_url="https://crm.example/")
    rendered = merge_render_email(
        ctx,
        subject="{{ deal.title }} ({{ deal.value }})",
        text_body=(
            "{{ contact.full_name }} {{ contact.email }} {{ company.name }} {{ owner.name }} "
            "{{ owner.email }} {{ workspace.name }} {{ links.record }}"
        ),
        html_body="",
    )
    assert rendered.subject == "New website (€1,000)"
    assert rendered.text_body == (
        "Lena Lind lena@bakery.example Bakery Lind Rita Rep rep@example.com My company "
        f"https://crm.example/deals/{bakery_deal.pk}/"
    )


def test_a_missing_value_is_an_error_naming_every_missing_field(rep: Any) -> None:
    lead = Lead.objects.create(email="anon@example.org", owner=rep)
    ctx = merge_context_for(sender=rep, lead=lead)
    with pytest.raises(MergeMissing) as error:
        merge_render_email(
            ctx,
            subject="Hi {{ contact.first_name }}",
            text_body="About {{ deal.title }} at {{ company.name }}, {{ contact.email }}",
            html_body="",
        )
    assert error.value.names == ["contact.first_name", "deal.title", "company.name"]
    assert "Contact's first name ({{ contact.first_name }})" in error.value.message
    assert "{{ deal.title }}" in error.value.message
    assert "{{ contact.email }}" not in error.value.message


def test_the_template_language_is_not_available(rep: Any, bakery_deal: Any) -> None:
    """Only registered names work: no attribute traversal, filters or tags."""
    ctx = merge_context_for(sender=rep, deal=bakery_deal)
    for text in (
        "{{ deal.owner.password }}",
        "{{ settings.SECRET_KEY }}",
        "{{ contact.first_name|upper }}",
    ):
        with pytest.raises(DomainError, match="Unknown merge field"):
            merge_render_email(ctx, subject="x", text_body=text, html_body="")
    rendered = merge_render_email(
        ctx, subject="x", text_body="{% for x in y %}{{ contact.first_name }}", html_body=""
    )
    assert rendered.text_body == "{% for x in y %}Lena"  # tags are plain text


def test_unknown_field_is_refused_when_the_template_is_saved(admin: Any) -> None:
    with pytest.raises(DomainError) as error:
        email_template_create(
            actor=admin, name="Intro", subject="Hi", text_body="Dear {{ contact.nickname }}"
        )
    assert error.value.field == "text_body"
    assert "{{ contact.nickname }}" in error.value.message
    with pytest.raises(DomainError, match="not closed") as error:
        email_template_create(
            actor=admin, name="Intro", subject="Hi {{ contact.first_name", text_body="x"
        )
    assert error.value.field == "subject"


def test_template_services_are_for_admins_and_check_names(admin: Any, rep: Any) -> None:
    template = email_template_create(
        actor=admin, name="Intro", subject="Hi {{ contact.first_name }}", text_body="Hello"
    )
    with pytest.raises(DomainError, match="Only admins"):
        email_template_update(actor=rep, template=template, name="X", subject="Y", text_body="Z")
    with pytest.raises(DomainError, match="already a template"):
        email_template_create(actor=admin, name="intro", subject="Hi", text_body="x")
    with pytest.raises(DomainError, match="text body, an HTML body or both"):
        email_template_update(actor=admin, template=template, name="Intro", subject="Hi")
    email_template_update(
        actor=admin, template=template, name="Intro 2", subject="Hi", html_body="<p>x</p>"
    )
    template.refresh_from_db()
    assert (template.name, template.text_body, template.html_body) == ("Intro 2", "", "<p>x</p>")
    email_template_delete(actor=admin, template=template)
    assert not type(template).objects.exists()


def test_later_features_can_register_fields(rep: Any, bakery_deal: Any) -> None:
    field = merge_field_register("links.test_only", "A test link", lambda c: "https://t.example")
    try:
        ctx = merge_context_for(sender=rep, deal=bakery_deal)
        rendered = merge_render_email(
            ctx, subject="x", text_body="{{ links.test_only }}", html_body=""
        )
        assert rendered.text_body == "https://t.example"
        with pytest.raises(ValueError, match="already registered"):
            merge_field_register("links.test_only", "Again", lambda c: None)
    finally:
        MERGE_FIELDS.pop(field.name)


def test_css_is_inlined_and_never_fetched() -> None:
    html = (
        '<html><head><link rel="stylesheet" href="http://192.0.2.1/x.css">'
        "<style>p.note { color: #c00; }</style></head>"
        '<body><p class="note">Hi</p></body></html>'
    )
    inlined = html_inline_css(html)
    assert '<p class="note" style="color: #c00;">Hi</p>' in inlined
    assert "<style>" not in inlined


def test_html_to_text_keeps_paragraphs_lists_and_link_targets() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<h1>Hello   Lena</h1><p>Thanks for<br>your time &amp; tea.</p>"
        "<ul><li>One</li><li>Two</li></ul>"
        '<p>See <a href="https://example.com/offer">our offer</a> or '
        '<a href="mailto:ann@example.com">ann@example.com</a>.</p>'
        "<script>alert(1)</script></body></html>"
    )
    assert html_to_text(html) == (
        "Hello Lena\n\nThanks for\nyour time & tea.\n\n- One\n- Two\n\n"
        "See our offer (https://example.com/offer) or ann@example.com."
    )
