"""A frozen version keeps exactly what was sent, whatever changes later."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone

from closeloop.core.exceptions import DomainError
from closeloop.proposals.links import LinkInvalid, version_from_token, version_token
from closeloop.proposals.services import (
    LineIn,
    product_update,
    proposal_create,
    proposal_lines_set,
    version_freeze,
)

pytestmark = pytest.mark.django_db


def test_a_version_keeps_merged_texts_lines_and_totals(
    rep: Any, admin: Any, bakery_deal: Any, web_template: Any, website: Any
):
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    first = version_freeze(actor=rep, proposal=proposal, note="First offer")
    snapshot = first.snapshot
    assert first.number == 1 and first.note == "First offer"
    assert snapshot["intro"] == "Dear Lena, here is our offer."
    assert [line["name"] for line in snapshot["lines"]] == ["Website build", "Hosting"]
    assert snapshot["totals"]["by_billing"][0]["total"] == "4760.00"
    assert snapshot["customer"] == {
        "contact": "Lena Lind",
        "email": "lena@bakery.example",
        "organization": "Bakery Lind",
    }
    assert first.valid_until == timezone.localdate() + dt.timedelta(days=21)

    product_update(actor=admin, product=website, unit_price=Decimal("9999"))
    proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=website)])
    second = version_freeze(actor=rep, proposal=proposal, note="Customer asked for net 60")
    first.refresh_from_db()
    assert second.number == 2 and first.snapshot == snapshot
    proposal.refresh_from_db()
    assert proposal.version_count == 2


def test_nothing_to_send_is_refused(rep: Any, bakery_deal: Any):
    with pytest.raises(DomainError, match="at least one line"):
        version_freeze(actor=rep, proposal=proposal_create(actor=rep, deal=bakery_deal))


def test_the_public_token_names_one_version_and_refuses_tampering(
    rep: Any, bakery_deal: Any, web_template: Any
):
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    version = version_freeze(actor=rep, proposal=proposal)
    token = version_token(version)
    assert version_from_token(token) == version
    forged = signing.dumps({"v": version.pk + 1, "p": proposal.pk}, salt="another salt")
    for bad in (token[:-2] + "xx", forged, ""):
        with pytest.raises(LinkInvalid):
            version_from_token(bad)
