"""Idempotency-Key: a retried POST gets the first answer and creates nothing twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from closeloop.accounts.selectors import workspace_settings
from closeloop.accounts.services import api_token_create
from closeloop.api import idempotency
from closeloop.api.errors import ApiError
from closeloop.api.idempotency import idempotency_claim, idempotency_keys_purge
from closeloop.api.models import IdempotencyKey
from closeloop.core.schedule import PERIODIC_JOBS
from closeloop.leads.models import Lead

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def api(rep) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(actor=None, user=rep)[1]}")


def _post(client: Client, body: dict, key: str | None = "order-1001", url: str = "/api/v1/leads"):  # type: ignore[no-untyped-def]
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, body, content_type="application/json", **headers)


def test_a_retry_gets_the_first_answer_and_creates_no_second_lead(api):
    first = _post(api, {"last_name": "Lima", "email": "ana@acme.example"})
    retry = _post(api, {"last_name": "Lima", "email": "ana@acme.example"})
    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Lead.objects.filter(last_name="Lima").count() == 1


def test_without_a_key_each_post_creates(api):
    _post(api, {"last_name": "Lima"}, key=None)
    _post(api, {"last_name": "Lima"}, key=None)
    assert Lead.objects.filter(last_name="Lima").count() == 2


def test_the_same_key_with_another_body_is_refused(api):
    assert _post(api, {"last_name": "Lima"}).status_code == 201
    other = _post(api, {"last_name": "Silva"})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert (
        "Idempotency-Key" in other.json()["fields"]
        and "different request" in other.json()["message"]
    )
    elsewhere = _post(api, {"last_name": "Lima"}, url="/api/v1/coupons/NOPE/redeem")
    assert elsewhere.status_code == 422  # another path is another request
    assert not Lead.objects.filter(last_name="Silva").exists()


def test_keys_belong_to_their_token(api, rep, teammate):
    other = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(actor=None, user=teammate)[1]}")
    mine = _post(api, {"last_name": "Lima"})
    theirs = _post(other, {"last_name": "Lima"})
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["owner_email"] == teammate.email


def test_a_refused_request_keeps_nothing_so_the_corrected_retry_runs(api, rep):
    _post(api, {"last_name": "Lima", "email": "taken@acme.example"}, key="first")
    duplicate = _post(api, {"last_name": "Lima", "email": "taken@acme.example"}, key="k2")
    assert duplicate.status_code == 409
    assert not IdempotencyKey.objects.filter(key="k2").exists()
    again = _post(api, {"last_name": "Lima", "email": "taken@acme.example"}, key="k2")
    assert again.status_code == 409 and not again.has_header("Idempotent-Replayed")
    fixed = _post(api, {"last_name": "Lima", "email": "other@acme.example"}, key="k2")
    assert fixed.status_code == 201


def test_a_malformed_request_reserves_nothing(api):
    bad = _post(api, {"email": "not an email"}, key="k3")
    assert bad.status_code == 422 and "email" in bad.json()["fields"]
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "ünïcode"])
def test_a_malformed_key_is_refused(api, key):
    response = api.post(
        "/api/v1/leads", {"last_name": "Lima"}, content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )  # fmt: skip
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]
    assert not Lead.objects.exists()


def test_a_session_retry_is_replayed_too(rep, client_for):
    client = client_for(rep)
    first = _post(client, {"last_name": "Lima"})
    retry = _post(client, {"last_name": "Lima"})
    assert first.status_code == 201 and retry.content == first.content
    assert IdempotencyKey.objects.get().caller == f"user:{rep.pk}"


def test_keys_are_kept_24_hours_then_purged(api):
    with time_machine.travel(T0, tick=False):
        first = _post(api, {"last_name": "Lima"})
    with time_machine.travel(T0 + dt.timedelta(hours=23), tick=False):
        assert _post(api, {"last_name": "Lima"})["Idempotent-Replayed"] == "true"
    with time_machine.travel(T0 + dt.timedelta(hours=25), tick=False):
        later = _post(api, {"last_name": "Lima"})  # expired: a new request
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    IdempotencyKey.objects.create(caller="token:0", key="old", fingerprint="x",
                                  created_at=T0 - dt.timedelta(hours=25))  # fmt: skip
    assert idempotency_keys_purge(now=T0 + dt.timedelta(hours=25, minutes=30)) == 1
    assert IdempotencyKey.objects.count() == 1
    assert "idempotency_keys_purge" in PERIODIC_JOBS


def test_a_retry_waits_for_a_running_first_request_then_says_409(monkeypatch, db):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    IdempotencyKey.objects.create(caller="token:1", key="k", fingerprint="f")
    with pytest.raises(ApiError) as error:
        idempotency_claim(caller="token:1", key="k", fingerprint="f")
    assert error.value.status == 409 and error.value.headers == {"Retry-After": "1"}
    assert "still running" in error.value.message


def test_a_reservation_abandoned_by_a_dead_process_is_taken_over(db):
    stale = IdempotencyKey.objects.create(
        caller="token:1",
        key="k",
        fingerprint="f",
        created_at=timezone.now() - dt.timedelta(minutes=6),
    )
    claim = idempotency_claim(caller="token:1", key="k", fingerprint="f")
    assert isinstance(claim, IdempotencyKey) and claim.pk == stale.pk
    assert claim.created_at > timezone.now() - dt.timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_retries_create_one_lead(rep):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("in-memory SQLite shares one cache between threads; run on PostgreSQL")
    secret = api_token_create(actor=None, user=rep)[1]
    workspace_settings()  # made once here, not raced for by the two requests' visibility checks
    start = threading.Barrier(2)
    answers: list[tuple[int, bytes]] = []

    def work() -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
            start.wait()
            response = _post(client, {"last_name": "Race", "email": "race@acme.example"})
            answers.append((response.status_code, response.content))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [201, 201], answers
    assert answers[0][1] == answers[1][1]
    assert Lead.objects.filter(last_name="Race").count() == 1
