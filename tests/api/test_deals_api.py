"""/api/v1/deals: list with filters and orderings, create, read, change with versions, trash,
and the board's moves (move, win, lose, reopen) through the pipeline services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from closeloop.accounts.selectors import workspace_settings
from closeloop.activities.models import Activity
from closeloop.leads.models import Campaign, Source
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal, DealFacts, StageChange
from closeloop.pipeline.services import lost_reason_update
from tests.factories import (
    ContactFactory,
    DealFactory,
    OrganizationFactory,
    default_pipeline,
    lost_reason,
    stage_named,
)

from .tokens import ROLE_SEES, ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/deals"


@pytest.fixture
def events(monkeypatch) -> list[str]:
    """The names of the deal webhook events the services emit."""
    from closeloop.pipeline.services import deals

    names: list[str] = []
    monkeypatch.setattr(deals, "deal_event_emit", lambda name, *a, **k: names.append(name))
    return names


@pytest.fixture
def owned(rep, teammate, outsider) -> dict[str, Deal]:
    """One deal per owner (deals always have an owner: "shared" is the rep's too)."""
    return {
        key: DealFactory(title=f"Deal of {key}", owner=owner)
        for key, owner in (("rep", rep), ("teammate", teammate), ("outsider", outsider))
    }


def test_create_read_and_list_a_deal(rep, events):
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(first_name="Lena", last_name="Lind", organization=organization)
    api = ApiClient(rep)
    response = api.post_json(
        URL,
        {
            "title": " New website ",
            "contact_id": contact.pk,
            "value": "12500.50",
            "currency": "eur",
            "expected_close_date": "2026-06-30",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    deal = Deal.objects.get(pk=body["id"])
    first = default_pipeline().stages.order_by("position").first()
    assert (deal.title, deal.owner, deal.stage, deal.organization) == (
        "New website",
        rep,
        first,
        organization,
    )
    assert body["stage"] == {"id": first.pk, "name": first.name}
    assert body["pipeline"]["id"] == default_pipeline().pk
    assert (body["value"], body["currency"], body["status"], body["version"]) == (
        "12500.50",
        "EUR",
        "open",
        1,
    )
    assert body["organization_name"] == "Bakery Lind" and body["contact_name"] == "Lena Lind"
    assert body["owner_email"] == rep.email
    assert StageChange.objects.filter(deal=deal, from_stage=None, to_stage=first).exists()
    assert DealFacts.objects.filter(deal=deal).exists()
    assert events == ["deal.created"]
    assert api.get(f"{URL}/{deal.pk}").json() == body
    assert ids(api.get(URL)) == [deal.pk]


def test_create_in_a_stage_with_attribution(rep):
    source = Source.objects.filter(is_active=True).first()
    campaign = Campaign.objects.create(name="Spring")
    stage = stage_named("Negotiation / commitment")
    response = ApiClient(rep).post_json(
        URL,
        {"title": "Big one", "stage_id": stage.pk, "source_id": source.pk,
         "campaign_id": campaign.pk},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stage"]["id"], body["source_id"], body["campaign_id"]) == (
        stage.pk,
        source.pk,
        campaign.pk,
    )
    assert Decimal(body["weighted_value"]) == Decimal("0.00")


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"title": ""}, 422, "title"),
        ({"title": "   "}, 400, "title"),
        ({"title": "x" * 201}, 422, "title"),
        ({"title": "Ok", "value": "-1"}, 422, "value"),
        ({"title": "Ok", "value": "1e20"}, 422, "value"),
        ({"title": "Ok", "value": "NaN"}, 422, "value"),
        ({"title": "Ok", "currency": "XXX"}, 400, "currency"),
        ({"title": "Ok", "stage_id": 999_999}, 400, "stage_id"),
        ({"title": "Ok", "pipeline_id": 999_999}, 400, "pipeline_id"),
        ({"title": "Ok", "owner_id": 999_999}, 400, "owner_id"),
        ({"title": "Ok", "organization_id": 999_999}, 400, "organization_id"),
        ({"title": "Ok", "contact_id": 2**63}, 422, "contact_id"),
        ({"title": "Nul\x00"}, 422, "title"),
        ({"value": "10"}, 422, "title"),
    ],
)
def test_bad_input_is_named(rep, payload, status, field):
    response = ApiClient(rep).post_json(URL, payload)
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert not Deal.objects.exists()


def test_a_stage_of_another_pipeline_is_refused(admin):
    api = ApiClient(admin)
    other = api.post_json("/api/v1/pipelines", {"name": "Partners"}).json()
    response = api.post_json(
        URL,
        {"title": "Mixed", "pipeline_id": default_pipeline().pk,
         "stage_id": other["stages"][0]["id"]},
    )  # fmt: skip
    assert response.status_code == 400 and "stage_id" in response.json()["fields"]


def test_a_rep_may_not_link_records_or_owners_they_cannot_see(rep, outsider):
    hidden = OrganizationFactory(owner=outsider)
    api = ApiClient(rep)
    refused = api.post_json(URL, {"title": "X", "organization_id": hidden.pk})
    assert refused.status_code == 400 and "organization_id" in refused.json()["fields"]
    theirs = api.post_json(URL, {"title": "X", "owner_id": outsider.pk})
    assert theirs.status_code == 400 and "owner_id" in theirs.json()["fields"]


def test_patch_changes_the_fields_sent_and_refuses_a_stale_version(rep):
    deal = DealFactory(owner=rep, title="Website", value=Decimal("1000.00"))
    api = ApiClient(rep)
    url = f"{URL}/{deal.pk}"
    response = api.patch_json(
        url, {"expected_version": 1, "value": "2000", "expected_close_date": "2026-07-01"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["value"], body["expected_close_date"], body["version"]) == (
        "Website",
        "2000.00",
        "2026-07-01",
        2,
    )
    change = Activity.objects.get(deal=deal, subject="Deal updated")
    assert "1000.00 → 2000.00" in change.body
    stale = api.patch_json(url, {"expected_version": 1, "title": "Overwritten"})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    deal.refresh_from_db()
    assert deal.title == "Website" and deal.version == 2
    cleared = api.patch_json(url, {"organization_id": None, "expected_close_date": None})
    assert cleared.json()["organization_id"] is None
    assert cleared.json()["expected_close_date"] is None


def test_delete_trashes_the_deal(rep):
    deal = DealFactory(owner=rep)
    api = ApiClient(rep)
    assert api.delete(f"{URL}/{deal.pk}").status_code == 204
    assert Deal.with_trashed.get(pk=deal.pk).deleted_by == rep
    assert api.get(f"{URL}/{deal.pk}").status_code == 404
    assert ids(api.get(URL)) == []


def test_move_win_lose_and_reopen(rep, events):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"))
    target = stage_named("Negotiation / commitment")
    api = ApiClient(rep)
    url = f"{URL}/{deal.pk}"
    moved = api.post_json(f"{url}/move", {"stage_id": target.pk, "expected_version": 1})
    assert moved.status_code == 200, moved.content
    assert moved.json()["stage"]["id"] == target.pk and moved.json()["version"] == 2
    assert StageChange.objects.filter(deal=deal, to_stage=target).exists()
    assert events == ["deal.stage_changed"]
    again = api.post_json(f"{url}/move", {"stage_id": target.pk})
    assert again.status_code == 400 and "stage_id" in again.json()["fields"]
    stale = api.post_json(f"{url}/move", {"stage_id": target.pk, "expected_version": 1})
    assert stale.status_code == 409

    won = api.post(f"{url}/win", content_type="application/json")
    assert won.status_code == 200, won.content
    assert won.json()["status"] == "won" and won.json()["won_at"]
    assert won.json()["stage"]["id"] == target.pk
    closed = api.post_json(f"{url}/move", {"stage_id": stage_named("Proposal").pk})
    assert closed.status_code == 400 and "reopen" in closed.json()["message"]
    reopened = api.post_json(f"{url}/reopen", {"expected_version": won.json()["version"]})
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"

    reason = lost_reason("Price")
    lost = api.post_json(
        f"{url}/lose", {"reason_id": reason.pk, "competitor": "Rival", "note": "Too dear."}
    )
    assert lost.status_code == 200, lost.content
    body = lost.json()
    assert body["status"] == "lost" and body["lost_reason"] == {"id": reason.pk, "name": "Price"}
    assert (body["competitor"], body["lost_note"]) == ("Rival", "Too dear.")
    assert body["stage"]["id"] == target.pk
    assert events == ["deal.stage_changed", "deal.won", "deal.reopened", "deal.lost"]
    statuses = list(
        StageChange.objects.filter(deal=deal).order_by("pk").values_list("to_status", flat=True)
    )
    assert statuses == ["open", "open", "won", "open", "lost"]


def test_losing_needs_an_active_reason(rep, admin):
    deal = DealFactory(owner=rep)
    api = ApiClient(rep)
    missing = api.post_json(f"{URL}/{deal.pk}/lose", {"note": "no reason"})
    assert missing.status_code == 422 and "reason_id" in missing.json()["fields"]
    unknown = api.post_json(f"{URL}/{deal.pk}/lose", {"reason_id": 999_999})
    assert unknown.status_code == 400 and "reason_id" in unknown.json()["fields"]
    retired = lost_reason("Timing")
    lost_reason_update(actor=admin, reason=retired, name=retired.name, is_active=False)
    refused = api.post_json(f"{URL}/{deal.pk}/lose", {"reason_id": retired.pk})
    assert refused.status_code == 400 and "reason_id" in refused.json()["fields"]
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN


@pytest.mark.parametrize(("who", "sees"), ROLE_SEES)
def test_visibility_by_role(request, owned, who, sees):
    api = ApiClient(request.getfixturevalue(who))
    visible = {key for key in owned if key in sees}
    assert set(ids(api.get(URL))) == {owned[key].pk for key in visible}
    for key, deal in owned.items():
        expected = 200 if key in visible else 404
        assert api.get(f"{URL}/{deal.pk}").status_code == expected
        assert api.patch_json(f"{URL}/{deal.pk}", {"title": "x"}).status_code == expected
        assert api.post_json(f"{URL}/{deal.pk}/win", {}).status_code == expected
    for key, deal in owned.items():
        if key not in visible:
            assert api.delete(f"{URL}/{deal.pk}").status_code == 404
            assert Deal.objects.get(pk=deal.pk).status == DealStatus.OPEN


def test_workspace_sharing_lets_a_rep_see_the_team(rep, owned):
    settings = workspace_settings()
    settings.rep_visibility = "team"
    settings.save()
    assert set(ids(ApiClient(rep).get(URL))) == {owned["rep"].pk, owned["teammate"].pk}


def test_filters_and_orderings(admin, rep, teammate):
    org = OrganizationFactory(name="Bakery Lind")
    contact = ContactFactory(organization=org)
    campaign = Campaign.objects.create(name="Spring")
    source = Source.objects.filter(is_active=True).first()
    with time_machine.travel(dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC), tick=False):
        old = DealFactory(
            title="Zeta roof", owner=rep, value=Decimal("500"), stage=stage_named("Proposal"),
            expected_close_date=dt.date(2026, 2, 1), campaign=campaign,
        )  # fmt: skip
    with time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=dt.UTC), tick=False):
        big = DealFactory(
            title="Alpha hall", owner=teammate, value=Decimal("9000"), organization=org,
            contact=contact, stage=stage_named("Negotiation / commitment"), source=source,
            expected_close_date=dt.date(2026, 5, 1),
        )  # fmt: skip
        lost = DealFactory(title="Mid shed", owner=rep, value=Decimal("2000"))
    lost.status = DealStatus.LOST
    lost.save()
    api = ApiClient(admin)
    assert ids(api.get(URL)) == [lost.pk, big.pk, old.pk]
    cases = {
        "ordering=value": [old.pk, lost.pk, big.pk],
        "ordering=-value": [big.pk, lost.pk, old.pk],
        "ordering=title": [big.pk, lost.pk, old.pk],
        "ordering=created_at": [old.pk, big.pk, lost.pk],
        f"pipeline_id={default_pipeline().pk}&status=open": [big.pk, old.pk],
        f"stage_id={stage_named('Proposal').pk}&ordering=created_at": [old.pk, lost.pk],
        f"owner_id={teammate.pk}": [big.pk],
        "status=lost": [lost.pk],
        f"source_id={source.pk}": [big.pk],
        f"campaign_id={campaign.pk}": [old.pk],
        f"organization_id={org.pk}": [big.pk],
        f"contact_id={contact.pk}": [big.pk],
        "q=bakery": [big.pk],
        "q=ZETA": [old.pk],
        "value_min=1000&value_max=5000": [lost.pk],
        "expected_close_from=2026-03-01": [big.pk],
        "expected_close_to=2026-03-01": [old.pk],
        "created_from=2026-02-01": [lost.pk, big.pk],
        "created_to=2026-01-31": [old.pk],
    }
    for query, expected in cases.items():
        assert ids(api.get(f"{URL}?{query}")) == expected, query
    for query, field in [
        ("ordering=owner", "ordering"),
        ("status=closed", "status"),
        ("value_min=-5", "value_min"),
        ("stage_id=0", "stage_id"),
    ]:
        bad = api.get(f"{URL}?{query}")
        assert bad.status_code == 422 and field in bad.json()["fields"], query


def test_pages_follow_the_cursor(rep):
    deals = [DealFactory(owner=rep) for _ in range(5)]
    api = ApiClient(rep)
    first = api.get(f"{URL}?limit=2&ordering=value").json()
    rest = api.get(f"{URL}?limit=10&ordering=value&cursor={first['next_cursor']}").json()
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in rest["items"]]
    assert seen == [d.pk for d in deals] and rest["next_cursor"] is None


def test_a_read_only_token_may_not_write(rep):
    from django.test import Client

    from closeloop.accounts.choices import TokenScope
    from closeloop.accounts.services import api_token_create

    deal = DealFactory(owner=rep)
    token = api_token_create(actor=None, user=rep, scope=TokenScope.READ)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.post(f"{URL}/{deal.pk}/win", content_type="application/json").status_code == 403
    assert client.get(f"{URL}/{deal.pk}").status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(rep, rows, django_assert_max_num_queries):
    workspace_settings()
    api = ApiClient(rep)
    for _ in range(rows):
        DealFactory(
            owner=rep,
            organization=OrganizationFactory(owner=rep),
            contact=ContactFactory(owner=rep),
        )
    # token, its last use, the rate limit (2), the workspace setting, the page, its owners and
    # its stages
    with django_assert_max_num_queries(9):
        response = api.get(f"{URL}?limit=50")
    assert len(response.json()["items"]) == rows


def test_the_default_order_reads_the_index(admin):
    """The newest live deals come from the keyset index, not a sort of every deal."""
    from django.db import connection

    from closeloop.pipeline.selectors import DealFilters, deal_search

    qs = deal_search(user=admin, filters=DealFilters()).order_by("-created_at", "-pk")[:51]
    plan = qs.explain()
    if connection.vendor == "sqlite":  # PostgreSQL decides by its statistics
        assert "deal_live_created" in plan and "TEMP B-TREE" not in plan, plan


def test_each_list_item_is_what_reading_the_deal_answers(rep):
    """The list writes its rows without django-ninja's validation (for speed): each item must
    still be exactly the validated single read, whatever the deal links to or lacks."""
    organization = OrganizationFactory(name="Bakery Lind", owner=rep)
    contact = ContactFactory(first_name="Lena", last_name="Lind", owner=rep)
    nameless = ContactFactory(first_name="", last_name="", owner=rep)
    DealFactory(owner=rep, title="Bare", value=Decimal("0"))
    DealFactory(owner=rep, title="Linked", organization=organization, contact=contact,
                value=Decimal("1234.50"), expected_close_date=dt.date(2031, 2, 3))  # fmt: skip
    DealFactory(owner=rep, title="Nameless contact", contact=nameless, value=Decimal("99.99"))
    lost = DealFactory(owner=rep, title="Lost", stage=stage_named("Proposal"))
    api = ApiClient(rep)
    losing = {"reason_id": lost_reason("Price").pk, "competitor": "Rival"}
    assert api.post_json(f"{URL}/{lost.pk}/lose", losing).status_code == 200
    listed = api.get(URL).json()["items"]
    assert len(listed) == 4
    for item in listed:
        assert item == api.get(f"{URL}/{item['id']}").json()
