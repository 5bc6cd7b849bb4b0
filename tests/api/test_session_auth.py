"""The pages' own API calls: the signed-in session works, with CSRF on every unsafe method."""

from __future__ import annotations

import pytest
from django.test import Client

from closeloop.accounts.services import api_token_create
from closeloop.leads.models import Lead
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=user.email, password=PASSWORD)
    return client


def _csrf_token(client: Client) -> str:
    client.get("/accounts/profile/")  # any page sets the csrftoken cookie
    return client.cookies["csrftoken"].value


def test_a_signed_in_session_reads_without_a_csrf_token(rep):
    client = _signed_in(rep)
    response = client.get("/api/v1/leads")
    assert response.status_code == 200 and response.json()["items"] == []


def test_a_session_post_with_the_csrf_token_is_accepted(rep):
    client = _signed_in(rep)
    response = client.post(
        "/api/v1/leads", {"last_name": "Lima"}, content_type="application/json",
        HTTP_X_CSRFTOKEN=_csrf_token(client),
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert Lead.objects.get(pk=response.json()["id"]).owner == rep


@pytest.mark.parametrize("token", [None, "wrong-token-value-of-the-right-length-000000"])
def test_a_session_post_without_a_valid_csrf_token_is_refused(rep, token):
    client = _signed_in(rep)
    _csrf_token(client)
    headers = {"HTTP_X_CSRFTOKEN": token} if token else {}
    response = client.post(
        "/api/v1/leads", {"last_name": "Forged"}, content_type="application/json", **headers
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "forbidden" and "CSRF" in response.json()["message"]
    delete = client.delete("/api/v1/leads/1")
    assert delete.status_code == 403 and "CSRF" in delete.json()["message"]
    assert not Lead.objects.filter(last_name="Forged").exists()


def test_a_token_never_needs_a_csrf_token(rep):
    secret = api_token_create(actor=None, user=rep)[1]
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = client.post("/api/v1/leads", {"last_name": "Lima"}, content_type="application/json")
    assert response.status_code == 201, response.content


def test_a_wrong_token_answers_401_even_with_a_signed_in_session(rep):
    client = _signed_in(rep)
    response = client.get("/api/v1/leads", HTTP_AUTHORIZATION="Bearer cl_not-a-real-token")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_no_session_and_no_token_answers_401(db):
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/leads", {"last_name": "X"}, content_type="application/json"
    )
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
