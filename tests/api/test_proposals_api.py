"""/api/v1/proposals: start, read with totals, change with a version, send, the PDF, lists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from closeloop.accounts.selectors import workspace_settings
from closeloop.messaging.models import Message
from closeloop.proposals.choices import ProposalStatus
from closeloop.proposals.models import DiscountLimit, Proposal
from closeloop.proposals.services import (
    LineIn,
    approval_decide,
    approval_request,
    proposal_create,
    proposal_lines_set,
)
from tests.factories import DealFactory
from tests.proposals.conftest import hosting as hosting
from tests.proposals.conftest import web_template as web_template
from tests.proposals.conftest import website as website

from .tokens import ROLE_SEES, ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/proposals"


@pytest.fixture
def owned(rep, teammate, outsider) -> dict[str, Proposal]:
    """One proposal per deal owner (a deal always has one)."""
    proposals = {}
    for key, owner in (("rep", rep), ("teammate", teammate), ("outsider", outsider)):
        deal = DealFactory(title=f"Deal of {key}", owner=owner)
        proposals[key] = proposal_create(actor=owner, deal=deal)
    return proposals


def test_start_from_a_template_and_read_lines_and_totals(rep, bakery_deal, web_template):
    api = ApiClient(rep)
    response = api.post_json(URL, {"deal_id": bakery_deal.pk, "template_id": web_template.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["deal_id"] == bakery_deal.pk and body["template_id"] == web_template.pk
    assert body["title"] == "Proposal for New website" and body["status"] == "draft"
    assert body["validity_days"] == 21 and body["version"] == 1 and body["sent_versions"] == 0
    website, hosting = body["lines"]
    assert (website["name"], Decimal(website["net"])) == ("Website build", Decimal("4000"))
    assert (hosting["billing"], Decimal(hosting["amount"])) == ("monthly", Decimal("588"))
    one_off, monthly = body["totals"]["by_billing"]
    # pricing.py's figures: tax per rate on the nets, billing kinds apart
    assert (one_off["billing"], Decimal(one_off["total"])) == ("one_off", Decimal("4760"))
    assert (monthly["billing"], Decimal(monthly["total"])) == ("monthly", Decimal("699.72"))
    assert [Decimal(t["rate"]) for t in one_off["taxes"]] == [Decimal("19")]
    assert api.get(f"{URL}/{body['id']}").json() == body


def test_start_blank_with_lines_or_as_a_copy(rep, bakery_deal, website):
    api = ApiClient(rep)
    blank = api.post_json(
        URL,
        {
            "deal_id": bakery_deal.pk,
            "title": "Just the site",
            "lines": [
                {"product_id": website.pk, "discount_value": "5"},
                {"name": "Training", "quantity": "2", "unit_price": "150.50"},
            ],
        },
    )
    assert blank.status_code == 201, blank.content
    body = blank.json()
    assert body["title"] == "Just the site" and len(body["lines"]) == 2
    assert Decimal(body["lines"][0]["discount"]) == Decimal("200")
    assert Decimal(body["totals"]["subtotal"]) == Decimal("4301")
    copy = api.post_json(URL, {"deal_id": bakery_deal.pk, "based_on_id": body["id"]})
    assert copy.status_code == 201, copy.content
    assert copy.json()["based_on_id"] == body["id"]
    assert [line["name"] for line in copy.json()["lines"]] == ["Website build", "Training"]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"lines": [{"name": "X", "quantity": "0"}]}, 422, "lines.0.quantity"),
        ({"lines": [{"name": "X", "unit_price": "-1"}]}, 422, "lines.0.unit_price"),
        ({"lines": [{"name": "X", "discount_kind": "gift"}]}, 422, "lines.0.discount_kind"),
        ({"lines": [{"name": "X", "tax_rate": "101"}]}, 422, "lines.0.tax_rate"),
        ({"lines": [{"name": "X", "discount_value": "101"}]}, 400, "lines"),
        ({"lines": [{"description": "no name"}]}, 400, "lines"),
        ({"lines": [{"product_id": 999_999}]}, 400, "lines"),
        ({"template_id": 999_999}, 400, "template_id"),
        ({"based_on_id": 999_999}, 400, "based_on_id"),
        ({"title": "x" * 201}, 422, "title"),
    ],
)
def test_bad_input_is_named_and_leaves_no_proposal(rep, bakery_deal, payload, status, field):
    response = ApiClient(rep).post_json(URL, {"deal_id": bakery_deal.pk, **payload})
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert not Proposal.objects.exists()


def test_a_deal_the_rep_may_not_see_or_a_closed_one_is_refused(rep, outsider):
    api = ApiClient(rep)
    hidden = DealFactory(owner=outsider)
    refused = api.post_json(URL, {"deal_id": hidden.pk})
    assert refused.status_code == 400 and "deal_id" in refused.json()["fields"]
    won = DealFactory(owner=rep, status="won")
    closed = api.post_json(URL, {"deal_id": won.pk})
    assert closed.status_code == 400 and "open deals" in closed.json()["message"]
    assert not Proposal.objects.exists()


def test_patch_with_the_version_read_and_a_stale_one_answers_409(rep, bakery_deal, website):
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    api = ApiClient(rep)
    changed = api.patch_json(
        f"{URL}/{proposal.pk}",
        {
            "expected_version": 1,
            "title": "Revised",
            "payment_terms": "instalments",
            "delivery": [{"label": "Launch", "offset_days": 30}],
            "instalments": [
                {"label": "Deposit", "percent": "40"},
                {"label": "Rest", "percent": "60", "due": "Launch"},
            ],
            "lines": [{"product_id": website.pk}],
        },
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["title"] == "Revised" and body["version"] > 1
    assert [row["percent"] for row in body["instalments"]] == ["40", "60"]
    assert [line["name"] for line in body["lines"]] == ["Website build"]
    stale = api.patch_json(f"{URL}/{proposal.pk}", {"expected_version": 1, "title": "Mine"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    proposal.refresh_from_db()
    assert proposal.title == "Revised"
    # the terms' own rules answer 400 naming the field; nothing is saved
    bad = api.patch_json(
        f"{URL}/{proposal.pk}",
        {
            "expected_version": body["version"],
            "instalments": [{"percent": "50"}],
            "lines": [{"name": "Other"}],
        },
    )
    assert bad.status_code == 400 and "instalments" in bad.json()["fields"]
    assert [line.name for line in proposal.lines.all()] == ["Website build"]
    missing = api.patch_json(f"{URL}/{proposal.pk}", {"title": "No version"})
    assert missing.status_code == 422 and "expected_version" in missing.json()["fields"]


def test_send_freezes_a_version_queues_the_email_and_serves_the_pdf(rep, bakery_deal, website):
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=website)])
    api = ApiClient(rep)
    assert api.get(f"{URL}/{proposal.pk}/pdf").status_code == 404
    response = api.post_json(f"{URL}/{proposal.pk}/send", {"message": "As discussed."})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 1 and body["proposal"]["status"] == "sent"
    assert body["proposal"]["sent_versions"] == 1
    message = Message.objects.get()
    assert (
        message.to == ["Lena Lind <lena@bakery.example>"] and "As discussed." in message.text_body
    )
    pdf = api.get(f"{URL}/{proposal.pk}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="proposal-' in pdf["Content-Disposition"]


def test_a_discount_beyond_the_limit_is_refused_until_approved(rep, manager, bakery_deal, website):
    DiscountLimit.objects.create(role="rep", max_percent=Decimal("10"))
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, discount_value="15")]
    )
    api = ApiClient(rep)
    refused = api.post_json(f"{URL}/{proposal.pk}/send", {})
    assert refused.status_code == 400, refused.content
    assert "discount limits" in refused.json()["message"]
    assert not Message.objects.exists()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT and proposal.version_count == 0
    approval = approval_request(actor=rep, proposal=proposal, reason="Loyal customer")
    approval_decide(actor=manager, approval=approval, approve=True)
    assert api.post_json(f"{URL}/{proposal.pk}/send", {}).status_code == 201


def test_a_read_only_token_may_not_send(rep, bakery_deal):
    from closeloop.accounts.choices import TokenScope
    from closeloop.accounts.services import api_token_create

    proposal = proposal_create(actor=rep, deal=bakery_deal)
    api = ApiClient(rep)
    api.defaults["HTTP_AUTHORIZATION"] = (
        f"Bearer {api_token_create(actor=None, user=rep, scope=TokenScope.READ)[1]}"
    )
    assert api.post_json(f"{URL}/{proposal.pk}/send", {}).status_code == 403
    assert api.get(f"{URL}/{proposal.pk}").status_code == 200


@pytest.mark.parametrize(("who", "sees"), [(who, sees - {"shared"}) for who, sees in ROLE_SEES])
def test_visibility_by_role(request, owned, who, sees):
    api = ApiClient(request.getfixturevalue(who))
    assert set(ids(api.get(URL))) == {owned[key].pk for key in sees}
    for key, proposal in owned.items():
        expected = 200 if key in sees else 404
        assert api.get(f"{URL}/{proposal.pk}").status_code == expected
        patch = api.patch_json(f"{URL}/{proposal.pk}", {"expected_version": 1, "title": "x"})
        assert patch.status_code == expected
        if key not in sees:
            assert api.post_json(f"{URL}/{proposal.pk}/send", {}).status_code == 404
            assert api.get(f"{URL}/{proposal.pk}/pdf").status_code == 404
            copy = api.post_json(URL, {"deal_id": 1, "based_on_id": proposal.pk})
            assert copy.status_code == 400


def test_filters_and_orderings(rep, teammate, manager):
    mine = DealFactory(title="Mine", owner=rep)
    theirs = DealFactory(title="Theirs", owner=teammate)
    with time_machine.travel(dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC), tick=False):
        old = proposal_create(actor=rep, deal=mine, title="Beta")
    with time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=dt.UTC), tick=False):
        new = proposal_create(actor=teammate, deal=theirs, title="Alpha")
        sent = proposal_create(actor=rep, deal=mine, title="Gamma")
    Proposal.objects.filter(pk=sent.pk).update(status=ProposalStatus.SENT)
    api = ApiClient(manager)
    assert ids(api.get(URL)) == [sent.pk, new.pk, old.pk]
    assert ids(api.get(f"{URL}?deal_id={mine.pk}")) == [sent.pk, old.pk]
    assert ids(api.get(f"{URL}?status=sent")) == [sent.pk]
    assert ids(api.get(f"{URL}?owner_id={teammate.pk}")) == [new.pk]
    assert ids(api.get(f"{URL}?created_from=2026-02-01")) == [sent.pk, new.pk]
    assert ids(api.get(f"{URL}?created_to=2026-01-31")) == [old.pk]
    assert ids(api.get(f"{URL}?created_to=9999-12-31&ordering=title")) == [
        new.pk,
        old.pk,
        sent.pk,
    ]
    bad = api.get(f"{URL}?status=lost")
    assert bad.status_code == 422 and "status" in bad.json()["fields"]


def test_pages_follow_the_cursor(rep, bakery_deal):
    proposals = [proposal_create(actor=rep, deal=bakery_deal) for _ in range(5)]
    api = ApiClient(rep)
    first = api.get(f"{URL}?limit=2&ordering=id").json()
    rest = api.get(f"{URL}?limit=10&ordering=id&cursor={first['next_cursor']}").json()
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in rest["items"]]
    assert seen == [p.pk for p in proposals] and rest["next_cursor"] is None


@pytest.mark.parametrize("rows", [2, 12])
def test_list_query_count_does_not_grow_with_rows(
    rep, bakery_deal, website, rows, django_assert_max_num_queries
):
    workspace_settings()
    for _ in range(rows):
        proposal = proposal_create(actor=rep, deal=bakery_deal)
        proposal_lines_set(
            actor=rep, proposal=proposal, lines=[LineIn(product=website), LineIn(name="Extra")]
        )
    api = ApiClient(rep)
    # token, its last use, the rate limit, the workspace setting, the page, its lines
    with django_assert_max_num_queries(8):
        response = api.get(f"{URL}?limit=50")
    assert len(response.json()["items"]) == rows
