"""Rate limits: per token, per signed-in user, per address for calls without credentials."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from closeloop.accounts.choices import TokenScope
from closeloop.accounts.services import api_token_create
from closeloop.api.throttling import rate_parse
from closeloop.leads.models import RateLimitHit

pytestmark = pytest.mark.django_db

# the start of a minute, so a test's requests share one window
T0 = dt.datetime(2026, 5, 4, 9, 0, 5, tzinfo=dt.UTC)


def _token_client(user, **kwargs) -> Client:  # type: ignore[no-untyped-def]
    return Client(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(actor=None, user=user, **kwargs)[1]}"
    )


def test_a_token_over_its_limit_gets_429_with_retry_after(settings, rep):
    settings.API_RATE_LIMIT = "3/min"
    client = _token_client(rep)
    with time_machine.travel(T0, tick=False):
        answers = [client.get("/api/v1/leads") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert answers[0]["RateLimit-Limit"] == "3"
    refused = answers[3]
    assert refused.json()["code"] == "rate_limited"
    assert refused["Retry-After"] == "55" and "55 s" in refused.json()["message"]
    with time_machine.travel(T0 + dt.timedelta(seconds=55), tick=False):
        assert client.get("/api/v1/leads").status_code == 200


def test_each_token_has_its_own_allowance(settings, rep):
    settings.API_RATE_LIMIT = "2/min"
    first, second = _token_client(rep), _token_client(rep, scope=TokenScope.READ)
    with time_machine.travel(T0, tick=False):
        assert [first.get("/api/v1/leads").status_code for _ in range(3)] == [200, 200, 429]
        assert second.get("/api/v1/leads").status_code == 200


def test_writes_refused_for_the_scope_still_count(settings, rep):
    settings.API_RATE_LIMIT = "2/min"
    reader = _token_client(rep, scope=TokenScope.READ)
    with time_machine.travel(T0, tick=False):
        posts = [
            reader.post("/api/v1/leads", {}, content_type="application/json").status_code
            for _ in range(3)
        ]
    assert posts == [403, 403, 429]


def test_the_count_is_kept_in_the_database_shared_by_every_server_process(settings, rep):
    settings.API_RATE_LIMIT = "10/min"
    client = _token_client(rep)
    with time_machine.travel(T0, tick=False):
        for _ in range(3):
            client.get("/api/v1/leads")
    (row,) = RateLimitHit.objects.filter(key__startswith="api:token:")
    assert row.count == 3


def test_a_signed_in_session_is_limited_per_user(settings, rep, rep_client, client_for):
    settings.API_RATE_LIMIT = "2/min"
    with time_machine.travel(T0, tick=False):
        statuses = [rep_client.get("/api/v1/leads").status_code for _ in range(2)]
        statuses.append(client_for(rep).get("/api/v1/leads").status_code)  # another browser
    assert statuses == [200, 200, 429]


def test_calls_without_valid_credentials_are_limited_per_address(settings, rep):
    settings.API_RATE_LIMIT_PER_IP = "2/min"
    with time_machine.travel(T0, tick=False):
        guesses = [
            Client(HTTP_AUTHORIZATION=f"Bearer cl_guess{i}").get("/api/v1/leads") for i in range(3)
        ]
        elsewhere = Client(REMOTE_ADDR="10.0.0.9").get("/api/v1/leads")
        with_token = _token_client(rep).get("/api/v1/leads")
    assert [g.status_code for g in guesses] == [401, 401, 429]
    assert guesses[2].json()["code"] == "rate_limited" and guesses[2]["Retry-After"]
    assert elsewhere.status_code == 401
    assert with_token.status_code == 200


def test_the_public_docs_are_limited_per_address(settings, db):
    settings.API_RATE_LIMIT_PER_IP = "2/min"
    client = Client()
    with time_machine.travel(T0, tick=False):
        statuses = [client.get("/api/v1/openapi.json").status_code for _ in range(2)]
        refused = client.get("/api/v1/docs")
    assert statuses == [200, 200]
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert refused["Retry-After"] == "55"


@pytest.mark.parametrize(
    ("rate", "parsed"), [("600/min", (600, 60)), ("10/s", (10, 1)), ("5000/hour", (5000, 3600)),
                         (" 20 / minutes ", (20, 60)), ("100000/day", (100000, 86400))],
)  # fmt: skip
def test_rates_are_read_from_the_setting(rate, parsed):
    assert rate_parse(rate, "API_RATE_LIMIT") == parsed


@pytest.mark.parametrize("rate", ["600", "0/min", "ten/min", "5/week", ""])
def test_a_malformed_rate_names_the_setting(rate):
    with pytest.raises(ImproperlyConfigured, match="API_RATE_LIMIT"):
        rate_parse(rate, "API_RATE_LIMIT")


def test_far_from_the_limit_counts_are_written_in_batches_near_it_every_request(settings, rep):
    """A write on every request was a third of an API call; each process now writes its count
    in batches, and at every request once within a batch of the limit."""
    from closeloop.api.throttling import BATCH, rate_limit_tallies_forget

    settings.API_RATE_LIMIT = f"{3 * BATCH}/min"
    client = _token_client(rep)
    stored = lambda: RateLimitHit.objects.get(key__startswith="api:token:").count  # noqa: E731
    with time_machine.travel(T0, tick=False):
        for _ in range(BATCH):
            assert client.get("/api/v1/leads").status_code == 200
        assert stored() == BATCH  # one batch written
        rate_limit_tallies_forget()  # another server process: it starts from the database
        answers = [client.get("/api/v1/leads") for _ in range(2 * BATCH + 1)]
    assert [a.status_code for a in answers].count(429) == 1 and answers[-1].status_code == 429
    assert answers[-2]["RateLimit-Remaining"] == "0"
    assert stored() == 3 * BATCH + 1  # near the limit every request was written
