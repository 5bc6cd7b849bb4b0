"""What every API list and error share: keyset pages, ordering, sync, one error shape."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from closeloop.accounts.services import api_token_create
from closeloop.leads.models import Lead
from closeloop.leads.services import LeadInput, lead_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(rep) -> Client:
    token = api_token_create(actor=None, user=rep)[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _leads(rep, count: int, start: dt.datetime, first: int = 0) -> list[Lead]:
    leads = []
    for i in range(first, first + count):
        with time_machine.travel(start + dt.timedelta(minutes=i), tick=False):
            data = LeadInput(last_name=f"Lead {i:02}", email=f"l{i}@example.com", owner=rep)
            leads.append(lead_create(actor=rep, data=data).lead)
    return leads


def _all_pages(api: Client, url: str) -> tuple[list[int], int]:
    ids: list[int] = []
    pages = 0
    cursor = ""
    while True:
        response = api.get(url + (f"&cursor={cursor}" if cursor else ""))
        assert response.status_code == 200, response.content
        pages += 1
        ids += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if not cursor:
            return ids, pages


def test_pages_cover_every_visible_lead_once_in_order(api, rep, outsider):
    mine = _leads(rep, 7, dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    lead_create(actor=outsider, data=LeadInput(last_name="Hidden", owner=outsider))
    ids, pages = _all_pages(api, "/api/v1/leads?limit=3")
    assert ids == [lead.pk for lead in reversed(mine)]
    assert pages == 3
    ids, _ = _all_pages(api, "/api/v1/leads?limit=2&ordering=last_name")
    assert ids == [lead.pk for lead in mine]
    ids, _ = _all_pages(api, "/api/v1/leads?limit=4&ordering=-created_at")
    assert ids == [lead.pk for lead in reversed(mine)]


def test_a_row_added_while_paging_neither_skips_nor_repeats(api, rep):
    mine = _leads(rep, 4, dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    first = api.get("/api/v1/leads?limit=2&ordering=created_at").json()
    _leads(rep, 1, dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), first=10)
    rest = api.get(f"/api/v1/leads?limit=10&ordering=created_at&cursor={first['next_cursor']}")
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in rest.json()["items"]]
    assert seen[:4] == [lead.pk for lead in mine] and len(seen) == 5


def test_updated_since_returns_only_changed_records(api, rep):
    _old, changed = _leads(rep, 2, dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC), tick=False):
        response = api.patch(
            f"/api/v1/leads/{changed.pk}", {"job_title": "CTO"}, content_type="application/json"
        )
    assert response.status_code == 200, response.content
    assert response.json()["job_title"] == "CTO" and response.json()["last_name"] == "Lead 01"
    since = api.get("/api/v1/leads?updated_since=2026-03-15T00:00:00Z").json()["items"]
    assert [item["id"] for item in since] == [changed.pk]


def test_query_count_does_not_grow_with_rows(api, rep, django_assert_max_num_queries):
    _leads(rep, 30, dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/leads?limit=30")
    assert len(response.json()["items"]) == 30


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        ("/api/v1/leads?limit=0", 422, "limit"),
        ("/api/v1/leads?limit=500", 422, "limit"),
        ("/api/v1/leads?ordering=password", 422, "ordering"),
        ("/api/v1/leads?cursor=not-a-cursor", 400, "cursor"),
        ("/api/v1/leads?updated_since=yesterday", 422, "updated_since"),
    ],
)
def test_bad_list_parameters_are_named(api, rep, url, status, field):
    response = api.get(url)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == ("validation" if status == 422 else "invalid")
    assert field in body["fields"] and body["message"]


def test_errors_share_one_shape(api, rep, outsider):
    hidden = lead_create(actor=outsider, data=LeadInput(last_name="Hidden", owner=outsider)).lead
    missing = api.get(f"/api/v1/leads/{hidden.pk}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found" and missing.json()["fields"] == {}
    anonymous = Client().get("/api/v1/leads")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    bad = api.post("/api/v1/leads", {"email": "not an email"}, content_type="application/json")
    assert bad.status_code == 422 and "email" in bad.json()["fields"]


def test_delete_moves_the_lead_to_the_trash(api, rep):
    (lead,) = _leads(rep, 1, dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    assert api.delete(f"/api/v1/leads/{lead.pk}").status_code == 204
    assert Lead.with_trashed.filter(pk=lead.pk, deleted_at__isnull=False).exists()
    assert api.get(f"/api/v1/leads/{lead.pk}").status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("post", "/api/v1/leads", {"last_name": "Nul\x00l"}, "last_name"),
        (
            "post",
            "/api/v1/contacts",
            {"first_name": "Ann", "emails": [{"email": "a@b.example", "label": "work\x00"}]},
            "emails.0.label",
        ),
        ("get", "/api/v1/leads?q=a%00b", None, "q"),
        ("get", "/api/v1/coupons/SPRING%00?order_value=1", None, "code"),
    ],
)
def test_text_with_a_nul_character_is_refused_by_field(api, method, url, body, field):
    """PostgreSQL cannot store U+0000: refused up front on both databases, naming the field."""
    if body is None:
        response = api.get(url)
    else:
        response = api.post(url, body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"], response.content
    assert Lead.objects.count() == 0


def test_any_offset_a_client_writes_is_read_as_utc(api, rep):
    """ISO 8601 allows offsets PostgreSQL refuses (beyond ±15:59): the API moves them to UTC."""
    lead = _leads(rep, 1, dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC))[0]
    Lead.objects.filter(pk=lead.pk).update(updated_at=dt.datetime(2026, 1, 2, 12, tzinfo=dt.UTC))
    # 2026-01-01 14:00 at -22:40 is 2026-01-02 12:40 UTC: after the change
    response = api.get("/api/v1/leads", {"updated_since": "2026-01-01T14:00:00-22:40"})
    assert response.status_code == 200 and response.json()["items"] == []
    response = api.get("/api/v1/leads", {"updated_since": "2026-01-01T13:00:00-22:40"})
    assert [item["id"] for item in response.json()["items"]] == [lead.pk]
    response = api.get("/api/v1/leads", {"updated_since": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 422 and "updated_since" in response.json()["fields"]
