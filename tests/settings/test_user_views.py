"""The users and teams settings page through the HTTP client (admins only)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from closeloop.accounts.choices import Role
from closeloop.accounts.models import Team, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("settings:users")
GOOD_PASSWORD = "violet-harbour-lantern"


def test_the_page_lists_users_with_role_teams_and_status(admin_client_, manager, rep, outsider):
    UserFactory(email="gone@example.com", full_name="Gina Gone", is_active=False)
    response = admin_client_.get(PAGE)
    assertContains(response, "<title>Users &amp; teams · Closeloop</title>")
    html = response.content.decode()
    row = html[html.index("Mia Manager") : html.index("</tr>", html.index("Mia Manager"))]
    assert "manager@example.com" in row and "Manager" in row and "North" in row and "Active" in row
    gone = html[html.index("Gina Gone") : html.index("</tr>", html.index("Gina Gone"))]
    assert "Deactivated" in gone and "Reactivate" in gone
    assertContains(response, "Sales rep")
    assertContains(response, "South")


def test_the_users_list_does_not_grow_queries_with_users(
    admin_client_, team, django_assert_max_num_queries
):
    for _ in range(10):
        UserFactory(teams=[team])
    with django_assert_max_num_queries(9):  # 8 + unread notifications
        admin_client_.get(PAGE)


def test_the_page_says_when_there_are_no_teams(admin_client_):
    assertContains(admin_client_.get(PAGE), "No teams yet")


def test_adding_a_user_who_can_then_log_in(admin_client_, team, client):
    url = reverse("settings:user_create")
    assertContains(admin_client_.get(url), "New user")
    response = admin_client_.post(url, {
        "email": "Nina@Example.com", "full_name": "Nina New", "role": Role.MANAGER,
        "teams": [team.pk], "password": GOOD_PASSWORD,
    }, follow=True)  # fmt: skip
    assertContains(response, "Nina New can now log in with nina@example.com.")
    nina = User.objects.get(email="nina@example.com")
    assert (nina.role, list(nina.teams.all())) == (Role.MANAGER, [team])
    assert client.login(username="nina@example.com", password=GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        (
            {"password": "1234"},
            ["This password is too short.", "This password is entirely numeric."],
        ),
        ({"password": "password"}, ["This password is too common."]),
        ({"email": "nina-at-example"}, ["“nina-at-example” is not a valid email address."]),
        ({"email": "rep@example.com"}, ["There is already a user with the email rep@example.com."]),
        ({"role": "boss"}, ["Select a valid choice."]),
    ],
)
def test_adding_a_bad_user_shows_why(admin_client_, rep, data, messages):
    before = User.objects.count()
    fields = {"email": "nina@example.com", "role": Role.REP, "password": GOOD_PASSWORD, **data}
    response = admin_client_.post(reverse("settings:user_create"), fields)
    for message in messages:
        assertContains(response, message)
    assert User.objects.count() == before


def test_editing_a_users_name_role_and_teams(admin_client_, rep, team, other_team):
    url = reverse("settings:user_edit", args=[rep.pk])
    assertContains(admin_client_.get(url), "Rita Rep")
    response = admin_client_.post(
        url, {"full_name": "Rita Lead", "role": Role.MANAGER, "teams": [other_team.pk]}, follow=True
    )
    assertContains(response, "Rita Lead saved.")
    rep.refresh_from_db()
    assert (rep.full_name, rep.role, list(rep.teams.all())) == (
        "Rita Lead",
        Role.MANAGER,
        [other_team],
    )


def test_the_last_admin_cannot_demote_themselves(admin, admin_client_):
    response = admin_client_.post(
        reverse("settings:user_edit", args=[admin.pk]), {"full_name": "Ada", "role": Role.REP}
    )
    assertContains(response, "The workspace needs at least one active admin.")
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_deactivating_and_reactivating_a_user(admin_client_, rep, client):
    url = reverse("settings:user_set_active", args=[rep.pk])
    response = admin_client_.post(url, {"active": "0"}, follow=True)
    assertContains(response, "Rita Rep is deactivated: they can no longer log in.")
    rep.refresh_from_db()
    assert not rep.is_active
    response = admin_client_.post(url, {"active": "1"}, follow=True)
    assertContains(response, "Rita Rep is active again.")
    rep.refresh_from_db()
    assert rep.is_active


def test_an_admin_cannot_deactivate_themselves(admin, admin_client_):
    response = admin_client_.post(
        reverse("settings:user_set_active", args=[admin.pk]), {"active": "0"}, follow=True
    )
    assertContains(response, "You cannot deactivate yourself.")
    admin.refresh_from_db()
    assert admin.is_active


def test_setting_a_users_password(admin_client_, rep, client):
    url = reverse("settings:user_set_password", args=[rep.pk])
    response = admin_client_.post(url, {"password": "short"})
    assertContains(response, "This password is too short.")
    response = admin_client_.post(url, {"password": GOOD_PASSWORD}, follow=True)
    assertContains(response, "New password set for Rita Rep.")
    assert client.login(username="rep@example.com", password=GOOD_PASSWORD)


def test_adding_a_team(admin_client_):
    response = admin_client_.post(reverse("settings:team_create"), {"name": "East"}, follow=True)
    assertContains(response, "Team “East” added.")
    assertNotContains(response, "No teams yet")
    assert Team.objects.filter(name="East").exists()


def test_adding_a_team_with_a_taken_name_shows_why(admin_client_, team):
    response = admin_client_.post(reverse("settings:team_create"), {"name": "north"})
    assertContains(response, "There is already a team called “north”.")
    assert Team.objects.count() == 1
