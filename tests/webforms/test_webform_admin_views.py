"""The web form builder pages: admins and managers only; create, edit, (de)activate, embed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from closeloop.leads.models import Source, WebForm
from closeloop.leads.webforms import webform_public_token

pytestmark = pytest.mark.django_db


def _pages(webform):
    return [
        reverse("webforms:list"),
        reverse("webforms:create"),
        reverse("webforms:edit", args=[webform.pk]),
        reverse("webforms:embed", args=[webform.pk]),
    ]


def _builder_post(**overrides):
    data = {
        "name": "Newsletter",
        "fields-email_on": "on",
        "fields-email_label": "Work email",
        "fields-email_required": "on",
        "fields-company_name_on": "on",
        "thank_you_message": "Thank you!",
        "consent_text": "",
    }
    return {**data, **overrides}


def test_anonymous_visitors_are_sent_to_log_in(client, webform):
    for url in _pages(webform):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_reps_get_403_everywhere(rep_client, webform):
    for url in _pages(webform):
        assert rep_client.get(url).status_code == 403
    assert rep_client.post(reverse("webforms:create"), _builder_post()).status_code == 403
    toggle = reverse("webforms:set_active", args=[webform.pk])
    assert rep_client.post(toggle, {"active": "0"}).status_code == 403
    webform.refresh_from_db()
    assert webform.is_active and WebForm.objects.count() == 1


def test_list_shows_forms_with_submission_counts(manager_client, webform):
    WebForm.objects.filter(pk=webform.pk).update(submissions=7)
    response = manager_client.get(reverse("webforms:list"))
    assertContains(response, "Contact us")
    assertContains(response, '<td class="num">7</td>', html=True)


def test_create_then_lands_on_the_embed_page(manager_client, manager):
    source = Source.objects.get(name="Referral")
    response = manager_client.post(
        reverse("webforms:create"), _builder_post(default_source=source.pk)
    )
    webform = WebForm.objects.get(name="Newsletter")
    assertRedirects(response, reverse("webforms:embed", args=[webform.pk]))
    assert webform.fields == [
        {"name": "email", "label": "Work email", "required": True},
        {"name": "company_name", "label": "Company", "required": False},
    ]
    assert webform.default_source == source
    assert webform.created_by == manager


def test_create_without_an_identifying_field_is_refused(admin_client_):
    data = _builder_post()
    del data["fields-email_on"], data["fields-company_name_on"]
    response = admin_client_.post(reverse("webforms:create"), data)
    assert response.status_code == 200
    assertContains(response, "at least a name, an email, a phone or a company")
    assert not WebForm.objects.exists()


def test_edit_shows_current_values_and_saves(admin_client_, webform):
    url = reverse("webforms:edit", args=[webform.pk])
    assertContains(admin_client_.get(url), 'value="Your email"')
    response = admin_client_.post(url, _builder_post(name="Contact us (new)"))
    assertRedirects(response, reverse("webforms:list"))
    webform.refresh_from_db()
    assert webform.name == "Contact us (new)"
    assert [f["name"] for f in webform.fields] == ["email", "company_name"]


def test_deactivate_and_activate(admin_client_, webform):
    url = reverse("webforms:set_active", args=[webform.pk])
    admin_client_.post(url, {"active": "0"})
    webform.refresh_from_db()
    assert not webform.is_active
    admin_client_.post(url, {"active": "1"})
    webform.refresh_from_db()
    assert webform.is_active


def test_embed_page_shows_iframe_and_html_form_with_the_signed_url(admin_client_, webform):
    token = webform_public_token(webform)
    response = admin_client_.get(reverse("webforms:embed", args=[webform.pk]))
    page = f"http://testserver/f/{token}/"
    iframe = f"&lt;iframe id=&quot;closeloop-frame-{webform.pk}&quot; src=&quot;{page}&quot;"
    assertContains(response, iframe)
    assertContains(response, f"action=&quot;{page}submit&quot;")
    assertContains(response, f"name=&quot;_form&quot; value=&quot;{token}&quot;")
    assertContains(response, "name=&quot;website_url2&quot;")
    assertContains(response, "name=&quot;utm_campaign&quot;")
    assertContains(response, f"{page}started")
    assertNotContains(response, f"/f/{webform.key}/")  # never the bare key


def test_builder_pages_are_not_frameable(admin_client_, webform):
    response = admin_client_.get(reverse("webforms:list"))
    assert response["X-Frame-Options"] == "DENY"
