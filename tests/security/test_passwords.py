"""Passwords: argon2 in production (PBKDF2 hashes still log in and are upgraded), and the
password rules wherever a password is set, each refusal naming its rule."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import CommandError, call_command
from django.test import Client

from closeloop.accounts.choices import Role
from closeloop.accounts.models import User
from closeloop.accounts.services import user_set_password
from config import settings as production
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

# (password, the rule its refusal names); the user is Rita Rep, rep@example.com
WEAK = [
    ("k7#vQ2!mz", "This password is too short. It must contain at least 10 characters."),
    ("1234567890123", "This password is entirely numeric."),
    ("password123", "This password is too common."),
    ("rep@example.com!", "The password is too similar to the email."),
    ("Rita Rep 1", "The password is too similar to the full name."),
]


@pytest.fixture
def production_hashers(settings: Any) -> None:
    """The hashers config/settings.py sets (the suite otherwise hashes with MD5 for speed)."""
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS


def test_argon2_is_the_production_hasher(production_hashers, rep):
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    user_set_password(actor=rep, user=rep, password="a-new-long-phrase")
    rep.refresh_from_db()
    assert rep.password.startswith("argon2$argon2id$")
    assert (
        Client()
        .post("/accounts/login/", {"username": rep.email, "password": "a-new-long-phrase"})
        .status_code
        == 302
    )


def test_a_pbkdf2_password_still_logs_in_and_is_rehashed_with_argon2(production_hashers, rep):
    User.objects.filter(pk=rep.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    response = Client().post("/accounts/login/", {"username": rep.email, "password": PASSWORD})
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.password.startswith("argon2$")
    assert rep.check_password(PASSWORD)


def test_the_rules_in_force():
    rules = {v["NAME"].rsplit(".", 1)[1]: v.get("OPTIONS", {})
             for v in production.AUTH_PASSWORD_VALIDATORS}  # fmt: skip
    assert rules["MinimumLengthValidator"] == {"min_length": 10}
    assert set(rules) == {
        "UserAttributeSimilarityValidator", "MinimumLengthValidator",
        "CommonPasswordValidator", "NumericPasswordValidator",
    }  # fmt: skip


@pytest.mark.parametrize(("password", "rule"), WEAK)
def test_an_admin_setting_a_password_gets_the_rule_named(admin_client_, rep, password, rule):
    response = admin_client_.post(f"/settings/users/{rep.pk}/password/", {"password": password})
    assert response.status_code == 200
    assert rule in response.content.decode()
    rep.refresh_from_db()
    assert rep.check_password(PASSWORD)


@pytest.mark.parametrize(("password", "rule"), WEAK[:3])
def test_creating_a_user_applies_the_rules(admin_client_, password, rule):
    response = admin_client_.post("/settings/users/new/", {
        "email": "nina@example.com", "full_name": "Nina", "role": Role.REP, "password": password,
    })  # fmt: skip
    assert rule in response.content.decode()
    assert not User.objects.filter(email="nina@example.com").exists()


@pytest.mark.parametrize(("password", "rule"), WEAK)
def test_changing_ones_own_password_applies_the_rules(rep, client_for, password, rule):
    response = client_for(rep).post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": password, "new_password2": password,
    })  # fmt: skip
    assert rule in response.content.decode()
    rep.refresh_from_db()
    assert rep.check_password(PASSWORD)


def test_the_command_line_names_the_rule():
    with pytest.raises(CommandError, match="at least 10 characters"):
        call_command("createuser", "--email", "cli@example.com", "--role", "rep",
                     "--password", "k7#vQ2!mz", stdout=StringIO())  # fmt: skip
    with pytest.raises(CommandError, match="too similar to the email"):
        call_command("createuser", "--email", "someone.long@example.com", "--role", "rep",
                     "--password", "someone.long@example", stdout=StringIO())  # fmt: skip
    assert not User.objects.exists()


def test_the_django_admin_applies_the_rules(admin_client_, rep):
    response = admin_client_.post("/admin/accounts/user/add/", {
        "email": "nina@example.com", "role": Role.REP, "usable_password": "true",
        "password1": "k7#vQ2!mz", "password2": "k7#vQ2!mz",
    })  # fmt: skip
    assert "It must contain at least 10 characters." in response.content.decode()
    assert not User.objects.filter(email="nina@example.com").exists()
    response = admin_client_.post(f"/admin/accounts/user/{rep.pk}/password/", {
        "usable_password": "true", "password1": "1234567890123", "password2": "1234567890123",
    })  # fmt: skip
    assert "This password is entirely numeric." in response.content.decode()
