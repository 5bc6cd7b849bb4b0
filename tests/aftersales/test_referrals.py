"""Referrals end to end: the landing page, referred leads from forms and bookings, the deal link,
the reward coupon and its email through a real SMTP server; tampered links and rate limits."""

from __future__ import annotations

import datetime as dt
import email
from decimal import Decimal
from email import policy
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.booking.services import booking_create
from closeloop.activities.models import Activity
from closeloop.aftersales.models import Coupon, Referral
from closeloop.aftersales.referrals import (
    COOKIE_NAME,
    referral_program_set,
    referral_record_for_lead,
    referral_reward_for_won_deal,
    referral_token,
)
from closeloop.leads.models import Lead, WebForm
from closeloop.leads.qualification import lead_qualify
from closeloop.leads.webforms import (
    STARTED_FIELD,
    WebFormField,
    WebFormInput,
    webform_create,
    webform_public_token,
    webform_started_token,
)
from closeloop.messaging.models import Message
from closeloop.pipeline.services import deal_mark_won, workspace_defaults_ensure
from tests.booking.conftest import berlin_rep, booking_page, demo, free_starts, visitor
from tests.factories import ContactEmailFactory, ContactFactory, OrganizationFactory
from tests.worker import run_worker

__all__ = ["berlin_rep", "booking_page", "demo"]  # fixtures used by the booking test


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lena(rep: Any) -> Any:
    """A customer, Lena Lind of Bakery Lind, who shares her referral link."""
    contact = ContactFactory(
        first_name="Lena",
        last_name="Lind",
        organization=OrganizationFactory(name="Bakery Lind", owner=rep),
        owner=rep,
    )
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    return contact


@pytest.fixture
def webform(admin: Any) -> WebForm:
    return webform_create(
        actor=admin,
        data=WebFormInput(
            name="Recommended by a friend",
            fields=[
                WebFormField("first_name", "First name"),
                WebFormField("last_name", "Last name", required=True),
                WebFormField("email", "Email", required=True),
                WebFormField("company_name", "Company"),
            ],
        ),
    )


def _post_form(client: Client, webform: WebForm, query: str = "", **values: str) -> Any:
    started = webform_started_token(webform, at=timezone.now() - dt.timedelta(seconds=10))
    url = reverse("webforms:public_submit", args=[webform_public_token(webform)]) + query
    return client.post(url, {STARTED_FIELD: started, **values})


PERSON = {"first_name": "Max", "last_name": "Mill", "email": "max@mill.example"}


@pytest.mark.django_db(transaction=True)
def test_referral_from_landing_to_reward_email(admin: Any, smtp_server: Any) -> None:
    workspace_defaults_ensure()
    rep_owner = OrganizationFactory(name="Bakery Lind")
    lena = ContactFactory(first_name="Lena", last_name="Lind", organization=rep_owner)
    ContactEmailFactory(contact=lena, email="lena@bakery.example")
    form = webform_create(
        actor=admin,
        data=WebFormInput(
            name="Recommended",
            fields=[WebFormField("last_name", "Last name"), WebFormField("email", "Email")],
        ),
    )
    referral_program_set(actor=admin, webform=form)
    token = referral_token(lena)

    visitor_client = Client()
    landing = visitor_client.get(reverse("aftersales_public:referral", args=[token]))
    assert landing.status_code == 200
    assert "Welcome — Lena recommended us" in landing.content.decode()
    cookie = landing.cookies[COOKIE_NAME]
    assert cookie["max-age"] == 90 * 24 * 3600 and cookie["httponly"]
    # the form on the page posts with the referral in its URL as well
    assert f"submit?ref={token}" in landing.content.decode()

    # the visitor posts the form without ?ref=: the cookie alone marks the lead
    response = _post_form(visitor_client, form, last_name="Mill", email="max@mill.example")
    assert response.status_code == 302
    lead = Lead.objects.get(email="max@mill.example")
    referral = Referral.objects.get()
    assert (referral.referrer, referral.lead) == (lena, lead)
    assert lead.source is not None and lead.source.name == "Referral"
    note = Activity.objects.get(contact=lena, subject="Referred a new lead: Mill")
    assert note.body == "Mill arrived through Lena Lind's referral link."

    deal = lead_qualify(
        actor=admin, lead=lead, pipeline=form_pipeline(), override_reason="A friend's tip"
    )
    referral.refresh_from_db()
    assert referral.deal == deal and referral.reward is None

    deal_mark_won(actor=admin, deal=deal)
    referral.refresh_from_db()
    coupon = referral.reward
    assert coupon is not None and referral.rewarded_at is not None
    assert (coupon.origin, coupon.kind, coupon.value) == ("referral", "percent", Decimal("10"))
    assert (coupon.max_uses, coupon.max_uses_per_customer, coupon.contact) == (1, 1, lena)
    days = (coupon.expires_at - referral.rewarded_at).total_seconds() / 86400
    assert round(days) == 180
    assert Activity.objects.filter(
        contact=lena, subject=f"Referral reward: coupon {coupon.code}"
    ).exists()

    run_worker()
    messages = smtp_server.recorder.messages()
    assert len(messages) == 1
    sent = email.message_from_bytes(
        smtp_server.recorder.envelopes[0].content, policy=policy.default
    )
    assert sent["To"] == "lena@bakery.example"
    assert sent["Subject"] == "Thank you for recommending us"
    text = sent.get_body(("plain",)).get_content()
    assert coupon.code in text and "10% off your next order" in text
    assert Message.objects.get().marketing is False

    # once per referral: winning again (e.g. reopened and won) gives nothing more
    assert referral_reward_for_won_deal(actor=admin, deal=deal) is None
    assert Coupon.objects.count() == 1 and Message.objects.count() == 1


def form_pipeline() -> Any:
    from tests.factories import default_pipeline

    return default_pipeline()


@pytest.mark.django_db
def test_ref_in_the_form_url_marks_the_lead_without_a_cookie(client, lena, webform):
    response = _post_form(client, webform, f"?ref={referral_token(lena)}", **PERSON)
    assert response.status_code == 302
    assert Referral.objects.get().lead == Lead.objects.get(email="max@mill.example")


@pytest.mark.django_db
def test_the_public_form_page_opened_with_ref_posts_it_on(client, lena, webform):
    token = referral_token(lena)
    page = client.get(
        reverse("webforms:public_form", args=[webform_public_token(webform)]), {"ref": token}
    )
    assert f"submit?ref={token}" in page.content.decode()


@pytest.mark.django_db
def test_a_tampered_link_shows_a_plain_page_and_refers_nobody(client, lena, webform, admin):
    referral_program_set(actor=admin, webform=webform)
    forged = referral_token(lena)[:-2] + "xx"
    page = client.get(reverse("aftersales_public:referral", args=[forged]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Lena" not in body and "recommended" not in body and "?ref=" not in body
    assert COOKIE_NAME not in page.cookies
    _post_form(client, webform, f"?ref={forged}", **PERSON)
    lead = Lead.objects.get(email="max@mill.example")
    assert not Referral.objects.exists() and lead.source.name == "Website form"


@pytest.mark.django_db
def test_a_forged_cookie_is_ignored(client, lena, webform):
    client.cookies[COOKIE_NAME] = referral_token(lena)  # not signed as a cookie
    _post_form(client, webform, **PERSON)
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_without_a_referral_form_the_landing_lists_the_booking_pages(client, lena, booking_page):
    token = referral_token(lena)
    page = client.get(reverse("aftersales_public:referral", args=[token]))
    assert page.status_code == 200
    assert "Book a demo with Rita" in page.content.decode()
    assert f'href="/book/rita/?ref={token}"' in page.content.decode()


@pytest.mark.django_db
def test_a_booking_with_the_cookie_makes_a_referred_lead(client, lena, demo):
    client.get(reverse("aftersales_public:referral", args=[referral_token(lena)]))
    start = free_starts(demo)[0]
    response = client.post(
        reverse("booking:book", args=["rita", demo.pk]),
        {
            "start": start.isoformat(),
            "tz": "Europe/Berlin",
            "name": "Vera Visitor",
            "email": "vera@visitor.example",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lead = Lead.objects.get(email="vera@visitor.example")
    assert Referral.objects.get().lead == lead and lead.source.name == "Referral"


@pytest.mark.django_db
def test_the_booking_service_takes_the_token_with_the_visitor(lena, demo):
    start = free_starts(demo)[0]
    booking_create(
        meeting_type=demo, starts_at=start, visitor=visitor(referral=referral_token(lena))
    )
    assert Referral.objects.get().lead.email == "vera@visitor.example"


@pytest.mark.django_db
def test_a_customer_referring_themselves_is_not_a_referral(client, lena, webform):
    _post_form(
        client, webform, f"?ref={referral_token(lena)}", last_name="Lind",
        email="LENA@bakery.example",
    )  # fmt: skip
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_a_lead_is_referred_once(lena, rep):
    from tests.leads_ui.conftest import LeadFactory

    lead = LeadFactory(owner=rep, email="max@mill.example")
    other = ContactFactory(first_name="Otto")
    assert referral_record_for_lead(lead=lead, token=referral_token(lena)) is not None
    assert referral_record_for_lead(lead=lead, token=referral_token(other)) is None
    assert referral_record_for_lead(lead=None, token=referral_token(lena)) is None
    assert Referral.objects.get().referrer == lena


@pytest.mark.django_db
def test_a_reward_without_an_email_address_still_issues_the_coupon(admin, rep):
    from tests.factories import DealFactory
    from tests.leads_ui.conftest import LeadFactory

    quiet = ContactFactory(first_name="Quinn", last_name="Quiet")
    lead = LeadFactory(owner=rep, email="max@mill.example")
    referral_record_for_lead(lead=lead, token=referral_token(quiet))
    deal = DealFactory(owner=rep, lead=lead, title="Mill bakery oven")
    deal_mark_won(actor=rep, deal=deal)
    referral = Referral.objects.get()
    assert referral.reward is not None and referral.deal == deal
    assert not Message.objects.exists()
    note = Activity.objects.get(contact=quiet, subject__startswith="Referral reward")
    assert "emailed" not in note.body and "the deal “Mill bakery oven”, which was won." in note.body


@pytest.mark.django_db
def test_a_won_deal_without_a_referral_rewards_nobody(rep):
    from tests.factories import DealFactory

    deal_mark_won(actor=rep, deal=DealFactory(owner=rep))
    assert not Coupon.objects.exists()


@pytest.mark.django_db
def test_the_landing_page_is_rate_limited(client, lena, settings):
    settings.REFERRAL_RATE_PER_IP = 2
    url = reverse("aftersales_public:referral", args=[referral_token(lena)])
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.django_db
def test_the_setting_is_for_admins_and_managers(rep_client, manager_client, webform):
    url = reverse("settings:referrals")
    assert rep_client.get(url).status_code == 403
    assert manager_client.get(url).status_code == 200
    response = manager_client.post(url, {"webform": webform.pk})
    assert response.status_code == 302
    from closeloop.aftersales.referrals import referral_program

    assert referral_program().webform == webform
    webform.is_active = False
    webform.save()
    refused = manager_client.post(url, {"webform": webform.pk})
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()


def test_a_customer_always_gets_the_same_referral_link(rep) -> None:
    """The link is shown on several pages and in emails: it must not change from one to the next
    (a timestamped signature did, once a second)."""
    import time_machine

    from closeloop.aftersales.referrals import referral_contact, referral_token
    from tests.factories import ContactFactory

    lena = ContactFactory(first_name="Lena", owner=rep)
    with time_machine.travel("2026-01-01 09:00:00+00:00", tick=False):
        first = referral_token(lena)
    with time_machine.travel("2026-06-01 09:00:01+00:00", tick=False):
        assert referral_token(lena) == first
    assert referral_contact(first) == lena
    assert referral_contact(first[:-2] + "xx") is None
