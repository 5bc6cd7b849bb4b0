"""A rep redeems a customer's coupon on the contact page in Chromium: the htmx check shows the
discount (or the reason) while typing, Redeem adds the redemption without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from closeloop.aftersales.coupons import coupon_issue
from closeloop.aftersales.models import CouponRedemption
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_check_and_redeem_a_coupon_on_the_contact_page(page, live_server, rep, bakery_deal):
    lena = bakery_deal.contact
    coupon = coupon_issue(actor=rep, kind="percent", value=10, contact=lena, min_order=100)
    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/people/contacts/{lena.pk}/")
    panel = page.locator(f"#coupons-contact-{lena.pk}")
    expect(panel).to_contain_text(coupon.code)
    form = panel.locator("form.coupon-redeem")
    form.get_by_label("Code").fill(coupon.code.lower().replace("-", ""))
    form.get_by_label("Order value").fill("80")
    expect(form.locator(".coupon-check")).to_have_text("The order must be at least 100.00 EUR.")
    form.get_by_label("Order value").fill("249.95")
    expect(form.locator(".coupon-check")).to_have_text("This coupon takes €25 off this order.")
    form.get_by_label("Repeat deal").select_option(label="New website")
    form.get_by_role("button", name="Redeem").click()
    expect(page.locator(f"#coupons-contact-{lena.pk}")).to_contain_text(
        f"Coupon {coupon.code} redeemed: 25.00 EUR off."
    )
    expect(page.locator(".coupon-redemptions")).to_contain_text("€25 off €249.95")
    redemption = CouponRedemption.objects.get()
    assert (redemption.contact, redemption.deal) == (lena, bakery_deal)
