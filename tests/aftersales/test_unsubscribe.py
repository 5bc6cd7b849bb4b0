"""The unsubscribe page: a GET only asks, a POST (even without a CSRF token) unsubscribes at
once, a tampered token gets a clear error, and the page is rate limited. The consent form on
the contact page records who changed what, and how."""

from __future__ import annotations

import pytest
from django.test import Client

from closeloop.aftersales.unsubscribe import unsubscribe_token
from closeloop.messaging.consent import email_suppressed
from closeloop.messaging.models import ConsentChange
from tests.factories import ContactEmailFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lena(rep):
    contact = ContactFactory(first_name="Lena", owner=rep, marketing_consent=True)
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    return contact


def test_get_asks_and_post_unsubscribes_without_csrf(lena):
    token = unsubscribe_token(email="lena@bakery.example", contact=lena)
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/u/{token}/")
    assert page.status_code == 200
    assert (
        "Unsubscribe?" in page.content.decode() and "lena@bakery.example" in page.content.decode()
    )
    assert not email_suppressed("lena@bakery.example")  # a link scanner changes nothing
    done = client.post(f"/u/{token}/", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    lena.refresh_from_db()
    assert email_suppressed("lena@bakery.example") and not lena.marketing_consent
    change = ConsentChange.objects.get()
    assert (change.granted, change.source) == (False, "one-click unsubscribe (mail program)")
    client.post(f"/u/{token}/")  # again: nothing more is recorded
    assert ConsentChange.objects.count() == 1


def test_a_tampered_token_is_refused_clearly(lena, client):
    token = unsubscribe_token(email="lena@bakery.example", contact=lena)
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    for response in (client.get(f"/u/{forged}/"), client.post(f"/u/{forged}/")):
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.content.decode()
    assert not email_suppressed("lena@bakery.example")


def test_the_page_is_rate_limited(lena, client, settings):
    settings.UNSUBSCRIBE_RATE_PER_IP = 2
    token = unsubscribe_token(email="lena@bakery.example", contact=lena)
    assert [client.get(f"/u/{token}/").status_code for _ in range(3)] == [200, 200, 429]
    refused = client.post(f"/u/{token}/")
    assert refused.status_code == 429 and refused["Retry-After"]
    assert not email_suppressed("lena@bakery.example")


def test_consent_form_on_the_contact_page(lena, rep_client, outsider_client):
    page = rep_client.get(f"/people/contacts/{lena.pk}/").content.decode()
    assert "Marketing email" in page and "Consent given" in page
    url = f"/customers/contacts/{lena.pk}/consent/"
    assert outsider_client.post(url, {"granted": "0", "source": "x"}).status_code == 404
    response = rep_client.post(url, {"granted": "0", "source": "asked on the phone"})
    assert response.status_code == 302
    lena.refresh_from_db()
    assert not lena.marketing_consent and lena.consent_method == "asked on the phone"
    change = ConsentChange.objects.get()
    assert (change.granted, change.actor.email, change.source) == (
        False, "rep@example.com", "asked on the phone"
    )  # fmt: skip
