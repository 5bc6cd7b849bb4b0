"""The account services: valid users, the password rules, one admin at least, workspace values."""

from __future__ import annotations

import pytest

from closeloop.accounts import services
from closeloop.accounts.choices import RepVisibility, Role
from closeloop.accounts.models import User
from closeloop.accounts.selectors import workspace_settings
from closeloop.core.exceptions import DomainError

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "violet-harbour-lantern"


def test_user_create_adds_a_user_who_can_log_in(admin, team, client):
    user = services.user_create(
        actor=admin, email=" New.Person@Example.com ", role=Role.MANAGER, password=GOOD_PASSWORD,
        full_name="Nina New", teams=[team],
    )  # fmt: skip
    assert (user.email, user.role, user.full_name) == (
        "new.person@example.com",
        "manager",
        "Nina New",
    )
    assert list(user.teams.all()) == [team]
    assert client.login(username="new.person@example.com", password=GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "not a valid email address"),
        ({"email": "ADMIN@example.com"}, "email", "already a user with the email"),
        ({"role": "boss"}, "role", "not a role"),
        ({"password": "123"}, "password", "too short"),
        ({"password": "12345678901"}, "password", "entirely numeric"),
        ({"password": "password123"}, "password", "too common"),
    ],
)
def test_user_create_refuses_bad_input_naming_the_field(admin, kwargs, field, message):
    fields = {"email": "nina@example.com", "role": Role.REP, "password": GOOD_PASSWORD, **kwargs}
    with pytest.raises(DomainError, match=message) as err:
        services.user_create(actor=admin, **fields)
    assert err.value.field == field
    assert User.objects.count() == 1


def test_only_admins_manage_users(manager):
    with pytest.raises(DomainError, match="Only admins"):
        services.user_create(
            actor=manager, email="nina@example.com", role=Role.ADMIN, password=GOOD_PASSWORD
        )


def test_the_last_admin_cannot_be_demoted(admin):
    with pytest.raises(DomainError, match="at least one active admin") as err:
        services.user_update(actor=admin, user=admin, role=Role.MANAGER, full_name="Ada", teams=[])
    assert err.value.field == "role"
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_a_deactivated_admin_does_not_count_as_another_admin(admin, second_admin):
    services.user_set_active(actor=admin, user=second_admin, active=False)
    with pytest.raises(DomainError, match="at least one active admin"):
        services.user_update(actor=admin, user=admin, role=Role.REP, full_name="Ada", teams=[])


def test_an_admin_can_be_demoted_while_another_remains(admin, second_admin, team):
    services.user_update(
        actor=admin, user=second_admin, role=Role.MANAGER, full_name="Sam", teams=[team]
    )
    second_admin.refresh_from_db()
    assert (second_admin.role, list(second_admin.teams.all())) == (Role.MANAGER, [team])


def test_the_last_admin_cannot_be_deactivated(admin):
    with pytest.raises(DomainError, match="at least one active admin"):
        services.user_set_active(actor=None, user=admin, active=False)
    admin.refresh_from_db()
    assert admin.is_active


def test_nobody_can_deactivate_themselves(admin, second_admin):
    with pytest.raises(DomainError, match="cannot deactivate yourself"):
        services.user_set_active(actor=admin, user=admin, active=False)
    services.user_set_active(actor=admin, user=second_admin, active=False)
    second_admin.refresh_from_db()
    assert not second_admin.is_active


def test_workspace_update_saves_the_values(admin):
    services.workspace_update(
        actor=admin, name="Acme Sales", base_currency="usd", rep_visibility=RepVisibility.TEAM
    )
    ws = workspace_settings()
    assert (ws.name, ws.base_currency, ws.rep_visibility) == ("Acme Sales", "USD", "team")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": "  "}, "name", "needs a name"),
        ({"base_currency": "XYZ"}, "base_currency", "not a known currency"),
        ({"rep_visibility": "nobody"}, "rep_visibility", "Choose what reps may see"),
    ],
)
def test_workspace_update_refuses_bad_values(admin, kwargs, field, message):
    before = workspace_settings()
    fields = {"name": "Acme", "base_currency": "EUR", "rep_visibility": "own", **kwargs}
    with pytest.raises(DomainError, match=message) as err:
        services.workspace_update(actor=admin, **fields)
    assert err.value.field == field
    after = workspace_settings()
    assert (after.name, after.base_currency) == (before.name, before.base_currency)


def test_only_admins_change_the_workspace(manager):
    with pytest.raises(DomainError, match="Only admins"):
        services.workspace_update(
            actor=manager, name="Mine", base_currency="EUR", rep_visibility="all"
        )
