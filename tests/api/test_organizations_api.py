"""/api/v1/organizations: list with filters and orderings, create, read, change, trash."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from closeloop.accounts.selectors import workspace_settings
from closeloop.people.models import Organization
from tests.factories import OrganizationFactory

from .tokens import ROLE_SEES, ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/organizations"


@pytest.fixture
def owned(rep, teammate, outsider) -> dict[str, Organization]:
    """One organization per owner, plus an unowned (shared) one."""
    return {
        key: OrganizationFactory(name=f"Org of {key}", domain=f"{key}.example", owner=owner)
        for key, owner in (
            ("rep", rep),
            ("teammate", teammate),
            ("outsider", outsider),
            ("shared", None),
        )
    }


def test_create_read_and_list_an_organization(rep):
    api = ApiClient(rep)
    response = api.post_json(
        URL,
        {
            "name": "  Acme GmbH ",
            "domain": "https://www.Acme.example/about",
            "website": "acme.example",
            "phone": "+49 30 1234567",
            "industry": "Bakeries",
            "external_id": "crm-7",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    org = Organization.objects.get(pk=body["id"])
    assert (org.name, org.domain, org.website) == (
        "Acme GmbH",
        "acme.example",
        "https://acme.example",
    )
    assert org.owner == rep and org.external_id == "crm-7"
    assert body["owner_id"] == rep.pk and body["owner_email"] == rep.email
    assert body["domain"] == "acme.example" and body["created_at"] and body["updated_at"]
    assert api.get(f"{URL}/{org.pk}").json() == body
    assert ids(api.get(URL)) == [org.pk]


def test_owner_null_shares_it_and_an_owner_the_rep_may_not_pick_is_named(rep, outsider):
    api = ApiClient(rep)
    shared = api.post_json(URL, {"name": "Shared", "owner_id": None})
    assert shared.status_code == 201 and shared.json()["owner_id"] is None
    refused = api.post_json(URL, {"name": "Theirs", "owner_id": outsider.pk})
    assert refused.status_code == 400 and "owner_id" in refused.json()["fields"]
    assert not Organization.objects.filter(name="Theirs").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Acme", "domain": "ACME.example"}, "domain"),
        ({"name": "ACME gmbh"}, "name"),
    ],
)
def test_a_duplicate_domain_or_name_answers_409(rep, payload, field):
    existing = OrganizationFactory(name="Acme GmbH", domain="acme.example", owner=rep)
    response = ApiClient(rep).post_json(URL, payload)
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "conflict" and field in response.json()["fields"]
    assert f"organization #{existing.pk}" in response.json()["message"]
    assert Organization.objects.count() == 1


def test_a_duplicate_the_rep_may_not_see_is_not_revealed(rep, outsider):
    hidden = OrganizationFactory(name="Secret Corp", domain="secret.example", owner=outsider)
    response = ApiClient(rep).post_json(URL, {"name": "Other", "domain": "secret.example"})
    assert response.status_code == 409
    message = response.json()["message"]
    assert "an organization you cannot see" in message and str(hidden.pk) not in message


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "x" * 201}, 422, "name"),
        ({"name": ""}, 422, "name"),
        ({"name": "   "}, 400, "name"),
        ({"name": "Ok", "website": "not a web address"}, 422, "website"),
        ({"name": "Ok", "phone": "1" * 51}, 422, "phone"),
        ({"name": "Ok", "owner_id": 999_999}, 400, "owner_id"),
        ({"domain": "no-name.example"}, 422, "name"),
    ],
)
def test_bad_input_is_named(rep, payload, status, field):
    response = ApiClient(rep).post_json(URL, payload)
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert not Organization.objects.exists()


def test_patch_changes_only_the_fields_sent(rep):
    org = OrganizationFactory(name="Acme", domain="acme.example", industry="Food", owner=rep)
    api = ApiClient(rep)
    response = api.patch_json(f"{URL}/{org.pk}", {"industry": "Bakeries", "notes": "Big."})
    assert response.status_code == 200, response.content
    org.refresh_from_db()
    assert (org.name, org.domain, org.industry, org.notes) == (
        "Acme",
        "acme.example",
        "Bakeries",
        "Big.",
    )
    assert org.owner == rep
    cleared = api.patch_json(f"{URL}/{org.pk}", {"owner_id": None})
    assert cleared.json()["owner_id"] is None


def test_patch_refuses_another_organizations_domain_but_not_an_unchanged_one(rep):
    OrganizationFactory(name="Other", domain="other.example", owner=rep)
    org = OrganizationFactory(name="Acme", domain="acme.example", owner=rep)
    # pages allow duplicates: a third record may already share this one's name
    OrganizationFactory(name="ACME", domain="", owner=rep)
    api = ApiClient(rep)
    taken = api.patch_json(f"{URL}/{org.pk}", {"domain": "other.example"})
    assert taken.status_code == 409 and "domain" in taken.json()["fields"]
    same = api.patch_json(f"{URL}/{org.pk}", {"name": "Acme", "notes": "still fine"})
    assert same.status_code == 200, same.content


def test_delete_trashes_the_organization(rep):
    org = OrganizationFactory(owner=rep)
    api = ApiClient(rep)
    assert api.delete(f"{URL}/{org.pk}").status_code == 204
    assert Organization.with_trashed.get(pk=org.pk).deleted_by == rep
    assert api.get(f"{URL}/{org.pk}").status_code == 404
    assert ids(api.get(URL)) == []


@pytest.mark.parametrize(("who", "sees"), ROLE_SEES)
def test_visibility_by_role(request, owned, who, sees):
    api = ApiClient(request.getfixturevalue(who))
    assert set(ids(api.get(URL))) == {owned[key].pk for key in sees}
    for key, org in owned.items():
        expected = 200 if key in sees else 404
        assert api.get(f"{URL}/{org.pk}").status_code == expected
        assert api.patch_json(f"{URL}/{org.pk}", {"notes": "x"}).status_code == expected
    hidden = [org for key, org in owned.items() if key not in sees]
    for org in hidden:
        assert api.delete(f"{URL}/{org.pk}").status_code == 404
        assert Organization.objects.filter(pk=org.pk).exists()


def test_workspace_sharing_lets_a_rep_see_the_team(rep, owned):
    settings = workspace_settings()
    settings.rep_visibility = "team"
    settings.save()
    assert set(ids(ApiClient(rep).get(URL))) == {owned[k].pk for k in ("rep", "teammate", "shared")}


def test_filters_and_orderings(rep, teammate, admin):
    with time_machine.travel(dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC), tick=False):
        zeta = OrganizationFactory(name="Zeta", domain="zeta.example", owner=rep)
    with time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=dt.UTC), tick=False):
        alpha = OrganizationFactory(name="Alpha", domain="alpha.example", owner=teammate)
        mid = OrganizationFactory(name="Mid", domain="zeta-mid.example", owner=rep)
    api = ApiClient(admin)
    assert ids(api.get(URL)) == [alpha.pk, mid.pk, zeta.pk]
    assert ids(api.get(f"{URL}?ordering=-name")) == [zeta.pk, mid.pk, alpha.pk]
    assert ids(api.get(f"{URL}?ordering=created_at")) == [zeta.pk, alpha.pk, mid.pk]
    assert ids(api.get(f"{URL}?q=ZETA")) == [mid.pk, zeta.pk]
    assert ids(api.get(f"{URL}?owner_id={teammate.pk}")) == [alpha.pk]
    assert ids(api.get(f"{URL}?created_from=2026-02-01")) == [alpha.pk, mid.pk]
    assert ids(api.get(f"{URL}?created_to=2026-01-31")) == [zeta.pk]
    assert ids(api.get(f"{URL}?updated_since=2026-02-01T00:00:00Z&ordering=updated_at")) == [
        alpha.pk,
        mid.pk,
    ]
    bad = api.get(f"{URL}?ordering=domain")
    assert bad.status_code == 422 and "ordering" in bad.json()["fields"]


def test_pages_follow_the_cursor(rep):
    orgs = [OrganizationFactory(name=f"Org {i:02}", owner=rep) for i in range(5)]
    api = ApiClient(rep)
    first = api.get(f"{URL}?limit=2").json()
    rest = api.get(f"{URL}?limit=10&cursor={first['next_cursor']}").json()
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in rest["items"]]
    assert seen == [o.pk for o in orgs] and rest["next_cursor"] is None


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(rep, rows, django_assert_max_num_queries):
    workspace_settings()
    api = ApiClient(rep)
    for i in range(rows):
        OrganizationFactory(name=f"Org {i:02}", owner=rep)
    # token, its last use, the workspace setting, the page
    with django_assert_max_num_queries(7):
        response = api.get(f"{URL}?limit=50")
    assert len(response.json()["items"]) == rows
