"""/api/v1/pipelines and their stages: read by every token, changed by admins and managers."""

from __future__ import annotations

import pytest
from django.test import Client

from closeloop.accounts.choices import TokenScope
from closeloop.accounts.services import api_token_create
from closeloop.pipeline.models import Pipeline, Stage, StageChange
from tests.factories import DealFactory, default_pipeline, stage_named

from .tokens import ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/pipelines"


def _stage_names(body: dict) -> list[str]:
    return [s["name"] for s in body["stages"]]


def test_every_token_reads_the_pipelines_with_their_ordered_stages(rep):
    pipeline = default_pipeline()
    api = ApiClient(rep)
    listed = api.get(URL)
    assert ids(listed) == [pipeline.pk]
    body = listed.json()["items"][0]
    assert body["is_default"] is True and body["name"] == pipeline.name
    assert _stage_names(body) == ["Demo / meeting", "Proposal", "Negotiation / commitment"]
    proposal = body["stages"][1]
    assert proposal == {
        **proposal,
        "pipeline_id": pipeline.pk,
        "probability": 50,
        "rot_days": 21,
        "is_optional": False,
    }
    assert body["proposal_stage_id"] == stage_named("Proposal").pk
    assert api.get(f"{URL}/{pipeline.pk}").json() == body
    assert api.get(f"{URL}/{pipeline.pk}/stages").json() == body["stages"]
    assert api.get(f"{URL}/{pipeline.pk}/stages/{proposal['id']}").json() == proposal
    assert api.get(f"{URL}/999999").status_code == 404


@pytest.mark.parametrize("who", ["rep", "teammate"])
def test_reps_may_not_change_pipelines_or_stages(request, who):
    api = ApiClient(request.getfixturevalue(who))
    pipeline = default_pipeline()
    stage = stage_named("Proposal")
    calls = [
        api.post_json(URL, {"name": "Partners"}),
        api.patch_json(f"{URL}/{pipeline.pk}", {"name": "Renamed"}),
        api.post_json(f"{URL}/{pipeline.pk}/stages", {"name": "Pilot"}),
        api.patch_json(f"{URL}/{pipeline.pk}/stages/{stage.pk}", {"probability": 1}),
        api.delete(f"{URL}/{pipeline.pk}/stages/{stage.pk}"),
    ]
    for response in calls:
        assert response.status_code == 403, response.content
        assert "admins and managers" in response.json()["message"]
    assert Pipeline.objects.count() == 1 and stage_named("Proposal").probability == 50


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_admins_and_managers_add_a_pipeline_and_its_stages(request, who):
    api = ApiClient(request.getfixturevalue(who))
    created = api.post_json(URL, {"name": " Partners "})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Partners" and body["is_default"] is False
    assert _stage_names(body) == ["Demo / meeting", "Proposal", "Negotiation / commitment"]
    bare = api.post_json(URL, {"name": "Renewals", "with_default_stages": False}).json()
    assert bare["stages"] == []
    stage = api.post_json(
        f"{URL}/{bare['id']}/stages",
        {"name": "Contacted", "probability": 30, "rot_days": 7, "is_optional": True},
    )
    assert stage.status_code == 201, stage.content
    assert stage.json() | {"name": "Contacted", "probability": 30, "rot_days": 7} == stage.json()
    first = api.post_json(f"{URL}/{bare['id']}/stages", {"name": "Lead in", "position": 0})
    assert first.status_code == 201, first.content
    assert _stage_names(api.get(f"{URL}/{bare['id']}").json()) == ["Lead in", "Contacted"]


def test_a_taken_name_answers_409_and_a_blank_one_is_named(admin):
    api = ApiClient(admin)
    pipeline = default_pipeline()
    taken = api.post_json(URL, {"name": pipeline.name.upper()})
    assert taken.status_code == 409 and "name" in taken.json()["fields"]
    blank = api.post_json(URL, {"name": "   "})
    assert blank.status_code == 400 and "name" in blank.json()["fields"]
    stage_taken = api.post_json(f"{URL}/{pipeline.pk}/stages", {"name": "proposal"})
    assert stage_taken.status_code == 409 and "name" in stage_taken.json()["fields"]
    rename = api.patch_json(
        f"{URL}/{pipeline.pk}/stages/{stage_named('Proposal').pk}", {"name": "Negotiation / "
        "commitment"},
    )  # fmt: skip
    assert rename.status_code == 409
    for payload, field in [
        ({"name": "x" * 121}, "name"),
        ({"name": "Ok", "probability": 101}, "probability"),
        ({"name": "Ok", "rot_days": 0}, "rot_days"),
        ({"name": "Nul\x00"}, "name"),
    ]:
        bad = api.post_json(f"{URL}/{pipeline.pk}/stages", payload)
        assert bad.status_code == 422 and field in bad.json()["fields"], bad.content


def test_patch_renames_makes_default_and_sets_the_automation(admin):
    api = ApiClient(admin)
    old = default_pipeline()
    old_stage = stage_named("Proposal")
    new = api.post_json(URL, {"name": "Partners"}).json()
    demo, _proposal, negotiation = new["stages"]
    response = api.patch_json(
        f"{URL}/{new['id']}",
        {
            "name": "Partner deals",
            "is_default": True,
            "win_on_acceptance": True,
            "proposal_stage_id": demo["id"],
            "negotiation_stage_id": None,
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["is_default"], body["win_on_acceptance"]) == (
        "Partner deals",
        True,
        True,
    )
    assert (body["proposal_stage_id"], body["negotiation_stage_id"]) == (demo["id"], None)
    old.refresh_from_db()
    assert old.is_default is False
    # the default cannot be switched off directly, and another pipeline's stage is refused;
    # a refusal changes nothing at all
    refused = api.patch_json(f"{URL}/{new['id']}", {"is_default": False, "name": "Changed"})
    assert refused.status_code == 400 and "is_default" in refused.json()["fields"]
    foreign = api.patch_json(
        f"{URL}/{new['id']}", {"name": "Changed", "negotiation_stage_id": old_stage.pk}
    )
    assert foreign.status_code == 400 and "negotiation_stage_id" in foreign.json()["fields"]
    backwards = api.patch_json(
        f"{URL}/{new['id']}",
        {"proposal_stage_id": negotiation["id"], "negotiation_stage_id": demo["id"]},
    )
    assert backwards.status_code == 400 and "negotiation_stage_id" in backwards.json()["fields"]
    assert Pipeline.objects.get(pk=new["id"]).name == "Partner deals"


def test_patch_a_stage_changes_the_fields_sent_and_moves_it(manager):
    api = ApiClient(manager)
    pipeline = default_pipeline()
    stage = stage_named("Negotiation / commitment")
    url = f"{URL}/{pipeline.pk}/stages/{stage.pk}"
    response = api.patch_json(url, {"probability": 90, "rot_days": None, "position": 0})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["probability"], body["rot_days"], body["position"]) == (
        "Negotiation / commitment",
        90,
        None,
        0,
    )
    names = _stage_names(api.get(f"{URL}/{pipeline.pk}").json())
    assert names == ["Negotiation / commitment", "Demo / meeting", "Proposal"]
    assert api.patch_json(url, {"position": 99}).json()["position"] == 2
    other = api.post_json(URL, {"name": "Partners"}).json()
    wrong_pipeline = api.patch_json(f"{URL}/{other['id']}/stages/{stage.pk}", {"name": "X"})
    assert wrong_pipeline.status_code == 404


def test_a_stage_with_deals_is_deleted_only_by_moving_them(admin, rep):
    api = ApiClient(admin)
    pipeline = default_pipeline()
    stage, target = stage_named("Proposal"), stage_named("Negotiation / commitment")
    deals = [DealFactory(owner=rep, stage=stage) for _ in range(2)]
    url = f"{URL}/{pipeline.pk}/stages/{stage.pk}"
    refused = api.delete(url)
    assert refused.status_code == 400 and "move_to_id" in refused.json()["fields"]
    assert "2 deal(s)" in refused.json()["message"]
    itself = api.delete(f"{url}?move_to_id={stage.pk}")
    assert itself.status_code == 400 and "move_to_id" in itself.json()["fields"]
    done = api.delete(f"{url}?move_to_id={target.pk}")
    assert done.status_code == 200 and done.json() == {"moved_deals": 2}
    assert not Stage.objects.filter(pk=stage.pk).exists()
    for deal in deals:
        deal.refresh_from_db()
        assert deal.stage == target
        assert StageChange.objects.filter(deal=deal, to_stage=target).exists()
    empty = stage_named("Demo / meeting")
    assert api.delete(f"{URL}/{pipeline.pk}/stages/{empty.pk}").json() == {"moved_deals": 0}
    last = api.delete(f"{URL}/{pipeline.pk}/stages/{target.pk}")
    assert last.status_code == 400 and "at least one stage" in last.json()["message"]


def test_a_read_only_token_may_not_write(admin):
    token = api_token_create(actor=None, user=admin, scope=TokenScope.READ)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.post(URL, {"name": "Partners"}, content_type="application/json")
    assert response.status_code == 403
    assert client.get(URL).status_code == 200


def test_list_query_count_does_not_grow_with_pipelines(admin, django_assert_max_num_queries):
    api = ApiClient(admin)
    for i in range(5):
        api.post_json(URL, {"name": f"Pipeline {i}"})
    # token, its last use, the rate limit (2), the page, the stages
    with django_assert_max_num_queries(7):
        response = api.get(f"{URL}?limit=50")
    assert len(response.json()["items"]) == 6
