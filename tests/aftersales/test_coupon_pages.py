"""The coupon pages: who sees which coupon, the filters, issuing with errors by field,
withdrawing, the panel on a customer's page (check, redeem, link a repeat deal) and the report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from closeloop.activities.models import Activity
from closeloop.aftersales.coupon_selectors import (
    CouponFilters,
    coupon_list,
    coupon_report,
    customer_coupons,
)
from closeloop.aftersales.coupons import (
    coupon_issue,
    coupon_redeem,
    coupon_redemption_link_deal,
    coupon_validate,
    coupon_withdraw,
)
from closeloop.aftersales.models import Coupon, CouponRedemption
from closeloop.core.exceptions import DomainError
from closeloop.leads.models import Campaign
from tests.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db
LIST = "/customers/coupons/"


@pytest.fixture
def world(admin, rep, outsider, bakery_deal):
    """Coupons of Rita's customer (Lena of Bakery Lind), of Otto's customer, and campaign codes.

    | code        | for            | origin   | campaign | state                          |
    | lena10      | Lena (Rita)    | manual   | —        | 10 %, active                   |
    | bakery5     | Bakery Lind    | plan     | —        | 5 EUR, expired yesterday       |
    | otto20      | Olaf (Otto)    | manual   | —        | 20 %, active                   |
    | SPRING25    | anyone         | campaign | Spring   | 25 %, 2 uses in all            |
    | WINTER      | anyone         | campaign | —        | 15 EUR, withdrawn              |
    """
    spring = Campaign.objects.create(name="Spring")
    olaf = ContactFactory(
        first_name="Olaf", last_name="Other", owner=outsider,
        organization=OrganizationFactory(name="Other Ltd", owner=outsider),
    )  # fmt: skip
    lena = bakery_deal.contact
    coupons = {
        "lena10": coupon_issue(actor=rep, kind="percent", value=10, contact=lena),
        "bakery5": coupon_issue(
            actor=rep, kind="amount", value=5, currency="EUR",
            organization=bakery_deal.organization, origin="plan",
            expires_at=timezone.now() - dt.timedelta(days=1),
        ),
        "otto20": coupon_issue(actor=outsider, kind="percent", value=20, contact=olaf),
        "spring": coupon_issue(
            actor=admin, kind="percent", value=25, code="spring25", origin="campaign",
            campaign=spring, max_uses=2,
        ),
        "winter": coupon_issue(
            actor=admin, kind="amount", value=15, currency="EUR", code="WINTER",
            origin="campaign",
        ),
    }  # fmt: skip
    coupon_withdraw(actor=admin, coupon=coupons["winter"], reason="Season over")
    return {"lena": lena, "olaf": olaf, "spring_campaign": spring, "deal": bakery_deal, **coupons}


def _codes(qs) -> set[str]:
    return {c.code for c in qs}


def test_visibility_follows_the_customers_owner(world, admin, rep, outsider, teammate):
    everything = {c.code for c in Coupon.objects.all()}
    assert _codes(coupon_list(user=admin, filters=CouponFilters())) == everything
    mine = {world["lena10"].code, world["bakery5"].code, "SPRING25", "WINTER"}
    assert _codes(coupon_list(user=rep, filters=CouponFilters())) == mine
    assert _codes(coupon_list(user=outsider, filters=CouponFilters())) == {
        world["otto20"].code, "SPRING25", "WINTER",
    }  # fmt: skip
    # a teammate of Rita sees only shared records and campaign codes (workspace default: own)
    assert _codes(coupon_list(user=teammate, filters=CouponFilters())) == {"SPRING25", "WINTER"}


def test_a_rep_seeing_only_the_organization_still_sees_its_contacts_coupons(world, rep, teammate):
    world["lena"].owner = teammate  # Lena moves to Tom; Bakery Lind stays Rita's
    world["lena"].save()
    assert world["lena10"].code in _codes(coupon_list(user=rep, filters=CouponFilters()))


def test_the_list_page_shows_only_visible_coupons(world, rep_client, outsider_client):
    page = rep_client.get(LIST).content.decode()
    assert world["lena10"].code in page and "SPRING25" in page
    assert world["otto20"].code not in page
    assert world["otto20"].code in outsider_client.get(LIST).content.decode()
    assert rep_client.get(f"/customers/coupons/{world['otto20'].pk}/").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=active", {"lena10", "SPRING25"}),
        ("status=expired", {"bakery5"}),
        ("status=withdrawn", {"WINTER"}),
        ("origin=campaign", {"SPRING25", "WINTER"}),
        ("origin=plan", {"bakery5"}),
        ("q=spring", {"SPRING25"}),
    ],
)
def test_filters(world, rep_client, query, expected):
    response = rep_client.get(f"{LIST}?{query}")
    shown = {c.code for c in response.context["page_obj"]}
    names = {"lena10": world["lena10"].code, "bakery5": world["bakery5"].code}
    assert shown == {names.get(code, code) for code in expected}


def test_filter_by_customer_and_campaign_and_used_up(world, rep, rep_client):
    shown = rep_client.get(f"{LIST}?contact={world['lena'].pk}").context["page_obj"]
    assert [c.code for c in shown] == [world["lena10"].code]
    org = world["deal"].organization_id
    shown = rep_client.get(f"{LIST}?organization={org}").context["page_obj"]
    assert {c.code for c in shown} == {world["lena10"].code, world["bakery5"].code}
    shown = rep_client.get(f"{LIST}?campaign={world['spring_campaign'].pk}").context["page_obj"]
    assert [c.code for c in shown] == ["SPRING25"]
    for contact in (world["lena"], ContactFactory(owner=rep)):
        coupon_redeem(actor=rep, code="SPRING25", order_value=100, currency="EUR", contact=contact)
    shown = rep_client.get(f"{LIST}?status=used_up").context["page_obj"]
    assert [c.code for c in shown] == ["SPRING25"]
    assert "Used up" in rep_client.get(f"{LIST}?status=used_up").content.decode()


def test_the_list_page_costs_the_same_queries_for_more_coupons(
    world, admin, rep_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(30) as first:
        rep_client.get(LIST)
    for _ in range(10):
        coupon_issue(actor=admin, kind="percent", value=5, contact=world["lena"])
    with django_assert_max_num_queries(len(first.captured_queries)):
        rep_client.get(LIST)


# Issuing -----------------------------------------------------------------------------------------


def _issue_form(**changes) -> dict:
    data = {
        "target": "customer", "contact": "", "organization": "", "code": "", "campaign": "",
        "kind": "percent", "value": "10", "currency": "EUR", "expires_on": "",
        "valid_days": "", "max_uses": "", "max_uses_per_customer": "1", "min_order": "",
        "description": "",
    }  # fmt: skip
    data.update(changes)
    return data


def test_issue_a_coupon_to_a_customer(world, rep, rep_client):
    lena = world["lena"]
    response = rep_client.post(
        "/customers/coupons/new/",
        _issue_form(contact=lena.pk, kind="amount", value="30", min_order="200",
                    valid_days="30", description="Thanks for the website"),
    )  # fmt: skip
    coupon = Coupon.objects.get(description="Thanks for the website")
    assert response.status_code == 302 and response["Location"].endswith(f"/{coupon.pk}/")
    assert (coupon.contact, coupon.organization) == (lena, lena.organization)
    assert (coupon.kind, coupon.value, coupon.currency) == ("amount", Decimal("30"), "EUR")
    assert coupon.min_order == Decimal("200") and coupon.origin == "manual"
    assert coupon.issued_by == rep and coupon.max_uses_per_customer == 1
    assert abs(coupon.expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(
        minutes=1
    )
    assert len(coupon.code) == 14  # a random code, XXXX-XXXX-XXXX


@time_machine.travel(dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC), tick=False)
def test_an_expiry_date_lasts_to_the_end_of_that_day_in_the_issuers_zone(world, rep, rep_client):
    rep.time_zone = "Europe/Berlin"
    rep.save()
    rep_client.post(
        "/customers/coupons/new/",
        _issue_form(target="campaign", code="JUNE", expires_on="2026-06-30", max_uses="100"),
    )
    coupon = Coupon.objects.get(code="JUNE")
    assert coupon.expires_at == dt.datetime(2026, 6, 30, 22, tzinfo=dt.UTC)  # midnight in Berlin
    assert (coupon.origin, coupon.contact, coupon.max_uses) == ("campaign", None, 100)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({}, "contact", "Choose the contact or the organization it is for."),
        ({"target": "campaign", "value": "abc"}, "value", "Value: 'abc' is not a number."),
        ({"target": "campaign", "value": "120"}, "value", "a percentage cannot be above 100"),
        ({"target": "campaign", "code": "SPRING25"}, "code", "The code SPRING25 is taken."),
        ({"target": "campaign", "code": "a b"}, "code", "3 to 32 letters, digits or dashes"),
        ({"target": "campaign", "min_order": "lots"}, "min_order", "Minimum order: 'lots'"),
        ({"target": "campaign", "max_uses": "0"}, "max_uses", "greater than or equal to 1"),
        (
            {"target": "campaign", "expires_on": "2030-01-01", "valid_days": "5"},
            "valid_days",
            "Give an expiry date or a number of days, not both.",
        ),
        ({"target": "campaign", "expires_on": "2001-01-01"}, "expires_on", "in the past"),
    ],
)
def test_issue_errors_name_the_field(world, rep_client, changes, field, message):
    before = Coupon.objects.count()
    response = rep_client.post("/customers/coupons/new/", _issue_form(**changes))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and message in " ".join(errors[field]), errors
    assert Coupon.objects.count() == before
    assert message.split("'")[0] in response.content.decode()


def test_the_issue_form_offers_only_visible_customers(world, rep_client):
    before = Coupon.objects.count()
    response = rep_client.post("/customers/coupons/new/", _issue_form(contact=world["olaf"].pk))
    assert "Select a valid choice" in " ".join(response.context["form"].errors["contact"])
    assert Coupon.objects.count() == before


# Withdrawing -----------------------------------------------------------------------------------


def test_withdraw_is_recorded_and_refuses_later_use(world, rep, rep_client):
    coupon = world["lena10"]
    response = rep_client.post(
        f"/customers/coupons/{coupon.pk}/withdraw/", {"reason": "Sent by mistake"}
    )
    assert response.status_code == 302
    coupon.refresh_from_db()
    assert not coupon.is_active and coupon.withdrawn_by == rep
    assert coupon.withdraw_reason == "Sent by mistake" and coupon.withdrawn_at is not None
    note = Activity.objects.get(subject=f"Coupon {coupon.code} withdrawn")
    assert (note.contact, note.body, note.actor) == (world["lena"], "Sent by mistake", rep)
    check = coupon_validate(code=coupon.code, order_value=50, contact=world["lena"])
    assert not check.ok and check.reason == "This coupon has been withdrawn."
    page = rep_client.get(f"/customers/coupons/{coupon.pk}/").content.decode()
    assert "Withdrawn" in page and "Sent by mistake" in page and "Rita Rep" in page
    with pytest.raises(DomainError, match="already been withdrawn"):
        coupon_withdraw(actor=rep, coupon=coupon)


def test_a_rep_cannot_withdraw_a_coupon_they_cannot_see(world, rep_client):
    coupon = world["otto20"]
    assert rep_client.post(f"/customers/coupons/{coupon.pk}/withdraw/").status_code == 404
    coupon.refresh_from_db()
    assert coupon.is_active


# The panel on the customer's page ---------------------------------------------------------------


def test_the_contact_and_organization_pages_show_coupons_and_redemptions(world, rep, rep_client):
    lena = world["lena"]
    coupon_redeem(
        actor=rep, code=world["lena10"].code, order_value="80", currency="EUR", contact=lena,
        note="Spare parts",
    )  # fmt: skip
    page = rep_client.get(f"/people/contacts/{lena.pk}/").content.decode()
    assert world["lena10"].code in page and "10 % off" in page
    assert "€8 off €80" in page.replace("<strong>", "").replace("</strong>", "")
    assert "Spare parts" in page
    assert world["bakery5"].code not in page  # the organization's own coupon
    assert "Redeem a coupon" in page
    org = world["deal"].organization
    page = rep_client.get(f"/people/organizations/{org.pk}/").content.decode()
    assert world["lena10"].code in page and world["bakery5"].code in page
    assert "Expired" in page and "Lena Lind" in page


def test_customer_coupons_selector(world, rep):
    coupons, redemptions = customer_coupons(user=rep, organization=world["deal"].organization)
    assert {c.code for c in coupons} == {world["lena10"].code, world["bakery5"].code}
    assert redemptions == []


def _check(client, kind, pk, **data):
    return client.post(
        f"/customers/coupons/customer/{kind}/{pk}/check/", data, HTTP_HX_REQUEST="true"
    ).content.decode()


def test_the_check_shows_the_discount_or_the_reason(world, rep_client):
    lena, code = world["lena"], world["lena10"].code
    html = _check(rep_client, "contact", lena.pk, code=code.lower(), order_value="249.95",
                  currency="EUR")  # fmt: skip
    assert "takes <strong>€25</strong> off" in html
    html = _check(rep_client, "contact", lena.pk, code=world["otto20"].code, order_value="10",
                  currency="EUR")  # fmt: skip
    assert "This coupon was issued to another customer." in html
    org = world["deal"].organization_id
    html = _check(rep_client, "organization", org, code=world["bakery5"].code, order_value="10",
                  currency="EUR")  # fmt: skip
    assert "This coupon expired on" in html
    assert "There is no coupon" in _check(
        rep_client, "contact", lena.pk, code="NOPE", order_value="1", currency="EUR"
    )
    assert not CouponRedemption.objects.exists()


def test_the_check_is_404_for_a_hidden_customer(world, rep_client):
    response = rep_client.post(
        f"/customers/coupons/customer/contact/{world['olaf'].pk}/check/",
        {"code": world["otto20"].code, "order_value": "10"},
    )
    assert response.status_code == 404


def test_redeem_on_the_contact_page_with_htmx(world, rep, rep_client):
    lena, deal = world["lena"], world["deal"]
    response = rep_client.post(
        f"/customers/coupons/customer/contact/{lena.pk}/redeem/",
        {"code": world["lena10"].code, "order_value": "300", "currency": "EUR",
         "deal": deal.pk, "note": "Hosting"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Coupon {world['lena10'].code} redeemed: 30.00 EUR off." in html
    redemption = CouponRedemption.objects.get()
    assert (redemption.contact, redemption.organization, redemption.deal) == (
        lena, lena.organization, deal,
    )  # fmt: skip
    assert (redemption.discount, redemption.redeemed_by, redemption.note) == (
        Decimal("30.00"), rep, "Hosting",
    )  # fmt: skip
    # the refusal comes back into the same panel, on the code field
    again = rep_client.post(
        f"/customers/coupons/customer/contact/{lena.pk}/redeem/",
        {"code": world["lena10"].code, "order_value": "300", "currency": "EUR"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "This customer has already used this coupon." in again
    assert CouponRedemption.objects.count() == 1


def test_redeem_without_htmx_redirects_with_a_message(world, rep_client):
    org = world["deal"].organization
    response = rep_client.post(
        f"/customers/coupons/customer/organization/{org.pk}/redeem/",
        {"code": "SPRING25", "order_value": "40", "currency": "EUR"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/people/organizations/{org.pk}/"
    assert "Coupon SPRING25 redeemed: 10.00 EUR off." in response.content.decode()
    response = rep_client.post(
        f"/customers/coupons/customer/organization/{org.pk}/redeem/",
        {"code": world["bakery5"].code, "order_value": "40", "currency": "EUR"},
        follow=True,
    )
    assert "The coupon was not redeemed: This coupon expired on" in response.content.decode()


def test_redeem_refuses_a_deal_of_another_customer_and_a_hidden_customer(world, rep, rep_client):
    foreign = DealFactory(owner=rep, title="Someone else's")
    response = rep_client.post(
        f"/customers/coupons/customer/contact/{world['lena'].pk}/redeem/",
        {"code": "SPRING25", "order_value": "40", "currency": "EUR", "deal": foreign.pk},
        HTTP_HX_REQUEST="true",
    )
    assert "Select a valid choice" in response.content.decode()
    hidden = rep_client.post(
        f"/customers/coupons/customer/contact/{world['olaf'].pk}/redeem/",
        {"code": world["otto20"].code, "order_value": "40", "currency": "EUR"},
    )
    assert hidden.status_code == 404
    assert not CouponRedemption.objects.exists()


# Linking the repeat deal -------------------------------------------------------------------------


def test_link_a_redemption_to_the_repeat_deal(world, rep, rep_client):
    lena = world["lena"]
    redemption = coupon_redeem(
        actor=rep, code="SPRING25", order_value=100, currency="EUR", contact=lena
    )
    repeat = DealFactory(
        owner=rep, title="Second shop", organization=lena.organization, contact=lena
    )
    response = rep_client.post(
        f"/customers/coupons/redemptions/{redemption.pk}/deal/",
        {"deal": repeat.pk, "next": f"/people/contacts/{lena.pk}/"},
    )
    assert response["Location"] == f"/people/contacts/{lena.pk}/"
    redemption.refresh_from_db()
    assert redemption.deal == repeat
    note = Activity.objects.get(subject="Coupon SPRING25 linked to “Second shop”")
    assert (note.deal, note.contact, note.actor) == (repeat, lena, rep)
    # unlinking
    rep_client.post(f"/customers/coupons/redemptions/{redemption.pk}/deal/", {"deal": ""})
    redemption.refresh_from_db()
    assert redemption.deal is None


def test_only_a_deal_of_the_same_customer_may_be_linked(world, rep, outsider_client):
    redemption = coupon_redeem(
        actor=rep, code="SPRING25", order_value=100, currency="EUR", contact=world["lena"]
    )
    with pytest.raises(DomainError, match="another customer"):
        coupon_redemption_link_deal(actor=rep, redemption=redemption, deal=DealFactory(owner=rep))
    response = outsider_client.post(
        f"/customers/coupons/redemptions/{redemption.pk}/deal/", {"deal": ""}
    )
    assert response.status_code == 404  # Otto may not see Lena's redemption


# The report ------------------------------------------------------------------------------------


@pytest.fixture
def redeemed(world, rep, outsider):
    """Lena uses lena10 on 249.95 EUR (−25.00) and SPRING25 on 80 EUR (−20.00); Olaf uses
    SPRING25 on 40 USD (−10.00) and otto20 on 50 EUR (−10.00)."""
    lena, olaf = world["lena"], world["olaf"]
    coupon_redeem(actor=rep, code=world["lena10"].code, order_value="249.95", currency="EUR",
                  contact=lena)  # fmt: skip
    coupon_redeem(actor=rep, code="SPRING25", order_value=80, currency="EUR", contact=lena)
    coupon_redeem(actor=outsider, code="SPRING25", order_value=40, currency="USD", contact=olaf)
    coupon_redeem(actor=outsider, code=world["otto20"].code, order_value=50, currency="EUR",
                  contact=olaf)  # fmt: skip
    return world


def _row(rows, label):
    return next(r for r in rows if r.label == label)


def test_report_for_an_admin(redeemed, admin):
    report = coupon_report(user=admin, filters=CouponFilters())
    assert (report.total.issued, report.total.redeemed) == (5, 4)
    assert report.total.discount == {"EUR": Decimal("55.00"), "USD": Decimal("10.00")}
    assert report.total.orders == {"EUR": Decimal("379.95"), "USD": Decimal("40.00")}
    manual = _row(report.by_origin, "Issued by hand")
    assert (manual.issued, manual.redeemed, manual.discount) == (2, 2, {"EUR": Decimal("35.00")})
    campaign = _row(report.by_origin, "Campaign code")
    assert (campaign.issued, campaign.redeemed) == (2, 2)
    assert campaign.discount == {"EUR": Decimal("20.00"), "USD": Decimal("10.00")}
    plan = _row(report.by_origin, "Follow-up plan")
    assert (plan.issued, plan.redeemed, plan.discount) == (1, 0, {})
    spring = _row(report.by_campaign, "Spring")
    assert (spring.issued, spring.redeemed) == (1, 2)
    none = _row(report.by_campaign, "No campaign")
    assert (none.issued, none.redeemed, none.discount) == (4, 2, {"EUR": Decimal("35.00")})


def test_report_counts_only_what_a_rep_may_see(redeemed, rep, rep_client):
    report = coupon_report(user=rep, filters=CouponFilters())
    # Rita sees lena10, bakery5, SPRING25, WINTER and only Lena's two redemptions
    assert (report.total.issued, report.total.redeemed) == (4, 2)
    assert report.total.discount == {"EUR": Decimal("45.00")}
    spring = _row(report.by_campaign, "Spring")
    assert (spring.issued, spring.redeemed, spring.discount) == (1, 1, {"EUR": Decimal("20.00")})
    filtered = coupon_report(user=rep, filters=CouponFilters(origin="manual"))
    assert (filtered.total.issued, filtered.total.redeemed) == (1, 1)
    assert filtered.total.discount == {"EUR": Decimal("25.00")}
    page = rep_client.get(LIST).content.decode()
    assert "Coupon report" in page and "€45" in page and "Spring" in page
    assert "$10" not in page


def test_the_customer_panel_links_to_a_prefilled_issue_form(world, rep_client):
    lena = world["lena"]
    page = rep_client.get(f"/people/contacts/{lena.pk}/").content.decode()
    assert f'href="/customers/coupons/new/?contact={lena.pk}"' in page
    assert f'href="/customers/coupons/?contact={lena.pk}"' in page
    form = rep_client.get(f"/customers/coupons/new/?contact={lena.pk}").context["form"]
    assert form["contact"].value() == lena.pk
    listed = rep_client.get(f"/customers/coupons/?contact={lena.pk}").content.decode()
    assert "Only the coupons of <strong>Lena Lind</strong>" in listed
