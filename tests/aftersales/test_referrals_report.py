"""The referrals report: per referrer, exact counts and value, as each user may see them.

| referrer (owner)  | lead (owner)  | deal (owner, value, state)      |
| Lena (rep)        | Anna (rep)    | rep, 1000 EUR, won → rewarded   |
| Lena (rep)        | Ben (rep)     | rep, 400 EUR, open              |
| Lena (rep)        | Cleo (outsider) | —                             |
| Olaf (outsider)   | Dora (outsider) | outsider, 3000 EUR, won       |
| Sam (nobody)      | Emil (outsider) | outsider, 50 USD, won         |
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from closeloop.aftersales.referral_selectors import ReferrerRow, referral_report
from closeloop.aftersales.referrals import (
    referral_link_deal,
    referral_record_for_lead,
    referral_token,
)
from closeloop.pipeline.services import deal_mark_won
from tests.factories import ContactFactory, DealFactory, OrganizationFactory
from tests.leads_ui.conftest import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _refer(referrer: Any, name: str, owner: Any, deal: tuple[Any, str, str, bool] | None) -> None:
    lead = LeadFactory(first_name=name, last_name="", owner=owner, email=f"{name}@x.example")
    assert referral_record_for_lead(lead=lead, token=referral_token(referrer)) is not None
    if deal is not None:
        deal_owner, value, currency, is_won = deal
        made = DealFactory(
            owner=deal_owner, lead=lead, value=Decimal(value), currency=currency,
            title=f"{name}'s deal",
        )  # fmt: skip
        referral_link_deal(deal=made)
        if is_won:
            deal_mark_won(actor=deal_owner, deal=made)


@pytest.fixture
def referrals(rep: Any, outsider: Any) -> dict[str, Any]:
    bakery = OrganizationFactory(name="Bakery Lind", owner=rep)
    lena = ContactFactory(first_name="Lena", last_name="Lind", organization=bakery, owner=rep)
    olaf = ContactFactory(first_name="Olaf", last_name="Otto", organization=None, owner=outsider)
    sam = ContactFactory(first_name="Sam", last_name="Shared", organization=None, owner=None)
    _refer(lena, "Anna", rep, (rep, "1000", "EUR", True))
    _refer(lena, "Ben", rep, (rep, "400", "EUR", False))
    _refer(lena, "Cleo", outsider, None)
    _refer(olaf, "Dora", outsider, (outsider, "3000", "EUR", True))
    _refer(sam, "Emil", outsider, (outsider, "50", "USD", True))
    return {"lena": lena, "olaf": olaf, "sam": sam}


def test_an_admin_sees_every_referrer_most_won_value_first(admin, referrals):
    lena, olaf, sam = referrals["lena"], referrals["olaf"], referrals["sam"]
    assert referral_report(user=admin) == [
        ReferrerRow(olaf.pk, "Olaf Otto", "", 1, 1, 1, Decimal("3000.00"), 1),
        ReferrerRow(lena.pk, "Lena Lind", "Bakery Lind", 3, 2, 1, Decimal("1000.00"), 1),
        ReferrerRow(sam.pk, "Sam Shared", "", 1, 1, 1, Decimal("0"), 1),  # USD not added
    ]


def test_a_rep_counts_only_leads_and_deals_they_may_see(rep, referrals):
    lena = referrals["lena"]
    # Cleo is the outsider's lead; Sam's only referral is the outsider's; Olaf is hidden
    assert referral_report(user=rep) == [
        ReferrerRow(lena.pk, "Lena Lind", "Bakery Lind", 2, 2, 1, Decimal("1000.00"), 1),
    ]


def test_the_report_page(rep_client, referrals):
    response = rep_client.get(reverse("aftersales:referrals"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Lena Lind" in body and "€1,000" in body
    assert "Olaf" not in body and "Sam Shared" not in body
    assert reverse("aftersales:customer_contact", args=[referrals["lena"].pk]) in body


def test_the_report_is_one_grouped_query(admin, referrals, django_assert_num_queries):
    with django_assert_num_queries(2):  # the base currency, then every row at once
        referral_report(user=admin)
