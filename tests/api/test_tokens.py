"""Personal API tokens: scopes enforced on every route, revocation, last use, the CLI."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from closeloop.accounts.choices import TokenScope
from closeloop.accounts.models import ApiToken
from closeloop.accounts.services import (
    api_token_create,
    api_token_revoke,
    api_token_touch,
    user_set_active,
    user_update,
)
from closeloop.api.api import api
from closeloop.core.exceptions import DomainError
from closeloop.leads.models import Lead
from closeloop.leads.services import LeadInput, lead_create

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def _client(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _json(client: Client, method: str, url: str, body: dict | None = None):  # type: ignore[no-untyped-def]
    return getattr(client, method)(url, body or {}, content_type="application/json")


def test_a_token_is_stored_as_a_digest_with_its_scope(rep):
    token, secret = api_token_create(actor=rep, user=rep, name="Shop", scope=TokenScope.READ)
    assert secret.startswith("cl_") and len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.digest, stored.prefix) and secret.startswith(stored.prefix)
    assert stored.scope == TokenScope.READ and stored.is_read_only and stored.name == "Shop"


def test_an_unknown_scope_is_refused_with_the_field_named(rep):
    with pytest.raises(DomainError) as error:
        api_token_create(actor=rep, user=rep, scope="admin")
    assert error.value.field == "scope" and "read_write" in error.value.message


def test_a_rep_cannot_make_a_token_for_someone_else(rep, teammate, admin):
    with pytest.raises(DomainError):
        api_token_create(actor=rep, user=teammate)
    assert api_token_create(actor=admin, user=teammate)[0].user == teammate


def test_read_only_token_reads_but_every_write_answers_403(rep):
    lead = lead_create(actor=rep, data=LeadInput(last_name="Lima", owner=rep)).lead
    reader = _client(api_token_create(actor=None, user=rep, scope=TokenScope.READ)[1])
    assert reader.get("/api/v1/leads").status_code == 200
    assert reader.get(f"/api/v1/leads/{lead.pk}").json()["last_name"] == "Lima"
    writes = [
        ("post", "/api/v1/leads", {"last_name": "New"}),
        ("patch", f"/api/v1/leads/{lead.pk}", {"job_title": "CTO"}),
        ("delete", f"/api/v1/leads/{lead.pk}", None),
        ("post", f"/api/v1/leads/{lead.pk}/nurture", {"reason": "later", "until": "2030-01-01"}),
    ]
    for method, url, body in writes:
        response = _json(reader, method, url, body)
        assert response.status_code == 403, (method, url, response.content)
        assert response.json()["code"] == "forbidden"
        assert "read-only" in response.json()["message"]
    lead.refresh_from_db()
    assert lead.job_title == "" and lead.deleted_at is None
    assert Lead.objects.filter(last_name="New").count() == 0


def test_read_only_is_refused_on_every_write_route_of_the_api(rep):
    """Whatever resources are added, a read-only token never reaches a write handler."""
    reader = _client(api_token_create(actor=None, user=rep, scope=TokenScope.READ)[1])
    paths = api.get_openapi_schema()["paths"]
    routes = [
        (method, re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in paths.items()
        for method in operations
        if method in {"post", "put", "patch", "delete"}
    ]
    assert len(routes) >= 5
    for method, url in routes:
        response = _json(reader, method, url, {})
        assert response.status_code == 403, (method, url, response.content)
        assert "read-only" in response.json()["message"]


def test_read_write_token_may_write(rep):
    writer = _client(api_token_create(actor=None, user=rep)[1])
    response = _json(writer, "post", "/api/v1/leads", {"last_name": "Lima"})
    assert response.status_code == 201, response.content


def test_revoked_token_and_deactivated_user_answer_401(rep, admin):
    token, secret = api_token_create(actor=None, user=rep)
    client = _client(secret)
    assert client.get("/api/v1/leads").status_code == 200
    api_token_revoke(actor=rep, token=token)
    response = client.get("/api/v1/leads")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    _token, other = api_token_create(actor=None, user=rep)
    user_set_active(actor=admin, user=rep, active=False)
    assert _client(other).get("/api/v1/leads").status_code == 401


def test_a_process_looks_a_token_up_once_a_second_and_forgets_it_when_changed(
    rep, admin, monkeypatch
):
    from closeloop.accounts import selectors

    token, secret = api_token_create(actor=None, user=rep)
    client = _client(secret)
    clock = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(selectors, "TOKEN_MEMO_SECONDS", 1.0)  # the suite sets it to 0

    def lookups() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get("/api/v1/leads").status_code == 200
        return sum('"accounts_apitoken"' in q["sql"] and q["sql"].startswith("SELECT")
                   for q in seen.captured_queries)  # fmt: skip

    assert lookups() == 1
    assert lookups() == 0  # remembered for the rest of the second
    # revoked by another server process: this one notices once its second is up
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=T0)
    assert client.get("/api/v1/leads").status_code == 200
    clock[0] += selectors.TOKEN_MEMO_SECONDS
    assert client.get("/api/v1/leads").status_code == 401
    # revoked, or its user changed, in this process: refused (or looked up again) at once
    token, secret = api_token_create(actor=None, user=rep)
    client = _client(secret)
    assert lookups() == 1
    user_update(
        actor=admin, user=rep, role=rep.role, full_name="Renamed", teams=list(rep.teams.all())
    )
    assert lookups() == 1
    api_token_revoke(actor=rep, token=token)
    assert client.get("/api/v1/leads").status_code == 401


def test_last_use_is_written_at_most_once_a_minute(rep):
    token, secret = api_token_create(actor=None, user=rep)
    client = _client(secret)
    with time_machine.travel(T0, tick=False):
        with CaptureQueriesContext(connection) as first:
            client.get("/api/v1/leads")
        with CaptureQueriesContext(connection) as later:
            for _ in range(5):
                client.get("/api/v1/leads")
    token.refresh_from_db()
    assert token.last_used_at == T0
    touches = [q for q in first.captured_queries + later.captured_queries
               if "last_used_at" in q["sql"] and q["sql"].startswith("UPDATE")]  # fmt: skip
    assert len(touches) == 1
    with time_machine.travel(T0 + dt.timedelta(seconds=61), tick=False):
        client.get("/api/v1/leads")
    token.refresh_from_db()
    assert token.last_used_at == T0 + dt.timedelta(seconds=61)


def test_two_processes_holding_an_old_value_write_the_last_use_once(rep):
    token, _ = api_token_create(actor=None, user=rep)
    first, second = ApiToken.objects.get(pk=token.pk), ApiToken.objects.get(pk=token.pk)
    assert api_token_touch(token=first, now=T0) is True
    assert api_token_touch(token=second, now=T0 + dt.timedelta(seconds=1)) is False
    token.refresh_from_db()
    assert token.last_used_at == T0


def test_cli_creates_a_read_only_token_lists_and_revokes_it(rep):
    out, err = StringIO(), StringIO()
    call_command("token", "create", "--email", rep.email, "--name", "BI", "--read-only",
                 stdout=out, stderr=err)  # fmt: skip
    secret = out.getvalue().strip()
    assert "not shown again" in err.getvalue()
    token = ApiToken.objects.get(user=rep)
    assert token.scope == TokenScope.READ and token.name == "BI"
    assert _json(_client(secret), "post", "/api/v1/leads", {"last_name": "X"}).status_code == 403
    listing = StringIO()
    call_command("token", "list", stdout=listing)
    line = listing.getvalue()
    assert token.prefix in line and "read " in line and "active" in line and "never" not in line
    call_command("token", "revoke", token.prefix, stdout=StringIO())
    assert _client(secret).get("/api/v1/leads").status_code == 401
    with pytest.raises(CommandError, match="No user"):
        call_command("token", "create", "--email", "nobody@example.com")
