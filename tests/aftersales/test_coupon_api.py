"""GET /api/v1/coupons/{code} and POST /api/v1/coupons/{code}/redeem with token auth."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from closeloop.accounts.selectors import workspace_settings
from closeloop.accounts.services import api_token_create
from closeloop.activities.models import Activity
from closeloop.aftersales.coupons import coupon_issue
from closeloop.aftersales.models import Coupon, CouponRedemption
from tests.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _defaults(db: None) -> None:
    """A transactional test may start from a database another one flushed: put the default
    pipeline back (the deal fixtures need its stages)."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()


@pytest.fixture
def token(rep) -> str:
    return api_token_create(actor=None, user=rep)[1]


@pytest.fixture
def lena(bakery_deal):
    return bakery_deal.contact


@pytest.fixture
def olaf(outsider):
    return ContactFactory(
        first_name="Olaf", owner=outsider, organization=OrganizationFactory(owner=outsider)
    )


def _post(token: str, code: str, payload: dict):
    return Client().post(
        f"/api/v1/coupons/{code}/redeem",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _get(token: str, code: str, **query):
    return Client().get(f"/api/v1/coupons/{code}", query, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_redeem_answers_201_with_the_redemption(token, rep, lena, bakery_deal):
    coupon = coupon_issue(actor=rep, kind="percent", value=10, contact=lena, max_uses=3)
    response = _post(
        token,
        coupon.code.lower().replace("-", ""),
        {"order_value": "249.95", "currency": "EUR", "contact_id": lena.pk,
         "deal_id": bakery_deal.pk, "note": "Shop order 1001"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["code"] == coupon.code
    assert (Decimal(data["discount"]), data["currency"]) == (Decimal("25.00"), "EUR")
    assert Decimal(data["order_value"]) == Decimal("249.95")
    assert data["uses_left"] == 2
    assert (data["contact_id"], data["organization_id"], data["deal_id"]) == (
        lena.pk, lena.organization_id, bakery_deal.pk,
    )  # fmt: skip
    redemption = CouponRedemption.objects.get(pk=data["id"])
    assert redemption.redeemed_by == rep and redemption.note == "Shop order 1001"
    assert Activity.objects.filter(
        subject=f"Coupon {coupon.code} redeemed", contact=lena, deal=bakery_deal
    ).exists()


def test_a_campaign_code_without_a_limit_has_no_uses_left(token, rep, lena):
    coupon_issue(actor=rep, kind="amount", value=15, currency="EUR", code="WELCOME",
                 max_uses_per_customer=None)  # fmt: skip
    org = lena.organization_id
    data = _post(token, "welcome", {"order_value": 10, "organization_id": org}).json()
    assert data["uses_left"] is None and Decimal(data["discount"]) == Decimal("10.00")
    assert data["contact_id"] is None and data["organization_id"] == org


@pytest.fixture
def refusals(rep, admin, lena, olaf):
    """One coupon for each way a redemption is refused."""
    past = timezone.now() - dt.timedelta(days=1)
    used = coupon_issue(actor=admin, kind="percent", value=5, code="USEDUP", max_uses=1)
    Coupon.objects.filter(pk=used.pk).update(uses=1)
    withdrawn = coupon_issue(actor=admin, kind="percent", value=5, code="GONE")
    Coupon.objects.filter(pk=withdrawn.pk).update(is_active=False)
    coupon_issue(actor=admin, kind="percent", value=5, code="OLD", expires_at=past)
    coupon_issue(actor=admin, kind="percent", value=5, code="OLAFS", contact=olaf)
    coupon_issue(actor=admin, kind="amount", value=5, currency="USD", code="DOLLARS")
    coupon_issue(actor=admin, kind="percent", value=5, code="BIGONLY", min_order=500)
    return lena


@pytest.mark.parametrize(
    ("code", "payload", "status", "field", "detail"),
    [
        ("USEDUP", {}, 409, "code", "This coupon has been used up."),
        ("GONE", {}, 409, "code", "This coupon has been withdrawn."),
        ("OLD", {}, 409, "code", "This coupon expired on"),
        ("OLAFS", {}, 409, "code", "This coupon was issued to another customer."),
        ("DOLLARS", {}, 400, "currency", "This coupon is in USD, the order in EUR."),
        ("BIGONLY", {}, 400, "order_value", "The order must be at least 500.00 EUR."),
        ("NOSUCH", {}, 404, "code", "There is no coupon with this code."),
        ("BIGONLY", {"contact_id": None}, 400, "contact_id", "Name the customer"),
    ],
)
def test_refusals_carry_the_reason_and_field(refusals, token, code, payload, status, field, detail):
    body = {"order_value": "100", "currency": "EUR", "contact_id": refusals.pk, **payload}
    response = _post(token, code, body)
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert response.json()["message"].startswith(detail)
    assert not CouponRedemption.objects.exists()


def test_the_customer_may_use_it_only_once(token, rep, lena):
    coupon = coupon_issue(actor=rep, kind="percent", value=10, contact=lena)
    body = {"order_value": "100", "currency": "EUR", "contact_id": lena.pk}
    assert _post(token, coupon.code, body).status_code == 201
    second = _post(token, coupon.code, body)
    assert second.status_code == 409
    assert second.json()["message"] == "This customer has already used this coupon."


def test_a_hidden_customer_or_deal_is_404(token, rep, admin, lena, olaf):
    coupon_issue(actor=admin, kind="percent", value=5, code="OPEN", max_uses_per_customer=None)
    hidden = _post(token, "OPEN", {"order_value": 10, "contact_id": olaf.pk})
    assert hidden.status_code == 404
    hidden_org = _post(token, "OPEN", {"order_value": 10, "organization_id": olaf.organization_id})
    assert hidden_org.status_code == 404
    otto_deal = DealFactory(owner=olaf.owner, organization=olaf.organization)
    hidden_deal = _post(token, "OPEN", {"order_value": 10, "contact_id": lena.pk,
                                        "deal_id": otto_deal.pk})  # fmt: skip
    assert hidden_deal.status_code == 404
    other_deal = DealFactory(owner=rep, title="Not Lena's")
    foreign = _post(token, "OPEN", {"order_value": 10, "contact_id": lena.pk,
                                    "deal_id": other_deal.pk})  # fmt: skip
    assert foreign.status_code == 400
    message = "This deal belongs to another customer."
    assert foreign.json() == {"code": "invalid", "message": message, "fields": {"deal_id": message}}
    assert not CouponRedemption.objects.exists()


def test_bad_input_is_422_and_no_token_is_401(token, rep, lena):
    coupon_issue(actor=rep, kind="percent", value=5, code="OPEN")
    assert _post(token, "OPEN", {"order_value": "-1", "contact_id": lena.pk}).status_code == 422
    anonymous = Client().post(
        "/api/v1/coupons/OPEN/redeem", {"order_value": 1}, content_type="application/json"
    )
    assert anonymous.status_code == 401
    assert _post("wrong-token", "OPEN", {"order_value": 1}).status_code == 401
    assert Coupon.objects.get(code="OPEN").uses == 0


def test_check_validates_without_redeeming(token, rep, lena, olaf):
    coupon = coupon_issue(actor=rep, kind="amount", value=30, currency="EUR", contact=lena,
                          max_uses=2, min_order=100)  # fmt: skip
    ok = _get(token, coupon.code, order_value="120", currency="EUR", contact_id=lena.pk)
    assert ok.status_code == 200
    data = ok.json()
    assert data["ok"] is True and data["reason"] == "" and data["field"] is None
    assert (Decimal(data["discount"]), data["currency"], data["kind"]) == (
        Decimal("30"), "EUR", "amount",
    )  # fmt: skip
    assert data["uses_left"] == 2 and data["code"] == coupon.code
    small = _get(token, coupon.code, order_value="99", currency="EUR", contact_id=lena.pk).json()
    assert small["ok"] is False and small["field"] == "order_value"
    assert small["reason"] == "The order must be at least 100.00 EUR."
    assert _get(token, "NOSUCH", order_value="1").status_code == 404
    assert _get(token, coupon.code, order_value="1", contact_id=olaf.pk).status_code == 404
    assert Coupon.objects.get(pk=coupon.pk).uses == 0 and not CouponRedemption.objects.exists()


def test_the_endpoints_are_in_the_openapi_schema(token):
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/coupons/{code}/redeem" in schema["paths"]
    assert "get" in schema["paths"]["/api/v1/coupons/{code}"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_for_the_last_use_give_one_201(rep, bakery_deal):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("in-memory SQLite shares one cache between threads; run on PostgreSQL")
    token = api_token_create(actor=None, user=rep)[1]
    workspace_settings()  # made once here, not raced for by the two requests' visibility checks
    lena = bakery_deal.contact
    other = ContactFactory(owner=rep, organization=OrganizationFactory(owner=rep))
    coupon = coupon_issue(actor=rep, kind="amount", value=5, currency="EUR", max_uses=1,
                          code="LASTONE")  # fmt: skip
    start = threading.Barrier(2)
    answers: list[tuple[int, dict]] = []

    def work(contact_id: int) -> None:
        try:
            start.wait()
            response = _post(token, "LASTONE", {"order_value": 20, "currency": "EUR",
                                                "contact_id": contact_id})  # fmt: skip
            answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in (lena.pk, other.pk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201, 409], answers
    loser = next(body for status, body in answers if status == 409)
    message = "This coupon has been used up."
    assert loser == {"code": "conflict", "message": message, "fields": {"code": message}}
    winner = next(body for status, body in answers if status == 201)
    assert winner["uses_left"] == 0
    assert Coupon.objects.get(pk=coupon.pk).uses == 1
    assert CouponRedemption.objects.count() == 1
