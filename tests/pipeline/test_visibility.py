"""Who sees which deal: rep / manager / admin / anonymous, on every deal page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from closeloop.accounts.choices import RepVisibility
from closeloop.accounts.selectors import workspace_settings
from closeloop.pipeline.models import Deal
from closeloop.pipeline.selectors import DealFilters, deal_list
from tests.factories import DealFactory, stage_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(rep, teammate, manager, outsider):
    return {
        "rep": DealFactory(owner=rep, title="Deal of rep"),
        "teammate": DealFactory(owner=teammate, title="Deal of teammate"),
        "manager": DealFactory(owner=manager, title="Deal of manager"),
        "outsider": DealFactory(owner=outsider, title="Deal of outsider"),
    }


def _titles(user) -> set[str]:
    return set(deal_list(user=user, filters=DealFilters()).values_list("title", flat=True))


def test_rep_sees_only_own_deals_by_default(rep, deals):
    assert _titles(rep) == {"Deal of rep"}


def test_workspace_setting_shares_team_or_everything_with_reps(rep, deals):
    ws = workspace_settings()
    ws.rep_visibility = RepVisibility.TEAM
    ws.save()
    assert _titles(rep) == {"Deal of rep", "Deal of teammate", "Deal of manager"}
    ws.rep_visibility = RepVisibility.ALL
    ws.save()
    assert "Deal of outsider" in _titles(type(rep).objects.get(pk=rep.pk))


def test_manager_sees_their_teams(manager, deals):
    assert _titles(manager) == {"Deal of rep", "Deal of teammate", "Deal of manager"}


def test_admin_sees_all(admin, deals):
    assert _titles(admin) == {d.title for d in deals.values()}


def test_deactivated_user_sees_nothing(rep, deals):
    rep.is_active = False
    rep.save()
    assert _titles(rep) == set()


DEAL_PAGES = ["deal_detail", "deal_edit", "deal_lose"]
DEAL_POSTS = ["deal_move", "deal_win", "deal_lose", "deal_reopen", "deal_note", "deal_trash"]


@pytest.mark.parametrize("name", DEAL_PAGES)
def test_guessed_url_of_another_reps_deal_is_404(name, rep_client, deals):
    url = reverse(f"pipeline:{name}", args=[deals["outsider"].pk])
    assert rep_client.get(url).status_code == 404


@pytest.mark.parametrize("name", DEAL_POSTS)
def test_posts_to_another_reps_deal_are_404_and_change_nothing(name, rep_client, deals):
    deal = deals["outsider"]
    url = reverse(f"pipeline:{name}", args=[deal.pk])
    response = rep_client.post(url, {"stage": stage_named("Demo / meeting").pk, "body": "x"})
    assert response.status_code == 404
    fresh = Deal.with_trashed.get(pk=deal.pk)
    assert (fresh.version, fresh.deleted_at, fresh.stage.name) == (1, None, "Proposal")


def test_manager_opens_team_deal_but_not_other_team(manager_client, deals):
    ok = manager_client.get(reverse("pipeline:deal_detail", args=[deals["rep"].pk]))
    assert ok.status_code == 200
    hidden = manager_client.get(reverse("pipeline:deal_detail", args=[deals["outsider"].pk]))
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    "url", ["/deals/", "/deals/board/", "/deals/new/", "/deals/1/", "/trash/", "/"]
)
def test_anonymous_is_sent_to_login(url, deals):
    response = Client().get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_board_hides_deals_the_user_may_not_see(rep_client, deals):
    html = rep_client.get(reverse("pipeline:board")).content.decode()
    assert "Deal of rep" in html
    assert "Deal of outsider" not in html and "Deal of teammate" not in html
