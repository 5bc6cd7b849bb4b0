"""/api/v1/coupons: list (the coupons page's filters and visibility), issue, withdraw; bad ids."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from closeloop.accounts.choices import TokenScope
from closeloop.accounts.services import api_token_create
from closeloop.activities.models import Activity
from closeloop.aftersales.coupons import coupon_issue, coupon_redeem, coupon_withdraw
from closeloop.aftersales.models import Coupon, CouponRedemption
from closeloop.leads.models import Campaign
from tests.factories import ContactFactory, OrganizationFactory

from .tokens import ApiClient, ids

pytestmark = pytest.mark.django_db
COUPONS = "/api/v1/coupons"
BIG = 2**70


def _customer(owner, name: str):
    return ContactFactory(
        first_name=name, owner=owner, organization=OrganizationFactory(name=name, owner=owner)
    )


@pytest.fixture
def coupons(admin, rep, teammate, outsider):
    """A coupon for a customer of each owner, and a campaign code (everyone's)."""
    made = {}
    for name, owner in (("rep", rep), ("teammate", teammate), ("outsider", outsider)):
        made[name] = coupon_issue(
            actor=admin, kind="percent", value=10, contact=_customer(owner, name)
        )
    made["shared"] = coupon_issue(actor=admin, kind="amount", value=5, code="WELCOME")
    return made


@pytest.mark.parametrize(
    ("role", "seen"),
    [
        ("rep", {"rep", "shared"}),
        ("manager", {"rep", "teammate", "shared"}),
        ("admin", {"rep", "teammate", "outsider", "shared"}),
    ],
)
def test_the_list_shows_what_the_coupons_page_shows(request, coupons, role, seen):
    listed = set(ids(ApiClient(request.getfixturevalue(role)).get(COUPONS)))
    assert listed == {coupons[name].pk for name in seen}


def test_a_coupon_is_listed_with_its_status_and_limits(rep, coupons):
    item = next(
        i for i in ApiClient(rep).get(COUPONS).json()["items"] if i["id"] == coupons["rep"].pk
    )
    coupon = coupons["rep"]
    assert item["code"] == coupon.code and item["status"] == "active"
    assert (item["kind"], Decimal(item["value"]), item["currency"]) == ("percent", 10, "")
    assert (item["contact_id"], item["organization_id"]) == (
        coupon.contact_id,
        coupon.contact.organization_id,
    )
    assert (item["max_uses"], item["uses"], item["uses_left"]) == (None, 0, None)
    assert item["max_uses_per_customer"] == 1 and item["origin"] == "manual"


@pytest.fixture
def kinds(rep, admin):
    """One coupon of each status, kind and origin the filters tell apart."""
    lena = _customer(rep, "Lena")
    campaign = Campaign.objects.create(name="Spring fair")
    past = timezone.now() - dt.timedelta(days=1)
    made = {
        "active": coupon_issue(actor=rep, kind="percent", value=10, contact=lena),
        "expired": coupon_issue(
            actor=rep, kind="percent", value=10, code="OLDONE", expires_at=past
        ),
        "used_up": coupon_issue(
            actor=rep, kind="amount", value=5, currency="EUR", code="ONCE", max_uses=1
        ),
        "withdrawn": coupon_issue(
            actor=rep, kind="percent", value=10, code="SPRING", campaign=campaign, origin="campaign"
        ),
    }
    Coupon.objects.filter(pk=made["used_up"].pk).update(uses=1)
    coupon_withdraw(actor=rep, coupon=made["withdrawn"], reason="Ended")
    return made, lena, campaign


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "active"}, ["active"]),
        ({"status": "expired"}, ["expired"]),
        ({"status": "used_up"}, ["used_up"]),
        ({"status": "withdrawn"}, ["withdrawn"]),
        ({"kind": "amount"}, ["used_up"]),
        ({"origin": "campaign"}, ["withdrawn"]),
        ({"contact_id": "{lena}"}, ["active"]),
        ({"organization_id": "{lena_org}"}, ["active"]),
        ({"campaign_id": "{campaign}"}, ["withdrawn"]),
        ({"q": "olDo"}, ["expired"]),
        ({"q": "nothing like it"}, []),
    ],
)
def test_filters(rep, kinds, query, expected):
    made, lena, campaign = kinds
    values = {"{lena}": lena.pk, "{lena_org}": lena.organization_id, "{campaign}": campaign.pk}
    query = {k: values.get(v, v) for k, v in query.items()}
    assert ids(ApiClient(rep).get(COUPONS, query)) == [made[name].pk for name in expected]


def test_statuses_shown_match_the_filter(rep, kinds):
    made, _, _ = kinds
    items = ApiClient(rep).get(COUPONS).json()["items"]
    assert {i["id"]: i["status"] for i in items} == {c.pk: name for name, c in made.items()}
    withdrawn = next(i for i in items if i["id"] == made["withdrawn"].pk)
    assert withdrawn["withdraw_reason"] == "Ended" and withdrawn["withdrawn_at"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "used"}, "status"),
        ({"kind": "bogus"}, "kind"),
        ({"origin": "bogus"}, "origin"),
        ({"ordering": "value"}, "ordering"),
        ({"contact_id": BIG}, "contact_id"),
        ({"campaign_id": 0}, "campaign_id"),
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_field(rep, query, field):
    response = ApiClient(rep).get(COUPONS, query)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]


def _issued(rep, codes: list[tuple[str, dt.datetime | None]]) -> list[Coupon]:
    made = []
    for i, (code, expires_at) in enumerate(codes):
        with time_machine.travel(dt.datetime(2026, 3, 1, 9, i, tzinfo=dt.UTC), tick=False):
            made.append(
                coupon_issue(actor=rep, kind="percent", value=5, code=code, expires_at=expires_at)
            )
    return made


def _all(api: ApiClient, query: dict) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = api.get(COUPONS, {**query, **({"cursor": cursor} if cursor else {})})
        seen += ids(page)
        cursor = page.json()["next_cursor"]
        if not cursor:
            return seen


@time_machine.travel(dt.datetime(2026, 3, 2, tzinfo=dt.UTC), tick=False)
def test_orderings_page_through_every_coupon_once(rep):
    day = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    a, b, c, d, e = _issued(
        rep, [("ECHO", day), ("ALPHA", None), ("DELTA", day), ("BRAVO", day.replace(month=4)),
              ("CHARLIE", None)]
    )  # fmt: skip
    api = ApiClient(rep)
    assert _all(api, {"limit": 2}) == [e.pk, d.pk, c.pk, b.pk, a.pk]
    assert _all(api, {"limit": 2, "ordering": "code"}) == [b.pk, d.pk, e.pk, c.pk, a.pk]
    # no expiry sorts last: the coupon that never expires
    assert _all(api, {"limit": 2, "ordering": "expires_at"}) == [d.pk, a.pk, c.pk, b.pk, e.pk]
    assert _all(api, {"limit": 1, "ordering": "-expires_at"}) == [e.pk, b.pk, c.pk, a.pk, d.pk]
    assert _all(api, {"limit": 3, "ordering": "created_at"}) == [a.pk, b.pk, c.pk, d.pk, e.pk]


def test_the_list_costs_the_same_queries_for_more_rows(rep, django_assert_max_num_queries):
    for i in range(30):
        coupon_issue(actor=rep, kind="percent", value=5, contact=_customer(rep, f"C{i}"))
    api = ApiClient(rep)
    assert len(api.get(COUPONS, {"limit": 1}).json()["items"]) == 1
    with django_assert_max_num_queries(6):
        response = api.get(COUPONS, {"limit": 30})
    assert len(response.json()["items"]) == 30


# Issue ------------------------------------------------------------------------------------------


def test_issue_a_coupon_to_a_customer(rep):
    lena = _customer(rep, "Lena")
    response = ApiClient(rep).post_json(
        COUPONS,
        {"contact_id": lena.pk, "kind": "amount", "value": "20", "currency": "eur",
         "max_uses": 3, "min_order": "100", "valid_days": 30, "description": "Thank you"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    coupon = Coupon.objects.get(pk=body["id"])
    assert body["code"] == coupon.code and len(coupon.code) == 14 and body["status"] == "active"
    assert (coupon.contact, coupon.organization_id) == (lena, lena.organization_id)
    assert (coupon.currency, coupon.max_uses, coupon.min_order) == ("EUR", 3, Decimal("100"))
    assert (coupon.origin, coupon.issued_by, coupon.description) == ("manual", rep, "Thank you")
    assert body["uses_left"] == 3 and body["max_uses_per_customer"] == 1
    days = (coupon.expires_at - timezone.now()).days
    assert days in (29, 30)


def test_issue_a_campaign_code(rep):
    campaign = Campaign.objects.create(name="Spring fair")
    api = ApiClient(rep)
    payload = {"target": "campaign", "code": "spring-25", "campaign_id": campaign.pk,
               "kind": "percent", "value": "25", "max_uses_per_customer": None}  # fmt: skip
    response = api.post_json(COUPONS, payload)
    assert response.status_code == 201, response.content
    coupon = Coupon.objects.get(pk=response.json()["id"])
    assert (coupon.code, coupon.origin, coupon.campaign) == ("SPRING-25", "campaign", campaign)
    assert coupon.contact_id is None and coupon.max_uses_per_customer is None
    taken = api.post_json(COUPONS, {**payload, "code": "Spring-25"})
    assert taken.status_code == 409 and "code" in taken.json()["fields"]
    random = api.post_json(COUPONS, {**payload, "code": ""})
    assert random.status_code == 201 and len(random.json()["code"]) == 14


def test_expires_on_is_the_end_of_that_day_in_the_users_zone(rep):
    rep.time_zone = "Europe/Berlin"
    rep.save(update_fields=["time_zone"])
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC), tick=False):
        response = ApiClient(rep).post_json(
            COUPONS,
            {"contact_id": _customer(rep, "Lena").pk, "kind": "percent", "value": 10,
             "expires_on": "2026-03-31"},
        )  # fmt: skip
    assert response.status_code == 201, response.content
    expires_at = dt.datetime.fromisoformat(response.json()["expires_at"])
    assert expires_at == dt.datetime(2026, 3, 31, 22, tzinfo=dt.UTC)  # 1 April, 0:00 in Berlin


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"contact_id": None}, 400, "contact_id"),
        ({"code": "MINE"}, 400, "code"),
        ({"target": "campaign"}, 400, "contact_id"),
        ({"target": "everyone"}, 422, "target"),
        ({"contact_id": "{olaf}"}, 404, "contact_id"),
        ({"contact_id": None, "organization_id": "{olaf_org}"}, 404, "organization_id"),
        ({"organization_id": "{other_org}"}, 400, "organization_id"),
        ({"contact_id": BIG}, 422, "contact_id"),
        ({"campaign_id": BIG}, 422, "campaign_id"),
        ({"campaign_id": 999999}, 400, "campaign_id"),
        ({"kind": "bogus"}, 422, "kind"),
        ({"value": "150"}, 400, "value"),
        ({"value": "0"}, 422, "value"),
        ({"value": "1.005"}, 422, "value"),
        ({"value": "1e12"}, 422, "value"),
        ({"value": "NaN"}, 422, "value"),
        ({"kind": "amount", "currency": "XYZ"}, 400, "currency"),
        ({"kind": "amount", "currency": "EURO"}, 422, "currency"),
        ({"expires_on": "2020-01-01"}, 400, "expires_on"),
        ({"expires_on": "9999-12-31"}, 422, "expires_on"),
        ({"expires_on": "2099-01-01", "valid_days": 5}, 400, "valid_days"),
        ({"valid_days": 0}, 422, "valid_days"),
        ({"max_uses": 0}, 422, "max_uses"),
        ({"max_uses": BIG}, 422, "max_uses"),
        ({"max_uses_per_customer": 0}, 422, "max_uses_per_customer"),
        ({"min_order": "-1"}, 422, "min_order"),
        ({"description": "x" * 201}, 422, "description"),
        ({"description": "nul\x00"}, 422, "description"),
        ({"target": "campaign", "contact_id": None, "code": "no spaces"}, 400, "code"),
        ({"target": "campaign", "contact_id": None, "code": "AB"}, 400, "code"),
    ],
)
def test_bad_issues_name_the_field_and_issue_nothing(rep, outsider, payload, status, field):
    olaf = _customer(outsider, "Olaf")
    values = {"{olaf}": olaf.pk, "{olaf_org}": olaf.organization_id,
              "{other_org}": OrganizationFactory(owner=rep).pk}  # fmt: skip
    body = {"contact_id": _customer(rep, "Lena").pk, "kind": "percent", "value": "10", **payload}
    body = {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = ApiClient(rep).post_json(COUPONS, body)
    assert response.status_code == status, response.content
    assert field in response.json()["fields"], response.json()
    assert not Coupon.objects.exists()


def test_a_read_only_token_may_not_issue_or_withdraw(rep):
    lena = _customer(rep, "Lena")
    coupon = coupon_issue(actor=rep, kind="percent", value=10, contact=lena)
    api = ApiClient(rep)
    read_only = api_token_create(actor=None, user=rep, scope=TokenScope.READ)[1]
    api.defaults["HTTP_AUTHORIZATION"] = f"Bearer {read_only}"
    body = {"contact_id": lena.pk, "kind": "percent", "value": 5}
    assert api.post_json(COUPONS, body).status_code == 403
    assert api.delete(f"{COUPONS}/{coupon.code}").status_code == 403
    assert Coupon.objects.count() == 1 and Coupon.objects.get().is_active
    assert api.get(COUPONS).status_code == 200


# Withdraw ---------------------------------------------------------------------------------------


def test_withdraw_stops_the_coupon_and_keeps_its_redemptions(rep):
    lena = _customer(rep, "Lena")
    coupon = coupon_issue(actor=rep, kind="percent", value=10, contact=lena, max_uses=5,
                          max_uses_per_customer=None)  # fmt: skip
    coupon_redeem(actor=rep, code=coupon.code, order_value=100, currency="EUR", contact=lena)
    api = ApiClient(rep)
    typed = coupon.code.lower().replace("-", "")
    response = api.delete(f"{COUPONS}/{typed}?reason=Sent+by+mistake")
    assert response.status_code == 204, response.content
    coupon.refresh_from_db()
    assert not coupon.is_active and coupon.withdrawn_by == rep
    assert coupon.withdraw_reason == "Sent by mistake" and coupon.withdrawn_at
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 1
    assert Activity.objects.filter(subject=f"Coupon {coupon.code} withdrawn", contact=lena).exists()
    redeem = api.post_json(
        f"{COUPONS}/{coupon.code}/redeem", {"order_value": "50", "contact_id": lena.pk}
    )
    assert redeem.status_code == 409
    assert redeem.json()["message"] == "This coupon has been withdrawn."
    again = api.delete(f"{COUPONS}/{coupon.code}")
    assert again.status_code == 409 and "code" in again.json()["fields"]
    listed = api.get(COUPONS, {"status": "withdrawn"}).json()["items"]
    assert [i["id"] for i in listed] == [coupon.pk]


def test_withdraw_a_coupon_the_user_may_not_see_is_404(rep, manager, outsider):
    olafs = coupon_issue(actor=outsider, kind="percent", value=10,
                         contact=_customer(outsider, "Olaf"))  # fmt: skip
    for user in (rep, manager):
        assert ApiClient(user).delete(f"{COUPONS}/{olafs.code}").status_code == 404
    assert ApiClient(rep).delete(f"{COUPONS}/NOSUCH").status_code == 404
    nul = ApiClient(rep).delete(f"{COUPONS}/BAD%00CODE")  # refused as text the API never takes
    assert nul.status_code == 422 and "code" in nul.json()["fields"]
    assert Coupon.objects.get(pk=olafs.pk).is_active


def test_a_rep_may_withdraw_a_campaign_code(rep, admin):
    """As on the coupon's page: no role is asked, a campaign code is everyone's to see."""
    coupon_issue(actor=admin, kind="percent", value=10, code="SPRING")
    assert ApiClient(rep).delete(f"{COUPONS}/spring").status_code == 204
    assert not Coupon.objects.get(code="SPRING").is_active


# Check and redeem: ids are bounded ------------------------------------------------------------


def test_absurd_ids_in_check_and_redeem_are_422(rep):
    coupon_issue(actor=rep, kind="percent", value=10, code="OPEN")
    api = ApiClient(rep)
    for name in ("contact_id", "organization_id"):
        check = api.get(f"{COUPONS}/OPEN", {"order_value": "10", name: BIG})
        assert check.status_code == 422 and name in check.json()["fields"], check.content
    for name in ("contact_id", "organization_id", "deal_id"):
        redeem = api.post_json(f"{COUPONS}/OPEN/redeem", {"order_value": "10", name: BIG})
        assert redeem.status_code == 422 and name in redeem.json()["fields"], redeem.content
    nul = api.get(f"{COUPONS}/OP%00EN", {"order_value": "10"})
    assert nul.status_code == 422 and "code" in nul.json()["fields"]
    assert not CouponRedemption.objects.exists()
