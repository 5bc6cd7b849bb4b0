"""A deactivated user can no longer log in, and their open session ends."""

from __future__ import annotations

import pytest
from django.urls import reverse

from closeloop.accounts import services
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_deactivated_user_can_no_longer_log_in(admin, rep, client):
    assert client.login(username=rep.email, password=PASSWORD)
    client.logout()
    services.user_set_active(actor=admin, user=rep, active=False)
    assert client.login(username=rep.email, password=PASSWORD) is False


def test_deactivating_ends_the_users_open_session(admin_client_, rep, rep_client):
    assert rep_client.get(reverse("pipeline:deal_list")).status_code == 200
    admin_client_.post(reverse("settings:user_set_active", args=[rep.pk]), {"active": "0"})
    response = rep_client.get(reverse("pipeline:deal_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_reactivated_user_can_log_in_again(admin, rep, client):
    services.user_set_active(actor=admin, user=rep, active=False)
    services.user_set_active(actor=admin, user=rep, active=True)
    assert client.login(username=rep.email, password=PASSWORD)
