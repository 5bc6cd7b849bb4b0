"""/api/v1/campaigns and /api/v1/sources: shared lists, changed by admins and managers."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from closeloop.accounts.selectors import workspace_settings
from closeloop.leads.models import Campaign, Source
from closeloop.leads.services import LeadInput, lead_create

from .tokens import ApiClient, ids

pytestmark = pytest.mark.django_db
CAMPAIGNS = "/api/v1/campaigns"
SOURCES = "/api/v1/sources"


def test_a_manager_creates_and_changes_a_campaign(manager, settings):
    api = ApiClient(manager)
    response = api.post_json(
        CAMPAIGNS,
        {
            "name": "Spring fair",
            "channel": "event",
            "starts_on": "2026-03-01",
            "ends_on": "2026-03-31",
            "cost": "1500.50",
            "utm_campaign": "spring",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    campaign = Campaign.objects.get(pk=body["id"])
    assert (campaign.channel, str(campaign.cost), campaign.currency) == (
        "event",
        "1500.50",
        settings.BASE_CURRENCY,
    )
    assert body["lead_count"] == 0 and body["starts_on"] == "2026-03-01"
    changed = api.patch_json(f"{CAMPAIGNS}/{campaign.pk}", {"cost": None, "notes": "Booth 12"})
    assert changed.status_code == 200, changed.content
    campaign.refresh_from_db()
    assert (campaign.cost, campaign.notes, campaign.name) == (None, "Booth 12", "Spring fair")
    assert (campaign.starts_on, campaign.channel) == (dt.date(2026, 3, 1), "event")


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "X", "ends_on": "2026-01-01", "starts_on": "2026-02-01"}, 400, "ends_on"),
        ({"name": "X", "cost": "-1"}, 422, "cost"),
        ({"name": "X", "cost": "1000000000"}, 422, "cost"),
        ({"name": "X", "cost": "1.234"}, 422, "cost"),
        ({"name": "X", "currency": "XYZ"}, 422, "currency"),
        ({"name": "X", "channel": "radio"}, 422, "channel"),
        ({"name": "X", "starts_on": "soon"}, 422, "starts_on"),
        ({"name": "x" * 201}, 422, "name"),
    ],
)
def test_bad_campaign_input_is_named(admin, payload, status, field):
    response = ApiClient(admin).post_json(CAMPAIGNS, payload)
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert not Campaign.objects.exists()


def test_a_campaign_name_taken_answers_409(admin):
    Campaign.objects.create(name="Spring fair")
    other = Campaign.objects.create(name="Autumn")
    api = ApiClient(admin)
    assert api.post_json(CAMPAIGNS, {"name": "SPRING FAIR"}).status_code == 409
    renamed = api.patch_json(f"{CAMPAIGNS}/{other.pk}", {"name": "spring fair"})
    assert renamed.status_code == 409 and "name" in renamed.json()["fields"]


def test_a_rep_reads_campaigns_with_their_own_lead_counts_but_may_not_change_them(rep, outsider):
    campaign = Campaign.objects.create(name="Spring fair")
    lead_create(actor=rep, data=LeadInput(last_name="Mine", owner=rep, campaign=campaign))
    lead_create(actor=outsider, data=LeadInput(last_name="Theirs", owner=outsider,
                                               campaign=campaign))  # fmt: skip
    api = ApiClient(rep)
    assert api.get(f"{CAMPAIGNS}/{campaign.pk}").json()["lead_count"] == 1
    assert ApiClient(outsider).get(CAMPAIGNS).json()["items"][0]["lead_count"] == 1
    refused = api.post_json(CAMPAIGNS, {"name": "Mine"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert api.patch_json(f"{CAMPAIGNS}/{campaign.pk}", {"name": "Mine"}).status_code == 403
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Spring fair"]
    assert api.get(f"{CAMPAIGNS}/999999").status_code == 404


def test_campaign_filters_and_orderings(rep):
    with time_machine.travel(dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC), tick=False):
        zeta = Campaign.objects.create(name="Zeta newsletter", channel="email")
    with time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=dt.UTC), tick=False):
        alpha = Campaign.objects.create(name="Alpha ads", channel="ads")
    api = ApiClient(rep)
    assert ids(api.get(CAMPAIGNS)) == [alpha.pk, zeta.pk]
    assert ids(api.get(f"{CAMPAIGNS}?ordering=created_at")) == [zeta.pk, alpha.pk]
    assert ids(api.get(f"{CAMPAIGNS}?q=NEWS")) == [zeta.pk]
    assert ids(api.get(f"{CAMPAIGNS}?channel=ads")) == [alpha.pk]
    assert ids(api.get(f"{CAMPAIGNS}?updated_since=2026-02-01T00:00:00Z")) == [alpha.pk]


def test_sources_follow_the_same_rules(rep, manager):
    api = ApiClient(manager)
    created = api.post_json(SOURCES, {"name": "Podcast"})
    assert created.status_code == 201, created.content
    source = Source.objects.get(pk=created.json()["id"])
    assert created.json()["position"] == Source.objects.order_by("-position").first().position
    assert api.post_json(SOURCES, {"name": "podcast"}).status_code == 409
    retired = api.patch_json(f"{SOURCES}/{source.pk}", {"is_active": False})
    assert retired.json()["is_active"] is False and retired.json()["name"] == "Podcast"
    renamed = api.patch_json(f"{SOURCES}/{source.pk}", {"name": "Podcasts"})
    assert renamed.json()["name"] == "Podcasts" and renamed.json()["is_active"] is False
    reps = ApiClient(rep)
    assert ids(reps.get(f"{SOURCES}?is_active=false")) == [source.pk]
    assert source.pk in ids(reps.get(SOURCES))
    assert reps.post_json(SOURCES, {"name": "Radio"}).status_code == 403
    assert reps.patch_json(f"{SOURCES}/{source.pk}", {"name": "Radio"}).status_code == 403
    assert not Source.objects.filter(name="Radio").exists()


def test_source_lead_counts_follow_visibility(rep, outsider):
    source = Source.objects.create(name="Podcast", position=99)
    for owner in (rep, rep, outsider):
        lead_create(actor=owner, data=LeadInput(last_name="L", owner=owner, source=source))
    assert ApiClient(rep).get(f"{SOURCES}/{source.pk}").json()["lead_count"] == 2


@pytest.mark.parametrize("url", [CAMPAIGNS, SOURCES])
def test_list_query_count_is_fixed(rep, url, django_assert_max_num_queries):
    workspace_settings()  # made on first use in a new install; not counted
    api = ApiClient(rep)
    for i in range(25):
        Campaign.objects.create(name=f"Campaign {i}")
        Source.objects.create(name=f"Source {i}", position=100 + i)
    # token, its last use, the workspace setting (visible lead counts), the page
    with django_assert_max_num_queries(6):
        response = api.get(f"{url}?limit=100")
    assert len(response.json()["items"]) >= 25
