"""Login throttling: failed logins counted per email address and per client address in the
database; past the limits the login page, the admin's login and the password page refuse."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from closeloop.leads.models import RateLimitHit
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
REFUSED = "Too many failed logins for this email address or from your network."


def attempt(email: str, password: str, ip: str = "10.0.0.1", url: str = LOGIN) -> Any:
    """One login on a fresh client (as a script would), from `ip`."""
    return Client(REMOTE_ADDR=ip).post(url, {"username": email, "password": password})


def logged_in(response: Any) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_five_failures_lock_the_account_even_for_the_right_password(rep, settings):
    assert settings.LOGIN_FAILURES_PER_ACCOUNT == 5
    for _ in range(5):
        response = attempt(rep.email, "wrong-password", ip="10.0.0.1")
        assert response.status_code == 200
        assert "Please enter a correct email and password" in response.content.decode()
    # from anywhere: the account's count is not tied to the address
    refused = attempt(rep.email, PASSWORD, ip="10.9.9.9")
    assert refused.status_code == 429
    assert REFUSED in refused.content.decode()
    assert "Try again in" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 30 * 60
    assert not logged_in(refused)
    # another account from the same address is not affected
    UserFactory(email="other@example.com")
    assert logged_in(attempt("other@example.com", PASSWORD, ip="10.0.0.1"))


def test_the_refusal_does_not_tell_whether_the_account_exists(rep):
    for email in (rep.email, "nobody@example.com"):
        for _ in range(5):
            attempt(email, "wrong-password", ip="10.0.0.2")
    known = attempt(rep.email, "wrong-password", ip="10.0.0.3")
    unknown = attempt("nobody@example.com", "wrong-password", ip="10.0.0.4")
    assert known.status_code == unknown.status_code == 429
    assert known.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()


def test_twenty_failures_from_one_address_lock_that_address(rep, settings):
    assert settings.LOGIN_FAILURES_PER_IP == 20
    for n in range(20):
        attempt(f"guess{n}@example.com", "wrong-password", ip="203.0.113.7")
    refused = attempt(rep.email, PASSWORD, ip="203.0.113.7")
    assert refused.status_code == 429 and REFUSED in refused.content.decode()
    assert logged_in(attempt(rep.email, PASSWORD, ip="198.51.100.1"))


def test_the_address_limit_can_be_switched_off_for_a_proxy_that_hides_addresses(rep, settings):
    settings.LOGIN_FAILURES_PER_IP = 0
    for n in range(30):
        attempt(f"guess{n}@example.com", "wrong-password", ip="127.0.0.1")
    assert logged_in(attempt(rep.email, PASSWORD, ip="127.0.0.1"))
    for _ in range(5):
        attempt(rep.email, "wrong-password", ip="127.0.0.1")
    assert attempt(rep.email, PASSWORD, ip="127.0.0.1").status_code == 429


def test_a_successful_login_does_not_clear_the_address_count(rep):
    attacker = UserFactory(email="attacker@example.com")
    for n in range(19):
        attempt(f"victim{n}@example.com", "wrong-password", ip="203.0.113.8")
    # logging in to an account of one's own from that address changes nothing for the address
    assert logged_in(attempt(attacker.email, PASSWORD, ip="203.0.113.8"))
    attempt("victim-last@example.com", "wrong-password", ip="203.0.113.8")
    assert attempt(rep.email, PASSWORD, ip="203.0.113.8").status_code == 429


def test_a_successful_login_forgets_the_accounts_own_typos(rep):
    for _ in range(4):
        attempt(rep.email, "typo", ip="10.0.1.1")
    assert logged_in(attempt(rep.email, PASSWORD, ip="10.0.1.1"))
    for _ in range(4):
        attempt(rep.email, "typo", ip="10.0.1.1")
    assert logged_in(attempt(rep.email, PASSWORD, ip="10.0.1.1"))


def test_the_lock_ends_when_the_failures_are_old_enough(rep):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            attempt(rep.email, "wrong-password")
        refused = attempt(rep.email, PASSWORD)
        assert refused.status_code == 429
        wait = int(refused["Retry-After"])
    with time_machine.travel(start + dt.timedelta(seconds=wait - 5), tick=False):
        assert attempt(rep.email, PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(seconds=wait + 1), tick=False):
        assert logged_in(attempt(rep.email, PASSWORD))


def test_failures_either_side_of_a_window_edge_still_count_together(rep, settings):
    """Counting in fixed windows must not allow 2 × 5 guesses around the edge of a window."""
    window = settings.LOGIN_FAILURE_MINUTES * 60
    epoch = int(timezone.now().timestamp())
    edge = dt.datetime.fromtimestamp(epoch - epoch % window + window, tz=dt.UTC)
    with time_machine.travel(edge - dt.timedelta(seconds=30), tick=False):
        for _ in range(3):
            attempt(rep.email, "wrong-password")
    with time_machine.travel(edge + dt.timedelta(seconds=30), tick=False):
        for _ in range(2):
            attempt(rep.email, "wrong-password")
        assert attempt(rep.email, PASSWORD).status_code == 429


def test_the_counts_are_kept_in_the_database_without_the_address(rep):
    for _ in range(2):
        attempt(rep.email, "wrong-password", ip="192.0.2.44")
    keys = dict(RateLimitHit.objects.values_list("key", "count"))
    assert keys["login-fail:ip:192.0.2.44"] == 2
    email_keys = [k for k in keys if k.startswith("login-fail:email:")]
    assert len(email_keys) == 1 and keys[email_keys[0]] == 2
    assert rep.email not in email_keys[0]


def test_failed_and_refused_logins_are_logged(rep, caplog):
    with caplog.at_level("WARNING", logger="closeloop.security"):
        for _ in range(6):
            attempt(rep.email, "wrong-password", ip="192.0.2.5")
    failures = [r for r in caplog.records if r.getMessage().startswith("Failed login")]
    refusals = [r for r in caplog.records if r.getMessage().startswith("Login refused")]
    assert len(failures) == 5 and len(refusals) == 1
    assert "'rep@example.com' from 192.0.2.5" in failures[0].getMessage()


def test_the_admin_login_is_throttled_too(admin):
    for _ in range(5):
        attempt(admin.email, "wrong-password", url="/admin/login/")
    refused = attempt(admin.email, PASSWORD, url="/admin/login/")
    assert REFUSED in refused.content.decode()
    assert "_auth_user_id" not in refused.client.session


def test_wrong_current_passwords_on_the_password_page_count_as_failed_logins(rep, client_for):
    client = client_for(rep)
    form = {"new_password1": "a-new-long-phrase", "new_password2": "a-new-long-phrase"}
    for _ in range(5):
        response = client.post("/accounts/password/", {"old_password": "guess", **form})
        assert "Your old password was entered incorrectly" in response.content.decode()
    refused = client.post("/accounts/password/", {"old_password": PASSWORD, **form})
    assert refused.status_code == 429 and REFUSED in refused.content.decode()
    rep.refresh_from_db()
    assert rep.check_password(PASSWORD)
    # and the login page refuses the account as well
    assert attempt(rep.email, PASSWORD).status_code == 429
