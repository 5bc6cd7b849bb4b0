"""A small catalogue and a template, for proposals on the rep's bakery deal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from closeloop.proposals.models import Product, ProposalTemplate
from closeloop.proposals.services import LineIn, product_create, template_save


@pytest.fixture
def website(admin: Any) -> Product:
    return product_create(
        actor=admin,
        name="Website build",
        sku="WEB-1",
        unit="project",
        unit_price=Decimal("4000"),
        currency="EUR",
        tax_rate=Decimal("19"),
        floor_price=Decimal("3200"),
    )


@pytest.fixture
def hosting(admin: Any) -> Product:
    return product_create(
        actor=admin,
        name="Hosting",
        sku="HOST-1",
        unit="month",
        unit_price=Decimal("49"),
        currency="EUR",
        tax_rate=Decimal("19"),
        billing="monthly",
    )


@pytest.fixture
def web_template(admin: Any, website: Product, hosting: Product) -> ProposalTemplate:
    return template_save(
        actor=admin,
        name="Website package",
        currency="EUR",
        intro="Dear {{ contact.first_name }}, here is our offer.",
        payment_terms="instalments",
        delivery=[{"label": "Design", "offset_days": 14}, {"label": "Launch", "offset_days": 42}],
        instalments=[
            {"label": "Deposit", "percent": "30", "due": "acceptance"},
            {"label": "On launch", "percent": "70", "due": "Launch"},
        ],
        validity_days=21,
        lines=[LineIn(product=website), LineIn(product=hosting, quantity="12")],
    )


@pytest.fixture(autouse=True)
def _pipeline_defaults(db: None) -> None:
    """The default pipeline exists (a transactional test may have flushed the migrations' rows)."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()
