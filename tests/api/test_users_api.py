"""/api/v1/users: read only, every token reads every user, never password data."""

from __future__ import annotations

import pytest
from django.test import Client

from closeloop.accounts.models import User
from tests.factories import UserFactory

from .tokens import ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/users"


def test_a_rep_reads_every_user_with_teams_and_role(rep, teammate, outsider, manager, admin, team):
    gone = UserFactory(email="gone@example.com", full_name="Gus Gone", is_active=False)
    api = ApiClient(rep)
    response = api.get(URL)
    everyone = sorted([rep, teammate, outsider, manager, admin, gone], key=lambda u: u.full_name)
    assert ids(response) == [u.pk for u in everyone]
    item = next(i for i in response.json()["items"] if i["id"] == manager.pk)
    assert item == {
        "id": manager.pk,
        "email": "manager@example.com",
        "full_name": "Mia Manager",
        "role": "manager",
        "teams": [{"id": team.pk, "name": "North"}],
        "is_active": True,
        "date_joined": item["date_joined"],
    }
    assert api.get(f"{URL}/{gone.pk}").json()["is_active"] is False
    assert api.get(f"{URL}/me").json()["id"] == rep.pk


def test_no_password_data_is_ever_answered(rep):
    text = (
        ApiClient(rep).get(URL).content.decode() + ApiClient(rep).get(f"{URL}/me").content.decode()
    )
    assert "password" not in text and rep.password not in text
    schema = ApiClient(rep).get("/api/v1/openapi.json").json()["components"]["schemas"]["UserOut"]
    assert not {"password", "last_login", "calendar_feed_key"} & set(schema["properties"])


def test_filters_and_orderings(rep, teammate, outsider, manager, admin, team):
    gone = UserFactory(full_name="Gus Gone", is_active=False)
    api = ApiClient(admin)
    assert ids(api.get(f"{URL}?team_id={team.pk}&ordering=email")) == [
        manager.pk,
        rep.pk,
        teammate.pk,
    ]
    assert ids(api.get(f"{URL}?role=manager")) == [manager.pk]
    assert ids(api.get(f"{URL}?q=OTTO")) == [outsider.pk]
    assert ids(api.get(f"{URL}?is_active=false")) == [gone.pk]
    assert ids(api.get(f"{URL}?ordering=-date_joined&limit=1")) == [gone.pk]
    bad = api.get(f"{URL}?role=owner")
    assert bad.status_code == 422 and "role" in bad.json()["fields"]
    since = api.get(f"{URL}?updated_since=2026-01-01T00:00:00Z")
    assert since.status_code == 400 and "updated_since" in since.json()["fields"]


def test_unknown_user_and_no_token(rep):
    assert ApiClient(rep).get(f"{URL}/999999").status_code == 404
    assert Client().get(URL).status_code == 401


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(rep, team, rows, django_assert_max_num_queries):
    api = ApiClient(rep)
    for _ in range(rows):
        UserFactory(teams=[team])
    # token, its last use, the page, its teams
    with django_assert_max_num_queries(6):
        response = api.get(f"{URL}?limit=50")
    assert len(response.json()["items"]) == User.objects.count()
