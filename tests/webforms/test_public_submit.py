"""Submissions: leads with attribution and consent, no duplicates, no bots, no floods."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from closeloop.activities.models import Activity
from closeloop.leads.models import Campaign, Lead, Source
from closeloop.leads.services import LeadInput, lead_create
from closeloop.leads.webforms import WebFormField, WebFormInput, webform_update
from closeloop.people.models import ContactPhone
from tests.factories import ContactFactory
from tests.webforms.conftest import started

pytestmark = pytest.mark.django_db

PERSON = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@analytical.example"}


def _thanks(token):
    return reverse("webforms:public_thanks", args=[token])


def test_a_submission_creates_an_attributed_lead(submit, webform, token):
    response = submit(**PERSON, phone="+49 30 1234567", company_name="Analytical Engines")
    assertRedirects(response, _thanks(token))
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email) == ("Ada", "Lovelace", PERSON["email"])
    assert lead.phone_e164 == "+49301234567"
    assert lead.source == Source.objects.get(name="Website form")
    assert lead.owner is None and lead.created_by is None
    assert not lead.marketing_consent
    webform.refresh_from_db()
    assert webform.submissions == 1


def test_defaults_of_the_form_apply(submit, admin, manager, webform):
    campaign = Campaign.objects.create(name="Spring", utm_campaign="spring")
    source = Source.objects.get(name="Paid ads")
    data = WebFormInput(
        name=webform.name, fields=[WebFormField("email", "Email", True)],
        thank_you_message="Thanks", default_source=source, default_campaign=campaign,
        default_owner=manager,
    )  # fmt: skip
    webform_update(actor=admin, webform=webform, data=data)
    submit(email="bob@example.com")
    lead = Lead.objects.get()
    assert (lead.source, lead.campaign, lead.owner) == (source, campaign, manager)


def test_utm_values_from_the_query_string_land_on_the_lead(submit):
    campaign = Campaign.objects.create(name="Spring", utm_campaign="spring-sale")
    submit(query="?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale", **PERSON)
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == (
        "newsletter", "email", "spring-sale",
    )  # fmt: skip
    assert lead.campaign == campaign  # matched by utm_campaign


def test_utm_values_from_hidden_fields_win(submit):
    submit(query="?utm_source=query", utm_source="hidden", utm_term="crm", **PERSON)
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_term) == ("hidden", "crm")


def test_consent_is_recorded_with_its_method(submit):
    submit(consent="1", **PERSON)
    lead = Lead.objects.get()
    assert lead.marketing_consent and lead.consent_at is not None
    assert lead.consent_method == "web form 'Contact us'"


def test_redirects_to_the_forms_redirect_url(submit, admin, webform):
    data = WebFormInput(
        name="Contact us", fields=[WebFormField("email", "Email", True)],
        redirect_url="https://example.com/thanks",
    )  # fmt: skip
    webform_update(actor=admin, webform=webform, data=data)
    response = submit(email="bob@example.com")
    assert response.status_code == 302 and response["Location"] == "https://example.com/thanks"


def test_honeypot_creates_nothing_but_answers_as_success(submit, webform, token):
    response = submit(website_url2="http://spam.example", **PERSON)
    assertRedirects(response, _thanks(token))
    assert not Lead.objects.exists() and not Activity.objects.exists()
    webform.refresh_from_db()
    assert webform.submissions == 0


def test_too_fast_submission_is_refused_with_values_kept(submit):
    response = submit(seconds_ago=1, **PERSON)
    assertContains(response, "sent too quickly", status_code=400)
    assertContains(response, 'value="ada@analytical.example"', status_code=400)
    assert not Lead.objects.exists()


def test_missing_or_invalid_stamp_is_refused(client, token, webform):
    url = reverse("webforms:public_submit", args=[token])
    response = client.post(url, PERSON)
    assertContains(response, "could not be verified", status_code=400)
    response = client.post(url, {**PERSON, "_started": "forged"})
    assertContains(response, "could not be verified", status_code=400)
    assert not Lead.objects.exists()


def test_a_missing_required_field_is_named(submit):
    response = submit(first_name="Ada", email="ada@analytical.example")
    assertContains(response, "Last name is required.", status_code=400)
    assertContains(response, 'value="Ada"', status_code=400)  # kept
    assert not Lead.objects.exists()


def test_an_invalid_email_is_named(submit):
    response = submit(last_name="Lovelace", email="not-an-email")
    assertContains(response, "Your email must be a valid email address", status_code=400)
    assertContains(response, 'value="not-an-email"', status_code=400)


def test_a_too_long_value_is_named(submit):
    response = submit(**{**PERSON, "last_name": "L" * 101})
    assertContains(response, "Last name can be at most 100 characters long", status_code=400)


def test_fields_the_form_does_not_ask_for_are_ignored(submit):
    submit(job_title="CEO", notes="hi", **PERSON)
    lead = Lead.objects.get()
    assert (lead.job_title, lead.notes) == ("", "")


def test_duplicate_email_in_other_case_attaches_a_note_to_the_lead(submit, webform, token, rep):
    existing = lead_create(
        actor=rep, data=LeadInput(last_name="Lovelace", email="ada@analytical.example", owner=rep)
    ).lead
    response = submit(first_name="Ada", last_name="Lovelace", email="ADA@Analytical.Example",
                      consent="1")  # fmt: skip
    assertRedirects(response, _thanks(token))
    assert Lead.objects.count() == 1
    note = Activity.objects.get(kind="note")
    assert note.lead == existing
    assert note.subject == "Web form submission: Contact us"
    assert "Last name: Lovelace" in note.body and "Your email: ADA@Analytical.Example" in note.body
    existing.refresh_from_db()
    assert existing.marketing_consent and existing.consent_method == "web form 'Contact us'"
    webform.refresh_from_db()
    assert webform.submissions == 1


def test_duplicate_phone_of_a_contact_attaches_to_the_contact(submit, token):
    contact = ContactFactory(first_name="Grace", last_name="Hopper")
    ContactPhone.objects.create(contact=contact, raw="+49 30 1234567", e164="+49301234567")
    response = submit(last_name="Hopper", email="grace@navy.example", phone="+49 (30) 123-4567")
    assertRedirects(response, _thanks(token))
    assert not Lead.objects.exists()
    note = Activity.objects.get(kind="note")
    assert note.contact == contact and note.lead is None
    assert note.organization == contact.organization


@override_settings(WEBFORM_RATE_PER_IP=3, WEBFORM_RATE_PER_FORM=100)
def test_rate_limit_per_ip_answers_429(submit):
    for n in range(3):
        assert submit(last_name=f"L{n}", email=f"p{n}@example.com").status_code == 302
    response = submit(last_name="Late", email="late@example.com")
    assertContains(response, "Too many submissions from your network", status_code=429)
    assertContains(response, 'value="late@example.com"', status_code=429)
    assert response["Retry-After"]
    assert Lead.objects.count() == 3


@override_settings(WEBFORM_RATE_PER_IP=100, WEBFORM_RATE_PER_FORM=2)
def test_rate_limit_per_form_answers_429(client, webform, token):
    url = reverse("webforms:public_submit", args=[token])
    for n, ip in enumerate(["10.0.0.1", "10.0.0.2", "10.0.0.3"]):
        data = {"last_name": f"X{n}", "email": f"x{n}@example.com", "_started": started(webform)}
        response = client.post(url, data, REMOTE_ADDR=ip)
    assertContains(response, "This form is receiving too many submissions", status_code=429)
    assert Lead.objects.count() == 2


def test_script_in_a_name_is_stored_as_text_and_shown_escaped(submit, admin_client_):
    submit(first_name="<script>alert(1)</script>", last_name="Smith", email="s@example.com")
    lead = Lead.objects.get()
    assert lead.first_name == "<script>alert(1)</script>"
    try:
        url = reverse("leads:lead_detail", args=[lead.pk])
    except NoReverseMatch:  # the leads pages are not there yet
        return
    response = admin_client_.get(url)
    assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;")
    assertNotContains(response, "<script>alert(1)</script>")


def test_the_plain_html_form_posts_its_key_as_a_hidden_field(client, webform, token):
    url = reverse("webforms:public_submit", args=[token])
    data = {**PERSON, "_form": token, "_started": started(webform), "utm_source": "site"}
    assertRedirects(client.post(url, data), _thanks(token))
    assert Lead.objects.get().utm_source == "site"
    other = {**PERSON, "_form": token[:-1] + "x", "_started": started(webform)}
    assert client.post(url, other).status_code == 404
