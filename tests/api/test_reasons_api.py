"""/api/v1/lost-reasons and /api/v1/discard-reasons: everyone reads, the settings pages' roles
change them, a retired reason is kept on what names it."""

from __future__ import annotations

import pytest

from closeloop.leads.models import DisqualifyReason
from closeloop.pipeline.models import LostReason
from closeloop.pipeline.selectors import lost_reason_choices
from tests.factories import DealFactory

from .tokens import ApiClient, ids

pytestmark = pytest.mark.django_db

LISTS = [("/api/v1/lost-reasons", LostReason), ("/api/v1/discard-reasons", DisqualifyReason)]
# who may change each list: the pages' rules
WRITERS = {
    "/api/v1/lost-reasons": {"admin", "manager"},
    "/api/v1/discard-reasons": {"admin"},
}


@pytest.mark.parametrize(("url", "model"), LISTS)
def test_every_token_reads_the_list_in_its_order(rep, url, model):
    retired = model.objects.order_by("position").first()
    model.objects.filter(pk=retired.pk).update(is_active=False)
    api = ApiClient(rep)
    expected = list(model.objects.order_by("position", "pk").values_list("pk", flat=True))
    assert ids(api.get(url)) == expected
    assert retired.pk not in ids(api.get(f"{url}?is_active=true"))
    assert ids(api.get(f"{url}?is_active=false")) == [retired.pk]
    item = api.get(f"{url}/{retired.pk}").json()
    assert item["name"] == retired.name and item["is_active"] is False
    assert set(item) == {"id", "name", "position", "is_active", "created_at", "updated_at"}
    assert api.get(f"{url}/999999").status_code == 404


@pytest.mark.parametrize(("url", "model"), LISTS)
@pytest.mark.parametrize("who", ["admin", "manager", "rep"])
def test_create_rename_and_retire_follow_the_pages_roles(request, url, model, who):
    api = ApiClient(request.getfixturevalue(who))
    allowed = who in WRITERS[url]
    created = api.post_json(url, {"name": "  Went quiet "})
    if not allowed:
        assert created.status_code == 403 and created.json()["code"] == "forbidden"
        existing = model.objects.first()
        assert api.patch_json(f"{url}/{existing.pk}", {"name": "X"}).status_code == 403
        assert api.post(f"{url}/{existing.pk}/deactivate").status_code == 403
        assert not model.objects.filter(name__in=["Went quiet", "X"]).exists()
        assert model.objects.get(pk=existing.pk).is_active
        return
    assert created.status_code == 201, created.content
    body = created.json()
    last = model.objects.exclude(pk=body["id"]).order_by("-position").first()
    assert body["name"] == "Went quiet" and body["is_active"] and body["position"] > last.position
    renamed = api.patch_json(f"{url}/{body['id']}", {"name": "Went silent"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Went silent"
    retired = api.post(f"{url}/{body['id']}/deactivate")
    assert retired.status_code == 200 and retired.json()["is_active"] is False
    assert retired.json()["name"] == "Went silent"
    again = api.patch_json(f"{url}/{body['id']}", {"is_active": True})
    assert again.json()["is_active"] is True and model.objects.get(pk=body["id"]).is_active


@pytest.mark.parametrize(("url", "model"), LISTS)
def test_a_name_already_in_the_list_answers_409_and_bad_names_are_named(admin, url, model):
    api = ApiClient(admin)
    existing = model.objects.order_by("position").first()
    taken = api.post_json(url, {"name": existing.name.upper()})
    assert taken.status_code == 409 and "name" in taken.json()["fields"]
    other = model.objects.exclude(pk=existing.pk).first()
    renamed = api.patch_json(f"{url}/{other.pk}", {"name": existing.name})
    assert renamed.status_code == 409
    for payload in ({"name": ""}, {"name": "x" * 121}, {}):
        response = api.post_json(url, payload)
        assert response.status_code == 422 and "name" in response.json()["fields"]
    blank = api.post_json(url, {"name": "   "})
    assert blank.status_code == 400 and "name" in blank.json()["fields"]


def test_a_retired_lost_reason_is_no_longer_offered_but_deals_keep_it(admin, rep):
    reason = LostReason.objects.get(name="Price")
    deal = DealFactory(owner=rep, lost_reason=reason, status="lost")
    ApiClient(admin).post(f"/api/v1/lost-reasons/{reason.pk}/deactivate")
    assert reason not in lost_reason_choices()
    deal.refresh_from_db()
    assert deal.lost_reason == reason


@pytest.mark.parametrize(("url", "model"), LISTS)
def test_list_query_count_is_fixed(rep, url, model, django_assert_max_num_queries):
    api = ApiClient(rep)
    for i in range(20):
        model.objects.create(name=f"Reason {i}", position=100 + i)
    with django_assert_max_num_queries(5):
        response = api.get(f"{url}?limit=100")
    assert len(response.json()["items"]) == model.objects.count()
