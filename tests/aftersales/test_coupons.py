"""Coupons: codes, every reason a coupon is refused, and exactly one success per last use."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from closeloop.activities.models import Activity
from closeloop.aftersales.coupons import (
    ALPHABET,
    coupon_code_clean,
    coupon_code_new,
    coupon_issue,
    coupon_redeem,
    coupon_validate,
)
from closeloop.aftersales.models import Coupon, CouponRedemption
from closeloop.core.exceptions import DomainError
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lena(rep):
    return ContactFactory(first_name="Lena", organization=OrganizationFactory(name="Bakery"))


def test_codes_are_random_unambiguous_and_typed_any_way():
    codes = {coupon_code_new() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        raw = code.replace("-", "")
        assert len(raw) == 12 and set(raw) <= set(ALPHABET)
        assert not set(raw) & set("0O1IL5S2Z8B")
    code = next(iter(codes))
    assert coupon_code_clean(code.lower().replace("-", " ")) == code


def test_percent_and_amount_discounts(admin, lena):
    ten = coupon_issue(actor=admin, kind="percent", value="10", contact=lena)
    check = coupon_validate(code=ten.code, order_value="249.95", currency="EUR", contact=lena)
    assert check.ok and check.discount == Decimal("25.00")  # 24.995 rounds half up
    fifty = coupon_issue(actor=admin, kind="amount", value=50, currency="EUR")
    small = coupon_validate(code=fifty.code, order_value=30, currency="EUR")
    assert small.ok and small.discount == Decimal("30")  # never more than the order


@pytest.mark.parametrize(
    ("field", "kwargs", "message"),
    [
        ("kind", {"kind": "free"}, "'free' is not a kind of coupon."),
        ("value", {"value": "abc"}, "Value: 'abc' is not a number."),
        ("value", {"value": "150"}, "Value: a percentage cannot be above 100."),
        ("value", {"value": "0"}, "Value: a coupon must take something off."),
        ("max_uses", {"max_uses": 0}, "A limit must be at least 1 (leave it empty for none)."),
        ("code", {"code": "a!"}, "A code has 3 to 32 letters, digits or dashes."),
    ],
)
def test_bad_input_is_refused_by_field(admin, field, kwargs, message):
    with pytest.raises(DomainError) as error:
        coupon_issue(actor=admin, **{"kind": "percent", "value": "10", **kwargs})
    assert (error.value.field, error.value.message) == (field, message)


def test_a_campaign_code_is_kept_as_typed_and_unique(admin):
    coupon = coupon_issue(actor=admin, kind="percent", value=15, code="spring25", max_uses=None)
    assert coupon.code == "SPRING25"
    with pytest.raises(DomainError, match="taken"):
        coupon_issue(actor=admin, kind="percent", value=5, code="Spring25")


def test_expired_exhausted_foreign_and_minimum(admin, lena):
    other = ContactFactory(first_name="Otto", organization=OrganizationFactory(name="Garage"))
    expired = coupon_issue(
        actor=admin, kind="percent", value=5, expires_at=timezone.now() - dt.timedelta(days=1)
    )
    assert "expired" in coupon_validate(code=expired.code, order_value=10).reason
    mine = coupon_issue(actor=admin, kind="percent", value=5, contact=lena, min_order=100)
    assert coupon_validate(code=mine.code, order_value=100, contact=other).reason == (
        "This coupon was issued to another customer."
    )
    assert coupon_validate(code=mine.code, order_value=99, contact=lena).reason == (
        "The order must be at least 100.00 EUR."
    )
    coupon_redeem(actor=admin, code=mine.code, order_value=100, contact=lena)
    again = coupon_validate(code=mine.code, order_value=100, contact=lena)
    assert again.reason == "This customer has already used this coupon."
    assert coupon_validate(code="NOPE-NOPE-NOPE", order_value=1).reason == (
        "There is no coupon with this code."
    )
    usd = coupon_issue(actor=admin, kind="amount", value=5, currency="USD")
    assert (
        "in USD, the order in EUR"
        in coupon_validate(code=usd.code, order_value=10, currency="EUR").reason
    )


def test_a_redemption_is_on_the_customer_timeline_and_counts(admin, lena, bakery_deal):
    coupon = coupon_issue(actor=admin, kind="percent", value=10, max_uses=3, contact=lena)
    redemption = coupon_redeem(
        actor=admin, code=coupon.code, order_value=200, contact=lena, deal=bakery_deal
    )
    assert (redemption.discount, redemption.deal) == (Decimal("20.00"), bakery_deal)
    coupon.refresh_from_db()
    assert coupon.uses == 1
    entry = Activity.objects.get(subject=f"Coupon {coupon.code} redeemed")
    assert entry.contact == lena and entry.organization == lena.organization
    assert entry.deal == bakery_deal


def test_a_refused_redemption_changes_nothing(admin, lena):
    coupon = coupon_issue(actor=admin, kind="percent", value=10, min_order=50)
    with pytest.raises(DomainError, match=r"at least 50\.00"):
        coupon_redeem(actor=admin, code=coupon.code, order_value=10)
    coupon.refresh_from_db()
    assert coupon.uses == 0 and not CouponRedemption.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_redemptions_of_a_single_use_coupon_give_one(admin):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("in-memory SQLite shares one cache between threads; run on PostgreSQL")
    coupon = coupon_issue(actor=admin, kind="amount", value=5, currency="EUR", max_uses=1)
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def work() -> None:
        try:
            start.wait()
            coupon_redeem(actor=None, code=coupon.code, order_value=20, currency="EUR")
            outcomes.append("ok")
        except DomainError as error:
            outcomes.append(error.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} == {"This coupon has been used up."}
    assert Coupon.objects.get(pk=coupon.pk).uses == 1
    assert CouponRedemption.objects.count() == 1
