"""The public form page: signed key only, chosen fields only, frameable, UTM carried."""

from __future__ import annotations

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from closeloop.leads.webforms import webform_set_active

pytestmark = pytest.mark.django_db


def test_renders_only_the_chosen_fields_on_a_standalone_page(client, token):
    response = client.get(reverse("webforms:public_form", args=[token]))
    assert response.status_code == 200
    for name in ("first_name", "last_name", "email", "phone", "company_name"):
        assertContains(response, f'name="{name}"')
    for name in ("job_title", "website", "industry", "country", "notes"):
        assertNotContains(response, f'name="{name}"')
    assertContains(response, "Your email")
    assertContains(response, "Send me the newsletter.")
    assertContains(response, 'name="website_url2"')
    assertContains(response, 'name="_started"')
    assertContains(response, "css/closeloop.css")
    assertNotContains(response, "topbar")  # none of the logged-in chrome
    assert "X-Frame-Options" not in response  # may be shown in an iframe


def test_utm_values_of_the_page_url_are_carried_as_hidden_fields(client, token):
    url = reverse("webforms:public_form", args=[token])
    response = client.get(url + "?utm_source=news&utm_campaign=spring&other=x")
    assertContains(response, '<input type="hidden" name="utm_source" value="news">', html=True)
    assertContains(response, '<input type="hidden" name="utm_campaign" value="spring">', html=True)
    assertNotContains(response, 'name="other"')


def test_a_tampered_key_is_404(client, webform, token):
    for bad in (token[:-2] + "xx", webform.key, "nonsense"):
        response = client.get(reverse("webforms:public_form", args=[bad]))
        assert response.status_code == 404
        assertContains(response, "not available", status_code=404)
        response = client.post(reverse("webforms:public_submit", args=[bad]), {})
        assert response.status_code == 404


def test_an_inactive_form_is_404_with_a_friendly_page(client, admin, webform, token):
    webform_set_active(actor=admin, webform=webform, is_active=False)
    response = client.get(reverse("webforms:public_form", args=[token]))
    assertContains(response, "no longer accepting submissions", status_code=404)
    response = client.post(reverse("webforms:public_submit", args=[token]), {"email": "a@b.de"})
    assert response.status_code == 404


def test_submit_accepts_posts_without_a_csrf_token(webform, token):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("webforms:public_submit", args=[token]), {"email": "x@y.de"})
    assert response.status_code == 400  # refused for its missing stamp, not for CSRF (403)


def test_started_stamp_endpoint_for_the_plain_html_form(client, admin, webform, token):
    response = client.get(reverse("webforms:public_started", args=[token]))
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["started"]
    webform_set_active(actor=admin, webform=webform, is_active=False)
    assert client.get(reverse("webforms:public_started", args=[token])).status_code == 404


def test_thank_you_page_escapes_the_message(client, token):
    response = client.get(reverse("webforms:public_thanks", args=[token]))
    assertContains(response, "Thanks, &lt;b&gt;we&lt;/b&gt; will call you!")
    assertNotContains(response, "<b>we</b>")
