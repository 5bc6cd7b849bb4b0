"""The board page, its columns, load-more and the JSON moves its script makes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from tests.factories import DealFactory, lost_reason, stage_named

pytestmark = pytest.mark.django_db
BOARD = reverse("pipeline:board")
JSON = {"HTTP_ACCEPT": "application/json"}


def _column(html: str, stage_name: str) -> str:
    start = html.index(f'aria-label="{stage_name}"')
    end = html.find('<section class="column"', start)
    return html[start : end if end != -1 else len(html)]


def test_board_shows_counts_totals_and_weighted_values(rep, rep_client):
    DealFactory(owner=rep, stage=stage_named("Proposal"), value=Decimal("1000"))
    DealFactory(owner=rep, stage=stage_named("Proposal"), value=Decimal("3000"))
    DealFactory(
        owner=rep, stage=stage_named("Proposal"), value=Decimal("500"), status=DealStatus.WON
    )
    html = rep_client.get(BOARD).content.decode()
    proposal = _column(html, "Proposal")
    assert '<span class="count" data-role="count">2</span>' in proposal
    assert "€4,000" in proposal
    assert "€2,000" in proposal  # weighted at 50 %
    assert "€500" not in proposal  # won deals leave the board


def test_card_shows_days_in_stage_and_rotting_mark(rep, rep_client):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"))  # rots after 21 days
    deal.stage_changes.update(changed_at=deal.created_at - dt.timedelta(days=30))
    html = rep_client.get(BOARD).content.decode()
    assert "30d" in html
    assert "deal-card rotting" in html
    assert ">rotting<" in html


def test_board_query_count_does_not_grow_with_deals(rep, rep_client, django_assert_max_num_queries):
    for _ in range(3):
        DealFactory(owner=rep, stage=stage_named("Proposal"))
    with django_assert_max_num_queries(20) as few:
        rep_client.get(BOARD)
    for name in ("Demo / meeting", "Proposal", "Negotiation / commitment"):
        for _ in range(20):
            DealFactory(owner=rep, stage=stage_named(name))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = rep_client.get(BOARD)
    assert response.content.decode().count('class="deal-card') == 63


def test_columns_load_fifty_cards_then_more_on_demand(rep, rep_client):
    stage = stage_named("Proposal")
    Deal.objects.bulk_create(
        [
            Deal(title=f"Bulk {i}", owner=rep, stage=stage, pipeline=stage.pipeline, currency="EUR")
            for i in range(120)
        ]
    )
    html = rep_client.get(BOARD).content.decode()
    assert _column(html, "Proposal").count('class="deal-card') == 50
    assert "Load more" in html
    url = reverse("pipeline:board_column", args=[stage.pk])
    second = rep_client.get(url, {"offset": 50}).content.decode()
    assert second.count('class="deal-card') == 50
    assert "offset=100" in second
    third = rep_client.get(url, {"offset": 100}).content.decode()
    assert third.count('class="deal-card') == 20
    assert "Load more" not in third


def test_filters_my_deals_owner_and_team(rep, teammate, manager, manager_client, outsider):
    DealFactory(owner=rep, title="Rep deal")
    DealFactory(owner=teammate, title="Teammate deal")
    DealFactory(owner=manager, title="Manager deal")
    DealFactory(owner=outsider, title="Outsider deal")
    html = manager_client.get(BOARD).content.decode()
    assert all(t in html for t in ("Rep deal", "Teammate deal", "Manager deal"))
    assert "Outsider deal" not in html
    mine = manager_client.get(BOARD, {"mine": "1"}).content.decode()
    assert "Manager deal" in mine and "Rep deal" not in mine
    owner = manager_client.get(BOARD, {"owner": teammate.pk}).content.decode()
    assert "Teammate deal" in owner and "Rep deal" not in owner


def test_move_through_json_returns_new_totals(rep, rep_client):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"), value=Decimal("2000"))
    target = stage_named("Negotiation / commitment")
    response = rep_client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"stage": target.pk, "version": deal.version},
        **JSON,
    )
    data = response.json()
    assert response.status_code == 200 and data["ok"]
    assert data["columns"][str(target.pk)] == {"count": 1, "total": "€2,000", "weighted": "€1,600"}
    assert data["columns"][str(stage_named("Proposal").pk)]["count"] == 0
    deal.refresh_from_db()
    assert deal.stage == target


def test_stale_move_is_refused_with_the_reason(rep, rep_client):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"))
    response = rep_client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"stage": stage_named("Negotiation / commitment").pk, "version": deal.version + 5},
        **JSON,
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.json()["error"]
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"


def test_lose_needs_a_reason_over_json(rep, rep_client):
    deal = DealFactory(owner=rep)
    url = reverse("pipeline:deal_lose", args=[deal.pk])
    refused = rep_client.post(url, {"version": deal.version}, **JSON)
    assert refused.status_code == 400
    assert "Pick the reason" in refused.json()["error"]
    ok = rep_client.post(url, {"version": deal.version, "reason": lost_reason("Price").pk}, **JSON)
    assert ok.json()["ok"] and "lost at Proposal" in ok.json()["message"]


def test_move_of_invisible_deal_is_404(rep_client, outsider):
    deal = DealFactory(owner=outsider)
    response = rep_client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"stage": stage_named("Demo / meeting").pk},
        **JSON,
    )
    assert response.status_code == 404


def test_move_without_csrf_token_is_refused(rep):
    from django.test import Client

    from tests.factories import PASSWORD

    client = Client(enforce_csrf_checks=True)
    client.login(username=rep.email, password=PASSWORD)
    deal = DealFactory(owner=rep)
    response = client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"stage": stage_named("Demo / meeting").pk},
        **JSON,
    )
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"
