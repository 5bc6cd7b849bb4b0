"""The profile page's API tokens section: create (shown once), list, revoke."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from closeloop.accounts.choices import TokenScope
from closeloop.accounts.models import ApiToken
from closeloop.accounts.services import api_token_create
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SECRET = re.compile(r'value="(cl_[^"]+)"')


def test_a_created_token_is_shown_once_and_works(rep, rep_client):
    response = rep_client.post(
        "/accounts/profile/tokens/", {"name": "Website form", "scope": TokenScope.READ_WRITE}
    )
    assert response.status_code == 200
    page = response.content.decode()
    (secret,) = SECRET.findall(page)
    assert "Copy it now: it is not shown again" in page and 'data-copy="api-token-secret"' in page
    token = ApiToken.objects.get(user=rep)
    assert token.name == "Website form" and token.scope == TokenScope.READ_WRITE
    assert secret.startswith(token.prefix)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert (
        api.post(
            "/api/v1/leads", {"last_name": "Lima"}, content_type="application/json"
        ).status_code
        == 201
    )

    later = rep_client.get("/accounts/profile/").content.decode()
    assert secret not in later and not SECRET.findall(later)
    row = re.search(r"<tr>\s*<td>Website form</td>.*?</tr>", later, re.S)
    assert row is not None
    assert f"{token.prefix}…" in row.group() and "Read and write" in row.group()
    assert "never" not in row.group()  # it was used just now


def test_a_read_only_token_from_the_page_cannot_write(rep, rep_client):
    page = rep_client.post(
        "/accounts/profile/tokens/", {"name": "Reports", "scope": TokenScope.READ}
    ).content.decode()
    (secret,) = SECRET.findall(page)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/leads").status_code == 200
    assert api.post("/api/v1/leads", {}, content_type="application/json").status_code == 403


def test_a_token_needs_a_name_and_a_known_scope(rep, rep_client):
    response = rep_client.post("/accounts/profile/tokens/", {"name": "", "scope": "admin"})
    page = response.content.decode()
    assert response.status_code == 200 and not SECRET.findall(page)
    assert "This field is required." in page and "Select a valid choice" in page
    assert not ApiToken.objects.exists()


def test_revoking_stops_the_token_at_once(rep, rep_client):
    token, secret = api_token_create(actor=rep, user=rep, name="Shop")
    response = rep_client.post(f"/accounts/profile/tokens/{token.pk}/revoke/", follow=True)
    assert "no longer works" in response.content.decode()
    assert "Revoked" in response.content.decode()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/leads").status_code == 401


def test_revoke_needs_post_and_the_csrf_token(rep):
    token, _ = api_token_create(actor=rep, user=rep, name="Shop")
    client = Client(enforce_csrf_checks=True)
    client.login(username=rep.email, password=PASSWORD)
    assert client.get(f"/accounts/profile/tokens/{token.pk}/revoke/").status_code == 405
    assert client.post(f"/accounts/profile/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    page = client.get("/accounts/profile/").content.decode()
    assert 'data-confirm="Revoke the token “Shop”?' in page


def test_someone_elses_token_cannot_be_revoked_or_seen(rep, teammate, rep_client):
    theirs, _ = api_token_create(actor=teammate, user=teammate, name="Their shop")
    assert rep_client.post(f"/accounts/profile/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert "Their shop" not in rep_client.get("/accounts/profile/").content.decode()


def test_the_pages_need_a_login(rep):
    token, _ = api_token_create(actor=rep, user=rep)
    anonymous = Client()
    assert (
        anonymous.post("/accounts/profile/tokens/", {"name": "x", "scope": "read"}).status_code
        == 302
    )
    assert anonymous.post(f"/accounts/profile/tokens/{token.pk}/revoke/").status_code == 302
    assert not ApiToken.objects.filter(name="x").exists()
