"""Absurd ids and forged cursors are refused as bad input (4xx naming the field), never 5xx:
SQLite cannot compare with an integer past 64 bits."""

from __future__ import annotations

import base64
import json

import pytest

from .tokens import ApiClient

pytestmark = pytest.mark.django_db
BIG = 2**70


def _cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"/api/v1/organizations/{BIG}", "organization_id"),
        (f"/api/v1/contacts/{BIG}", "contact_id"),
        (f"/api/v1/users/{BIG}", "user_id"),
        (f"/api/v1/lost-reasons/{BIG}", "reason_id"),
        (f"/api/v1/discard-reasons/{BIG}", "reason_id"),
        (f"/api/v1/campaigns/{BIG}", "campaign_id"),
        (f"/api/v1/sources/{BIG}", "source_id"),
        ("/api/v1/organizations/0", "organization_id"),
        (f"/api/v1/organizations?owner_id={BIG}", "owner_id"),
        (f"/api/v1/contacts?organization_id={BIG}", "organization_id"),
        (f"/api/v1/users?team_id={BIG}", "team_id"),
        (f"/api/v1/contacts?cursor={_cursor(['Smith', BIG])}", "cursor"),
        (f"/api/v1/sources?ordering=position&cursor={_cursor([BIG, 1])}", "cursor"),
        (f"/api/v1/users?cursor={_cursor(['Ann', 'x'])}", "cursor"),
    ],
)
def test_reads(rep, url, field):
    response = ApiClient(rep).get(url)
    assert response.status_code in (400, 422), response.content
    assert field in response.json()["fields"]


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/organizations", {"name": "A", "owner_id": BIG}, "owner_id"),
        ("/api/v1/contacts", {"last_name": "A", "organization_id": BIG}, "organization_id"),
        ("/api/v1/contacts/1/merge", {"other_id": BIG}, "other_id"),
    ],
)
def test_writes(rep, url, payload, field):
    response = ApiClient(rep).post_json(url, payload)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
