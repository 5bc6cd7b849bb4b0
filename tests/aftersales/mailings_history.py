"""A small customer history for the segment and mailing tests (base currency EUR).

| contact | company | consent | email               | won deals (value, won on)           | NPS   |
|---------|---------|---------|---------------------|-------------------------------------|-------|
| Lena    | Bakery  | yes     | lena@bakery.example | D1 1000 EUR 2025-03-01 (Oven; Lena) | 9 (3) |
|         |         |         |                     | D2  500 EUR 2025-09-01 (company)    |       |
| Lars    | Bakery  | no      | lars@bakery.example | (Bakery's: D1, D2)                  | —     |
| Sam     | —       | yes     | sam@solo.example    | D3 2000 USD 2025-06-01              | 7     |
| Nina    | Mill    | yes     | nina@mill.example   | a lost deal only: not a customer    | —     |

NPS: the latest answer (Lena answered 3 first, then 9).
So: Lena and Lars have 2 purchases, 1500 EUR won, last 2025-09-01, bought an Oven; Sam has 1
purchase, 0 EUR won (his deal is in USD), last 2025-06-01. All are Rita's (the rep's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from closeloop.aftersales.models import Survey, SurveyInvite, SurveyResponse
from closeloop.people.models import Contact
from closeloop.pipeline.choices import DealStatus
from closeloop.proposals.models import LineItem, Product, Proposal
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory


@dataclass
class Customers:
    lena: Contact
    lars: Contact
    sam: Contact
    nina: Contact
    oven: Product


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=12, tzinfo=dt.UTC)


def _contact(first: str, org: Any, email: str, consent: bool, owner: Any) -> Contact:
    contact = ContactFactory(
        first_name=first, last_name="Test", organization=org, owner=owner,
        marketing_consent=consent,
    )  # fmt: skip
    ContactEmailFactory(contact=contact, email=email)
    return contact


def _won(owner: Any, title: str, value: str, currency: str, day: str, **who: Any) -> Any:
    return DealFactory(
        title=title, owner=owner, value=Decimal(value), currency=currency,
        status=DealStatus.WON, won_at=at(day), **who,
    )  # fmt: skip


def _nps(contact: Contact, score: int, day: str, survey: Survey) -> None:
    invite = SurveyInvite.objects.create(survey=survey, contact=contact, email="x@example.org")
    SurveyResponse.objects.create(invite=invite, score=score, answered_at=at(day))


@pytest.fixture
def customers(rep: Any, settings: Any) -> Customers:
    settings.BASE_CURRENCY = "EUR"
    bakery = OrganizationFactory(name="Bakery", owner=rep)
    mill = OrganizationFactory(name="Mill", owner=rep)
    lena = _contact("Lena", bakery, "lena@bakery.example", True, rep)
    lars = _contact("Lars", bakery, "lars@bakery.example", False, rep)
    sam = _contact("Sam", None, "sam@solo.example", True, rep)
    nina = _contact("Nina", mill, "nina@mill.example", True, rep)
    oven = Product.objects.create(name="Oven", unit_price=Decimal("1000"), currency="EUR")
    d1 = _won(rep, "D1", "1000", "EUR", "2025-03-01", organization=bakery, contact=lena)
    proposal = Proposal.objects.create(deal=d1, title="Oven offer", currency="EUR")
    LineItem.objects.create(proposal=proposal, product=oven, name="Oven", unit_price=1000)
    _won(rep, "D2", "500", "EUR", "2025-09-01", organization=bakery)
    _won(rep, "D3", "2000", "USD", "2025-06-01", organization=None, contact=sam)
    DealFactory(title="Lost", owner=rep, organization=mill, contact=nina, status=DealStatus.LOST)
    survey = Survey.objects.create(
        name="NPS", kind="nps", question="Recommend us?", email_subject="s", email_body="b"
    )
    _nps(lena, 3, "2025-04-01", survey)
    _nps(lena, 9, "2025-10-01", survey)
    _nps(sam, 7, "2025-07-01", survey)
    return Customers(lena, lars, sam, nina, oven)
