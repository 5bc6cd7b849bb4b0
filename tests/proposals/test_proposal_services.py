"""Starting proposals, editing their lines and terms, and what goes beyond the discount limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.proposals.models import Product, Proposal
from closeloop.proposals.services import (
    LineIn,
    discount_limit_set,
    discount_problems,
    product_create,
    product_update,
    proposal_create,
    proposal_lines_set,
    proposal_update,
    template_save,
    totals_of,
)

pytestmark = pytest.mark.django_db


def test_a_proposal_from_a_template_takes_its_texts_terms_and_todays_prices(
    rep: Any, admin: Any, bakery_deal: Any, web_template: Any, website: Product
):
    product_update(actor=admin, product=website, unit_price=Decimal("4200"))
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    assert proposal.title == "Proposal for New website" and proposal.currency == "EUR"
    assert proposal.intro.startswith("Dear {{ contact.first_name }}")
    assert [i["percent"] for i in proposal.instalments] == ["30", "70"]
    assert [(line.name, line.unit_price) for line in proposal.lines.all()] == [
        ("Website build", Decimal("4200")),
        ("Hosting", Decimal("49")),
    ]
    totals = totals_of(proposal)
    assert totals.one_off.total == Decimal("4998.00")  # 4200 + 19 %
    assert totals.billing("monthly").total == Decimal("699.72")  # 12 × 49 + 19 %
    assert Activity.objects.filter(
        deal=bakery_deal, subject__startswith="Proposal started"
    ).exists()


def test_a_proposal_can_start_from_an_earlier_one_or_blank(
    rep: Any, bakery_deal: Any, web_template
):
    first = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    proposal_lines_set(
        actor=rep, proposal=first, lines=[LineIn(name="Logo", unit_price="500", tax_rate="19")]
    )
    copy = proposal_create(actor=rep, deal=bakery_deal, based_on=first, title="Second try")
    assert copy.based_on == first and copy.template == web_template
    assert [line.name for line in copy.lines.all()] == ["Logo"]
    blank = proposal_create(actor=rep, deal=bakery_deal)
    assert blank.lines.count() == 0 and blank.template is None


def test_one_bad_line_changes_nothing_and_is_named(rep: Any, bakery_deal: Any, web_template):
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    with pytest.raises(DomainError, match=r"Line 2 \(Setup\): the quantity must be more than 0"):
        proposal_lines_set(
            actor=rep,
            proposal=proposal,
            lines=[LineIn(name="Logo", unit_price="1"), LineIn(name="Setup", quantity="-2")],
        )
    assert proposal.lines.count() == 2


def test_a_product_in_another_currency_is_refused(rep: Any, admin: Any, bakery_deal: Any):
    dollars = product_create(
        actor=admin, name="US support", unit_price=Decimal("100"), currency="USD"
    )
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    with pytest.raises(DomainError, match="priced in USD, this proposal is in EUR"):
        proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=dollars)])


def test_a_stale_edit_is_refused(rep: Any, bakery_deal: Any):
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    stale = proposal.version
    proposal_update(actor=rep, proposal=proposal, title="Website, phase 1")
    with pytest.raises(DomainError, match="changed by someone else"):
        proposal_update(actor=rep, proposal=proposal, expected_version=stale, net_days=60)
    assert Proposal.objects.get(pk=proposal.pk).net_days == 30


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"instalments": [{"percent": "50"}, {"percent": "40"}]}, "instalments", "90 %, not 100"),
        ({"delivery": [{"label": "Launch", "date": "31.12.2026"}]}, "delivery", "not a date"),
        ({"delivery": [{"label": "Launch"}]}, "delivery", "needs a date or days"),
        ({"payment_terms": "instalments", "instalments": []}, "instalments", "Add the instal"),
        ({"net_days": "soon"}, "net_days", "number of days"),
    ],
)
def test_terms_are_checked(rep: Any, bakery_deal: Any, changes: dict, field: str, message: str):
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    with pytest.raises(DomainError, match=message) as error:
        proposal_update(actor=rep, proposal=proposal, **changes)
    assert error.value.field == field


def test_discounts_beyond_the_role_limit_or_floor_price_are_found(
    rep: Any, manager: Any, admin: Any, bakery_deal: Any, website: Product
):
    discount_limit_set(actor=admin, role="rep", max_percent="10")
    discount_limit_set(actor=admin, role="manager", max_percent="25")
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, discount_value="15")]
    )
    assert discount_problems(proposal, actor=rep) == [
        "Line 1 (Website build): 15.0 % discount, above the 10 % you may give."
    ]
    assert discount_problems(proposal, actor=manager) == []
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, discount_value="22")]
    )
    # 4000 − 22 % = 3120, below the floor of 3200
    assert discount_problems(proposal, actor=manager) == [
        "Line 1 (Website build): 3120.00 a unit after discount, below the floor price 3200."
    ]


def test_only_managers_and_admins_change_the_catalogue(rep: Any, website: Product):
    with pytest.raises(DomainError, match="Only admins and managers"):
        product_update(actor=rep, product=website, unit_price=Decimal(1))
    with pytest.raises(DomainError, match="Only admins and managers"):
        template_save(actor=rep, name="Mine", currency="EUR")


def test_product_checks_name_the_field(admin: Any, website: Product):
    for fields, field in [
        ({"name": "", "unit_price": 1, "currency": "EUR"}, "name"),
        ({"name": "X", "unit_price": "abc", "currency": "EUR"}, "unit_price"),
        ({"name": "X", "unit_price": 1, "currency": "XXX"}, "currency"),
        ({"name": "X", "unit_price": 1, "currency": "EUR", "sku": "WEB-1"}, "sku"),
        ({"name": "X", "unit_price": 1, "currency": "EUR", "floor_price": 2}, "floor_price"),
    ]:
        with pytest.raises(DomainError) as error:
            product_create(actor=admin, **fields)
        assert error.value.field == field
