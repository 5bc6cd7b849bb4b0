"""Who may open and post to the settings pages: reps never, managers the sales process only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from closeloop.accounts.models import Team, User
from closeloop.accounts.selectors import workspace_settings
from closeloop.pipeline.models import LostReason, Pipeline, Stage
from tests.factories import lost_reason, stage_named

pytestmark = pytest.mark.django_db

SALES_PROCESS_PAGES = ["settings:pipelines", "settings:lost_reasons"]
ADMIN_PAGES = ["settings:users", "settings:user_create", "settings:workspace"]


def _posts(rep: User) -> list[tuple[str, dict]]:
    """Every settings POST with data that would change something if it were let through."""
    proposal = stage_named("Proposal")
    pipeline = proposal.pipeline
    price = lost_reason("Price")
    password = "violet-harbour-lantern"
    url = reverse
    return [
        (url("settings:pipeline_create"), {"name": "Mine"}),
        (url("settings:pipeline_update", args=[pipeline.pk]), {"name": "X", "is_default": "on"}),
        (url("settings:stage_create", args=[pipeline.pk]), {"name": "Mine", "probability": "1"}),
        (url("settings:stage_edit", args=[proposal.pk]), {"name": "X", "probability": "1"}),
        (url("settings:stage_move", args=[proposal.pk]), {"direction": "up"}),
        (url("settings:stage_delete", args=[proposal.pk]), {}),
        (url("settings:lost_reason_create"), {"name": "Mine"}),
        (url("settings:lost_reason_update", args=[price.pk]), {"name": "X"}),
        (url("settings:user_create"), {"email": "x@example.com", "role": "admin",
                                       "password": password}),
        (url("settings:user_edit", args=[rep.pk]), {"role": "admin"}),
        (url("settings:user_set_password", args=[rep.pk]), {"password": password}),
        (url("settings:user_set_active", args=[rep.pk]), {"active": "0"}),
        (url("settings:team_create"), {"name": "Mine"}),
        (url("settings:workspace"), {"name": "X", "base_currency": "USD",
                                     "rep_visibility": "all"}),
    ]  # fmt: skip


def _snapshot() -> tuple:
    """Everything a settings POST could change."""
    return (
        list(Pipeline.objects.values_list("name", "is_default")),
        list(Stage.objects.values_list("name", "position", "probability")),
        list(LostReason.objects.values_list("name", "is_active")),
        list(User.objects.values_list("email", "role", "is_active", "password")),
        list(Team.objects.values_list("name")),
        workspace_settings().name,
    )


@pytest.mark.parametrize("name", SALES_PROCESS_PAGES + ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    url = reverse(name)
    assertRedirects(client.get(url), f"{reverse('accounts:login')}?next={url}",
                    fetch_redirect_response=False)  # fmt: skip


@pytest.mark.parametrize("name", SALES_PROCESS_PAGES + ADMIN_PAGES)
def test_reps_get_403_on_every_settings_page(rep_client, name):
    assert rep_client.get(reverse(name)).status_code == 403


def test_reps_get_403_on_every_settings_post_and_nothing_changes(rep, rep_client):
    before = _snapshot()
    for url, data in _posts(rep):
        assert rep_client.post(url, data).status_code == 403, url
    assert _snapshot() == before


def test_anonymous_posts_are_sent_to_log_in_and_nothing_changes(rep, client):
    before = _snapshot()
    for url, data in _posts(rep):
        response = client.post(url, data)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert _snapshot() == before


@pytest.mark.parametrize("name", SALES_PROCESS_PAGES)
def test_managers_may_set_up_the_sales_process(manager_client, name):
    response = manager_client.get(reverse(name))
    assert response.status_code == 200
    assertNotContains(response, "Users &amp; teams")  # the sub-navigation leaves admin pages out


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_managers_get_403_on_users_and_workspace(manager_client, name):
    assert manager_client.get(reverse(name)).status_code == 403


def test_managers_get_403_on_user_and_workspace_posts(rep, manager_client):
    admin_only = ("/settings/users/", "/settings/teams/", "/settings/workspace/")
    before = _snapshot()
    for url, data in _posts(rep):
        if url.startswith(admin_only):
            assert manager_client.post(url, data).status_code == 403, url
    assert _snapshot() == before


def test_admins_see_every_settings_section(admin_client_):
    response = admin_client_.get(reverse("settings:pipelines"))
    for label in ("Pipelines", "Lost reasons", "Users &amp; teams", "Workspace"):
        assertContains(response, label)
    for name in SALES_PROCESS_PAGES + ADMIN_PAGES:
        assert admin_client_.get(reverse(name)).status_code == 200


def test_a_rep_sees_no_settings_link(rep_client):
    assertNotContains(rep_client.get(reverse("pipeline:deal_list")), reverse("settings:pipelines"))
