"""Sessions end after SESSION_IDLE_MINUTES without a request, and a password change ends the
user's other sessions (the one that changed it stays signed in)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from config import settings as production
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-phrase"


def signed_in(client: Client) -> bool:
    return client.get("/deals/board/").status_code == 200


def logged_in_at(user: Any, when: dt.datetime) -> Client:
    """A browser that logged in through the login page at `when`."""
    with time_machine.travel(when, tick=False):
        client = Client()
        client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
        assert signed_in(client)
    return client


def test_the_idle_timeout_is_eight_hours_by_default():
    assert production.SESSION_IDLE_MINUTES == 480
    assert production.SESSION_COOKIE_AGE == 8 * 60 * 60


def test_the_cookie_lives_as_long_as_the_idle_timeout(rep, settings):
    settings.SESSION_COOKIE_AGE = 3600
    client = logged_in_at(rep, timezone.now())
    assert client.cookies["sessionid"]["max-age"] == 3600


def test_an_idle_session_expires(rep, settings):
    settings.SESSION_COOKIE_AGE = 3600
    start = timezone.now()
    client = logged_in_at(rep, start)
    with time_machine.travel(start + dt.timedelta(minutes=61), tick=False):
        response = client.get("/deals/board/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_active_session_stays_signed_in_past_the_timeout(rep, settings):
    settings.SESSION_COOKIE_AGE = 3600
    start = timezone.now()
    client = logged_in_at(rep, start)
    for minutes in (40, 80, 120, 160):  # a request every 40 minutes, 2 h 40 min in all
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert signed_in(client)
    with time_machine.travel(start + dt.timedelta(minutes=160 + 61), tick=False):
        assert not signed_in(client)


def test_requests_within_a_minute_do_not_write_the_session(rep, client_for):
    client = client_for(rep)
    client.get("/deals/board/")
    key = client.session.session_key
    expiry = Session.objects.get(session_key=key).expire_date
    client.get("/deals/board/")
    assert Session.objects.get(session_key=key).expire_date == expiry


def test_changing_ones_password_ends_the_other_sessions(rep, client_for):
    here, elsewhere = client_for(rep), client_for(rep)
    response = here.post("/accounts/password/", {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })  # fmt: skip
    assert response.status_code == 302
    assert signed_in(here)
    assert not signed_in(elsewhere)


def test_an_admin_setting_a_password_ends_that_users_sessions(admin_client_, rep, client_for):
    reps_browser = client_for(rep)
    assert signed_in(reps_browser)
    admin_client_.post(f"/settings/users/{rep.pk}/password/", {"password": NEW_PASSWORD})
    assert not signed_in(reps_browser)
    assert signed_in(admin_client_)
