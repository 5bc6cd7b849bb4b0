"""Webhook subscriptions over the API with a token: the owner's own, a 404 for anyone else's."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from closeloop.accounts.services import api_token_create
from closeloop.integrations.models import WebhookSubscription
from closeloop.integrations.services import webhook_ping, webhook_subscription_create

URL = "/api/v1/webhooks"


def _call(user: Any, method: str, path: str = "", payload: Any = None) -> Any:
    token = api_token_create(actor=None, user=user)[1]
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if payload is not None:
        kwargs.update(data=payload, content_type="application/json")
    return getattr(Client(), method)(URL + path, **kwargs)


def test_create_list_change_and_delete(rep):
    created = _call(
        rep, "post", payload={"url": "https://shop.example.com/in", "events": ["deal.won"]}
    )
    assert created.status_code == 201
    body = created.json()
    subscription = WebhookSubscription.objects.get()
    assert body["id"] == subscription.pk and body["secret"] == subscription.secret
    assert body["owner_email"] == "rep@example.com" and body["is_active"] is True

    listed = _call(rep, "get").json()
    assert [s["id"] for s in listed["items"]] == [subscription.pk]

    changed = _call(
        rep,
        "patch",
        f"/{subscription.pk}",
        {"events": ["deal.won", "deal.lost"], "is_active": False},
    ).json()
    assert changed["events"] == ["deal.won", "deal.lost"] and changed["is_active"] is False
    assert changed["url"] == "https://shop.example.com/in"

    rotated = _call(rep, "post", f"/{subscription.pk}/rotate-secret").json()
    assert rotated["secret"] != body["secret"]

    assert _call(rep, "delete", f"/{subscription.pk}").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_bad_input_names_the_field(rep):
    response = _call(rep, "post", payload={"url": "file:///etc/passwd", "events": ["deal.won"]})
    assert response.status_code == 400 and "url" in response.json()["fields"]
    response = _call(
        rep, "post", payload={"url": "https://x.example.com", "events": ["deal.exploded"]}
    )
    assert response.status_code == 400
    message = "Unknown event: deal.exploded."
    assert response.json() == {"code": "invalid", "message": message, "fields": {"events": message}}


def test_another_users_subscription_is_a_404(rep, outsider, admin):
    subscription = webhook_subscription_create(
        actor=rep, url="https://rita.example.com/in", events=["deal.won"]
    )
    delivery = webhook_ping(actor=rep, subscription=subscription)
    assert _call(outsider, "get").json() == {"items": [], "next_cursor": None}
    for method, path in (
        ("get", f"/{subscription.pk}"),
        ("patch", f"/{subscription.pk}"),
        ("delete", f"/{subscription.pk}"),
        ("get", f"/{subscription.pk}/deliveries"),
        ("post", f"/deliveries/{delivery.pk}/redeliver"),
    ):
        payload = {} if method == "patch" else None
        assert _call(outsider, method, path, payload).status_code == 404, path
    # an admin sees it, but the secret stays with its owner
    seen = _call(admin, "get", f"/{subscription.pk}").json()
    assert seen["url"] == "https://rita.example.com/in" and seen["secret"] is None


def test_deliveries_and_redelivery(rep):
    subscription = webhook_subscription_create(
        actor=rep, url="https://rita.example.com/in", events=["deal.won"]
    )
    pings = [webhook_ping(actor=rep, subscription=subscription) for _ in range(3)]
    token = api_token_create(actor=None, user=rep)[1]
    client = Client()
    client.get(f"{URL}/{subscription.pk}/deliveries", HTTP_AUTHORIZATION=f"Bearer {token}")
    with CaptureQueriesContext(connection) as queries:
        listed = client.get(
            f"{URL}/{subscription.pk}/deliveries", HTTP_AUTHORIZATION=f"Bearer {token}"
        ).json()["items"]
    assert len(queries) <= 5  # token, touch, subscription, deliveries with their events
    assert [d["id"] for d in listed] == [p.pk for p in reversed(pings)]
    assert listed[0]["event"] == "ping" and listed[0]["state"] == "pending"
    assert listed[0]["event_id"] == str(pings[-1].event.event_id)
    redelivered = _call(rep, "post", f"/deliveries/{pings[0].pk}/redeliver")
    assert redelivered.status_code == 202 and redelivered.json()["state"] == "pending"


@pytest.mark.parametrize("path", ["", "/events"])
def test_without_a_token_nothing_is_shown(db, path):
    assert Client().get(URL + path).status_code == 401


def test_the_event_names(rep):
    names = [e["name"] for e in _call(rep, "get", "/events").json()]
    assert "deal.stage_changed" in names and "contact.merged" in names and "ping" not in names
