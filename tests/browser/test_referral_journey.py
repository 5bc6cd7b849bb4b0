"""A referral in a real browser: the rep finds a customer, copies their referral link; a friend
opens it on a phone, leaves their details; the lead is marked referred by that customer."""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from closeloop.aftersales.models import Referral
from closeloop.aftersales.referrals import referral_program_set
from closeloop.leads.models import Lead
from closeloop.leads.webforms import WebFormField, WebFormInput, webform_create
from tests.factories import (
    PASSWORD,
    ContactEmailFactory,
    ContactFactory,
    DealFactory,
    OrganizationFactory,
)

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_customer_link_brings_a_referred_lead(page, browser, live_server, rep, admin):
    bakery = OrganizationFactory(name="Bakery Lind", owner=rep)
    lena = ContactFactory(first_name="Lena", last_name="Lind", organization=bakery, owner=rep)
    ContactEmailFactory(contact=lena, email="lena@bakery.example")
    DealFactory(title="Website", owner=rep, organization=bakery, contact=lena, status="won",
                value=Decimal("1000"))  # fmt: skip
    form = webform_create(
        actor=admin,
        data=WebFormInput(
            name="Recommended by a friend",
            fields=[WebFormField("first_name", "First name"),
                    WebFormField("last_name", "Last name", required=True),
                    WebFormField("email", "Email", required=True)],
        ),
    )  # fmt: skip
    referral_program_set(actor=admin, webform=form)

    log_in(page, live_server, rep.email, PASSWORD)
    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="Bakery Lind").first.click()
    expect(page.get_by_role("heading", name="Purchases")).to_be_visible()
    link = page.get_by_label("Lena Lind").input_value()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    friend = phone.new_page()
    friend.goto(live_server.url + urlsplit(link).path)
    expect(friend.get_by_role("heading", name="Welcome — Lena recommended us")).to_be_visible()
    friend.get_by_label("First name").fill("Max")
    friend.get_by_label("Last name").fill("Mill")
    friend.get_by_label("Email").fill("max@mill.example")
    time.sleep(3.2)  # the form refuses posts faster than a person could fill it in
    friend.get_by_role("button", name="Send").click()
    expect(friend.get_by_text("Thank you")).to_be_visible()
    phone.close()

    lead = Lead.objects.get(email="max@mill.example")
    assert Referral.objects.get().referrer == lena and lead.source.name == "Referral"
    page.goto(f"{live_server.url}/customers/contact/{lena.pk}/")
    expect(page.get_by_text("Max Mill")).to_be_visible()
