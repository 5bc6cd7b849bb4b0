"""Segment criteria select exactly the customers the small history says, in one query."""

from __future__ import annotations

from decimal import Decimal

import pytest

from closeloop.aftersales.models import Segment
from closeloop.aftersales.segments import (
    segment_contacts,
    segment_create,
    segment_criteria_clean,
    segment_update,
)
from closeloop.core.exceptions import DomainError

from .mailings_history import customers as customers

pytestmark = pytest.mark.django_db


def names(criteria, user=None) -> list[str]:
    segment = Segment(name="t", criteria=segment_criteria_clean(criteria))
    return sorted(c.first_name for c in segment_contacts(segment, user=user))


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, ["Lars", "Lena", "Sam"]),  # Nina only lost a deal
        ({"purchases_min": 2}, ["Lars", "Lena"]),
        ({"purchases_max": 1}, ["Sam"]),
        ({"last_purchase_before": "2025-07-01"}, ["Sam"]),
        ({"last_purchase_after": "2025-09-01"}, ["Lars", "Lena"]),  # inclusive
        ({"last_purchase_after": "2025-09-02"}, []),
        ({"last_purchase_after": "2025-06-01", "last_purchase_before": "2025-06-02"}, ["Sam"]),
        ({"products": "oven"}, ["Lars", "Lena"]),
        ({"won_total_min": "1500"}, ["Lars", "Lena"]),
        ({"won_total_min": "1500.01"}, []),
        ({"won_total_max": "100"}, ["Sam"]),  # his deal is in USD: not added to a EUR total
        ({"nps_bands": ["promoter"]}, ["Lena"]),  # her latest answer, not her first
        ({"nps_bands": ["passive", "detractor"]}, ["Sam"]),
        ({"nps_bands": ["detractor"]}, []),
        ({"consent_only": True}, ["Lena", "Sam"]),
        ({"consent_only": True, "purchases_min": 2, "products": "oven"}, ["Lena"]),
    ],
)
def test_criteria_select_exactly(customers, criteria, expected):
    if criteria.get("products") == "oven":
        criteria = {**criteria, "products": [customers.oven.pk]}
    assert names(criteria) == expected


def test_figures_on_each_customer(customers, django_assert_max_num_queries):
    segment = Segment(name="all", criteria={})
    # one query for all the figures, plus reading the workspace's base currency (outside a
    # request that is not remembered): never one per customer
    with django_assert_max_num_queries(4):
        rows = {
            c.first_name: (c.purchases, c.won_total, c.last_purchase.date().isoformat(),
                           c.nps_score, c.email)
            for c in segment_contacts(segment)
        }  # fmt: skip
    assert rows == {
        "Lena": (2, Decimal("1500.00"), "2025-09-01", 9, "lena@bakery.example"),
        "Lars": (2, Decimal("1500.00"), "2025-09-01", None, "lars@bakery.example"),
        "Sam": (1, Decimal("0"), "2025-06-01", 7, "sam@solo.example"),
    }


def test_visibility_of_the_contacts(customers, rep, outsider, admin):
    assert names({}, user=rep) == ["Lars", "Lena", "Sam"]
    assert names({}, user=admin) == ["Lars", "Lena", "Sam"]
    assert names({}, user=outsider) == []


def test_criteria_are_checked(customers, manager, rep):
    with pytest.raises(DomainError, match="not a date"):
        segment_criteria_clean({"last_purchase_after": "soon"})
    with pytest.raises(DomainError, match="minimum is above the maximum"):
        segment_criteria_clean({"purchases_min": 3, "purchases_max": 1})
    with pytest.raises(DomainError, match="NPS bands"):
        segment_criteria_clean({"nps_bands": ["fans"]})
    with pytest.raises(DomainError, match="Unknown segment criteria: colour"):
        segment_criteria_clean({"colour": "red"})
    with pytest.raises(DomainError, match="Only admins and managers"):
        segment_create(actor=rep, name="Mine", criteria={})
    segment = segment_create(actor=manager, name="Fans", criteria={"nps_bands": ["promoter"]})
    assert segment.criteria == {"nps_bands": ["promoter"]}
    segment_update(actor=manager, segment=segment, name="Fans", criteria={"purchases_min": "2"})
    assert segment.criteria == {"purchases_min": 2}
    with pytest.raises(DomainError, match="already a segment"):
        segment_create(actor=manager, name="fans", criteria={})


def test_segment_page_shows_count_and_preview(customers, manager_client, rep_client):
    segment = Segment.objects.create(name="Buyers", criteria={"purchases_min": 2})
    page = manager_client.get(f"/customers/segments/{segment.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<span class="segment-count">2</span> customers now' in html
    assert "lena@bakery.example" in html and "lars@bakery.example" in html
    assert "sam@solo.example" not in html
    assert rep_client.get(f"/customers/segments/{segment.pk}/").status_code == 403
    created = manager_client.post(
        "/customers/segments/", {"name": "Promoters", "nps_bands": ["promoter"]}
    )
    assert created.status_code == 302
    assert Segment.objects.get(name="Promoters").criteria == {"nps_bands": ["promoter"]}
