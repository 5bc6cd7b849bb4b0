"""The customer pages: exact figures, visibility (a rep sees only their sales; a hidden customer
is 404), products from proposal lines, plans, scores, coupons, tasks, and constant query counts.

The history (all EUR unless said; rep = Rita of team North, outsider = Otto of team South):

| organization | owner    | deal      | won by   | won at     | value   | contact |
| Bakery Lind  | rep      | Website   | rep      | 2026-03-01 | 1000    | Lena    |
| Bakery Lind  | rep      | Shop      | rep      | 2026-05-10 | 500     | Lena    |
| Bakery Lind  | rep      | Logo      | rep      | 2026-04-01 | 200 USD | —       |
| Bakery Lind  | rep      | Upsell    | (open)   |            | 9000    | Lena    |
| Garage Otto  | outsider | Repairs   | outsider | 2026-02-01 | 3000    | Olaf    |
| Shared Co    | nobody   | Consult   | outsider | 2026-06-15 | 700     | —       |

Lena answered NPS 9 (2026-05-20), then NPS 6 (2026-06-01), and CSAT 4 (2026-05-21).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from closeloop.activities.models import Activity
from closeloop.aftersales.coupons import coupon_issue, coupon_redeem
from closeloop.aftersales.models import (
    FollowUpPlan,
    PlanStep,
    Survey,
    SurveyInvite,
    SurveyResponse,
)
from closeloop.aftersales.referrals import referral_url
from closeloop.proposals.models import LineItem, Proposal
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(hour=12, tzinfo=dt.UTC)


def won(**kwargs: Any) -> Any:
    return DealFactory(status="won", **kwargs)


def answer(survey: Survey, contact: Any, score: int, at: str, comment: str = "") -> Any:
    invite = SurveyInvite.objects.create(
        survey=survey, contact=contact, organization=contact.organization, email="x@y.example"
    )
    return SurveyResponse.objects.create(
        invite=invite, score=score, comment=comment, answered_at=day(at)
    )


def survey(kind: str) -> Survey:
    return Survey.objects.create(
        name=f"{kind} survey", kind=kind, question="How did we do?",
        email_subject="How did we do?", email_body="Please tell us.",
    )  # fmt: skip


@pytest.fixture
def history(rep: Any, outsider: Any) -> dict[str, Any]:
    bakery = OrganizationFactory(name="Bakery Lind", owner=rep)
    lena = ContactFactory(first_name="Lena", last_name="Lind", organization=bakery, owner=rep)
    ContactEmailFactory(contact=lena, email="lena@bakery.example")
    garage = OrganizationFactory(name="Garage Otto", owner=outsider)
    olaf = ContactFactory(first_name="Olaf", last_name="Otto", organization=garage, owner=outsider)
    shared = OrganizationFactory(name="Shared Co", owner=None)
    deals = {
        "website": won(title="Website", owner=rep, organization=bakery, contact=lena,
                       value=Decimal("1000"), won_at=day("2026-03-01")),
        "shop": won(title="Shop", owner=rep, organization=bakery, contact=lena,
                    value=Decimal("500"), won_at=day("2026-05-10")),
        "logo": won(title="Logo", owner=rep, organization=bakery, currency="USD",
                    value=Decimal("200"), won_at=day("2026-04-01")),
        "upsell": DealFactory(title="Upsell", owner=rep, organization=bakery, contact=lena,
                              value=Decimal("9000")),
        "repairs": won(title="Repairs", owner=outsider, organization=garage, contact=olaf,
                       value=Decimal("3000"), won_at=day("2026-02-01")),
        "consult": won(title="Consult", owner=outsider, organization=shared,
                       value=Decimal("700"), won_at=day("2026-06-15")),
    }  # fmt: skip
    nps, csat = survey("nps"), survey("csat")
    answer(nps, lena, 9, "2026-05-20")
    answer(nps, lena, 6, "2026-06-01", comment="Delivery was late")
    answer(csat, lena, 4, "2026-05-21")
    return {"bakery": bakery, "lena": lena, "garage": garage, "olaf": olaf, "shared": shared,
            **deals}  # fmt: skip


def _rows(page: Any) -> list[tuple[Any, ...]]:
    return [
        (c.pk, c.purchases, c.last_purchase.date().isoformat(), c.won_value, c.nps, c.csat)
        for c in page
    ]


def test_the_list_shows_each_customer_with_exact_figures(admin_client_, history):
    response = admin_client_.get(reverse("aftersales:customers"))
    assert response.status_code == 200
    orgs = response.context["organizations"]
    assert _rows(orgs) == [
        (history["shared"].pk, 1, "2026-06-15", Decimal("700.00"), None, None),
        (history["bakery"].pk, 3, "2026-05-10", Decimal("1500.00"), 6, 4),  # USD not added
        (history["garage"].pk, 1, "2026-02-01", Decimal("3000.00"), None, None),
    ]
    assert _rows(response.context["contacts"]) == [
        (history["lena"].pk, 2, "2026-05-10", Decimal("1500.00"), 6, 4),
        (history["olaf"].pk, 1, "2026-02-01", Decimal("3000.00"), None, None),
    ]
    body = response.content.decode()
    assert "€1,500" in body and "Rita Rep" in body


def test_a_rep_sees_only_customers_of_their_own_won_deals(rep_client, history):
    response = rep_client.get(reverse("aftersales:customers"))
    # Shared Co is visible to Rita (no owner) but its won deal is not hers: not her customer
    assert _rows(response.context["organizations"]) == [
        (history["bakery"].pk, 3, "2026-05-10", Decimal("1500.00"), 6, 4),
    ]
    assert [c.pk for c in response.context["contacts"]] == [history["lena"].pk]
    assert "Garage Otto" not in response.content.decode()


def test_search_narrows_the_list(admin_client_, history):
    response = admin_client_.get(reverse("aftersales:customers"), {"q": "bakery"})
    assert [o.pk for o in response.context["organizations"]] == [history["bakery"].pk]


def test_a_hidden_customer_is_404(outsider_client, rep_client, history):
    assert (
        outsider_client.get(
            reverse("aftersales:customer_organization", args=[history["bakery"].pk])
        ).status_code
        == 404
    )
    assert (
        outsider_client.get(
            reverse("aftersales:customer_contact", args=[history["lena"].pk])
        ).status_code
        == 404
    )
    assert (
        rep_client.get(
            reverse("aftersales:customer_organization", args=[history["garage"].pk])
        ).status_code
        == 404
    )


def _after_sale(history: dict[str, Any], rep: Any, admin: Any) -> None:
    """Proposals, a plan, a coupon with a redemption and tasks around Bakery Lind."""
    website, shop = history["website"], history["shop"]
    old = Proposal.objects.create(deal=website, title="First idea", currency="EUR",
                                  status="declined")  # fmt: skip
    LineItem.objects.create(proposal=old, name="Old idea", unit_price=Decimal("1"))
    accepted = Proposal.objects.create(deal=website, title="Website", currency="EUR",
                                       status="accepted")  # fmt: skip
    LineItem.objects.create(proposal=accepted, position=1, name="Design", unit_price=Decimal("1"))
    LineItem.objects.create(
        proposal=accepted, position=2, name="Hosting", quantity=Decimal("12"),
        unit_price=Decimal("1"),
    )  # fmt: skip
    draft = Proposal.objects.create(deal=shop, title="Shop", currency="EUR")
    LineItem.objects.create(proposal=draft, name="Shop setup", unit_price=Decimal("1"))
    plan = FollowUpPlan.objects.create(
        name="Welcome", deal=website, organization=history["bakery"], contact=history["lena"],
        owner=rep, won_at=website.won_at,
    )  # fmt: skip
    PlanStep.objects.create(plan=plan, position=1, kind="task", title="Welcome call",
                            state="done", ran_at=day("2026-03-02"))  # fmt: skip
    PlanStep.objects.create(plan=plan, position=2, kind="survey", title="Ask how it went",
                            due_at=day("2026-03-31"))  # fmt: skip
    coupon = coupon_issue(actor=admin, kind="percent", value=10, contact=history["lena"],
                          description="Thank you")  # fmt: skip
    coupon_redeem(actor=admin, code=coupon.code, order_value="500", currency="EUR",
                  contact=history["lena"], deal=shop)  # fmt: skip
    Activity.objects.create(kind="task", subject="Check in after launch", owner=rep,
                            organization=history["bakery"], contact=history["lena"],
                            due_at=day("2026-07-01"))  # fmt: skip
    Activity.objects.create(kind="task", subject="Done already", owner=rep,
                            organization=history["bakery"], due_at=day("2026-03-05"),
                            done_at=day("2026-03-05"))  # fmt: skip


def test_the_organization_page_shows_everything_after_the_sale(rep_client, rep, admin, history):
    _after_sale(history, rep, admin)
    url = reverse("aftersales:customer_organization", args=[history["bakery"].pk])
    response = rep_client.get(url)
    assert response.status_code == 200
    page = response.context["page"]
    assert [d.title for d in page.purchases] == ["Shop", "Logo", "Website"]
    products = {d.title: [(li.name, li.quantity) for li in d.products] for d in page.purchases}
    assert products == {
        "Shop": [("Shop setup", Decimal("1"))],  # no accepted proposal: the newest one
        "Logo": [],
        "Website": [("Design", Decimal("1")), ("Hosting", Decimal("12"))],  # the accepted one
    }
    assert (page.won_value, page.other_currency) == (Decimal("1500.00"), 1)
    assert [(s.title, s.state) for s in page.plans[0].steps.all()] == [
        ("Welcome call", "done"), ("Ask how it went", "pending"),
    ]  # fmt: skip
    assert [(r.score, r.comment) for r in page.responses] == [
        (6, "Delivery was late"), (4, ""), (9, ""),
    ]  # fmt: skip
    [coupon] = page.coupons
    assert [(r.discount, r.deal.title) for r in coupon.redemptions.all()] == [
        (Decimal("50.00"), "Shop")
    ]
    assert [t.subject for t in page.tasks] == ["Check in after launch"]
    body = response.content.decode()
    assert "Hosting × 12" in body and "Old idea" not in body and "Upsell" not in body
    assert "Waiting" in body and "Delivery was late" in body and coupon.code in body
    assert referral_url(history["lena"]) in body and 'data-copy="referral-url-' in body
    assert "Account owner</dt><dd>Rita Rep" in body


def test_the_contact_page_has_their_own_purchases_and_link(rep_client, rep, admin, history):
    _after_sale(history, rep, admin)
    response = rep_client.get(reverse("aftersales:customer_contact", args=[history["lena"].pk]))
    page = response.context["page"]
    assert [d.title for d in page.purchases] == ["Shop", "Website"]  # Logo has no contact
    assert page.won_value == Decimal("1500.00") and len(page.coupons) == 1
    assert [t.subject for t in page.tasks] == ["Check in after launch"]
    assert referral_url(history["lena"]) in response.content.decode()


def test_the_list_takes_the_same_queries_for_more_customers(admin_client_, history, rep):
    url = reverse("aftersales:customers")
    admin_client_.get(url)  # warm caches (workspace settings, session)
    with CaptureQueriesContext(connection) as few:
        admin_client_.get(url)
    for n in range(4):
        org = OrganizationFactory(name=f"Extra {n}", owner=rep)
        person = ContactFactory(organization=org, owner=rep)
        won(owner=rep, organization=org, contact=person, won_at=day(f"2026-01-0{n + 1}"))
    with CaptureQueriesContext(connection) as many:
        response = admin_client_.get(url)
    assert len(response.context["organizations"]) == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_customer_page_takes_the_same_queries_for_more_rows(admin_client_, admin, rep, history):
    url = reverse("aftersales:customer_organization", args=[history["bakery"].pk])
    _after_sale(history, rep, admin)
    admin_client_.get(url)
    with CaptureQueriesContext(connection) as few:
        admin_client_.get(url)
    _after_sale(history, rep, admin)  # a second set of everything
    for n in range(3):
        deal = won(owner=rep, organization=history["bakery"], contact=history["lena"],
                   won_at=day(f"2026-01-1{n}"))  # fmt: skip
        proposal = Proposal.objects.create(deal=deal, title="P", currency="EUR",
                                           status="accepted")  # fmt: skip
        LineItem.objects.create(proposal=proposal, name=f"Thing {n}", unit_price=Decimal("1"))
        ContactFactory(organization=history["bakery"], owner=rep)
    with CaptureQueriesContext(connection) as many:
        response = admin_client_.get(url)
    page = response.context["page"]
    assert (len(page.purchases), len(page.plans), len(page.coupons)) == (6, 2, 2)
    assert len(many.captured_queries) == len(few.captured_queries)
