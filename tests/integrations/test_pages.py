"""The webhook pages through the HTTP client: owners manage their own subscriptions, admins
everyone's, others get a 404; forms refuse bad input by field; CSRF and escaping hold."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from closeloop.integrations.models import WebhookDelivery, WebhookSubscription
from closeloop.integrations.services import webhook_ping, webhook_subscription_create
from closeloop.pipeline.services import deal_create
from tests.worker import run_worker


def _subscribe(user, url="https://hooks.example.com/in", events=("deal.won",)):
    return webhook_subscription_create(actor=user, url=url, events=list(events))


def test_a_rep_subscribes_through_the_form_and_sees_the_secret(rep, rep_client):
    page = rep_client.get(reverse("settings:webhooks:create"))
    assert page.status_code == 200 and b"deal.stage_changed" in page.content
    response = rep_client.post(
        reverse("settings:webhooks:create"),
        {
            "url": "https://shop.example.com/crm-hooks",
            "description": "Shop",
            "events": ["deal.won", "lead.created"],
            "is_active": "on",
        },
    )
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:webhooks:detail", args=[subscription.pk])
    assert subscription.owner == rep and subscription.events == ["lead.created", "deal.won"]
    detail = rep_client.get(response["Location"])
    assert subscription.secret in detail.content.decode()
    assert b"Rotate secret" in detail.content


def test_the_form_refuses_other_schemes_and_no_events_by_field(rep_client):
    response = rep_client.post(
        reverse("settings:webhooks:create"),
        {"url": "ftp://files.example.com/in", "events": ["deal.won"]},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "not an http:// or https:// address" in errors["url"][0]
    response = rep_client.post(
        reverse("settings:webhooks:create"), {"url": "https://ok.example.com/", "events": []}
    )
    assert "events" in response.context["form"].errors
    assert not WebhookSubscription.objects.exists()


def test_others_get_a_404_and_admins_see_without_the_secret(
    rep, outsider_client, admin_client_, rep_client
):
    subscription = _subscribe(rep)
    delivery = webhook_ping(actor=rep, subscription=subscription)
    urls = [
        ("get", reverse("settings:webhooks:detail", args=[subscription.pk])),
        ("get", reverse("settings:webhooks:edit", args=[subscription.pk])),
        ("post", reverse("settings:webhooks:rotate_secret", args=[subscription.pk])),
        ("post", reverse("settings:webhooks:ping", args=[subscription.pk])),
        ("post", reverse("settings:webhooks:delete", args=[subscription.pk])),
        ("get", reverse("settings:webhooks:delivery", args=[delivery.pk])),
        ("post", reverse("settings:webhooks:redeliver", args=[delivery.pk])),
    ]
    for method, url in urls:
        assert getattr(outsider_client, method)(url).status_code == 404, url
    assert (
        subscription.url.encode()
        not in outsider_client.get(reverse("settings:webhooks:list")).content
    )
    listing = admin_client_.get(reverse("settings:webhooks:list"))
    assert subscription.url.encode() in listing.content and b"Rita Rep" in listing.content
    detail = admin_client_.get(reverse("settings:webhooks:detail", args=[subscription.pk]))
    assert subscription.secret.encode() not in detail.content
    assert b"Only the owner sees the secret" in detail.content
    subscription.refresh_from_db()
    assert subscription.secret in rep_client.get(urls[0][1]).content.decode()


def test_edit_rotate_and_delete(rep, rep_client):
    subscription = _subscribe(rep)
    old_secret = subscription.secret
    response = rep_client.post(
        reverse("settings:webhooks:edit", args=[subscription.pk]),
        {"url": "https://new.example.com/in", "events": ["deal.lost"], "description": ""},
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.url == "https://new.example.com/in" and subscription.events == ["deal.lost"]
    assert not subscription.is_active and subscription.disabled_reason == "Switched off by hand."
    rep_client.post(reverse("settings:webhooks:rotate_secret", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.secret != old_secret
    response = rep_client.post(reverse("settings:webhooks:delete", args=[subscription.pk]))
    assert response["Location"] == reverse("settings:webhooks:list")
    assert not WebhookSubscription.objects.exists()


def test_forms_need_the_csrf_token(rep):
    from tests.factories import PASSWORD

    client = Client(enforce_csrf_checks=True)
    client.login(username=rep.email, password=PASSWORD)
    subscription = _subscribe(rep)
    response = client.post(
        reverse("settings:webhooks:create"),
        {"url": "https://x.example.com/", "events": ["deal.won"]},
    )
    assert response.status_code == 403
    assert (
        client.post(reverse("settings:webhooks:rotate_secret", args=[subscription.pk])).status_code
        == 403
    )
    page = client.get(reverse("settings:webhooks:detail", args=[subscription.pk]))
    assert page.content.count(b"csrfmiddlewaretoken") >= 3  # ping, rotate, delete


def test_user_text_is_escaped(rep, rep_client):
    subscription = webhook_subscription_create(
        actor=rep,
        url="https://hooks.example.com/in?a=<b>",
        events=["deal.won"],
        description="<script>alert('x')</script>",
    )
    for url in (
        reverse("settings:webhooks:list"),
        reverse("settings:webhooks:detail", args=[subscription.pk]),
    ):
        content = rep_client.get(url).content.decode()
        assert "<script>alert" not in content and "&lt;script&gt;alert" in content


def test_the_list_costs_the_same_queries_for_one_or_many_subscriptions(rep, rep_client):
    _subscribe(rep)
    url = reverse("settings:webhooks:list")
    rep_client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert rep_client.get(url).status_code == 200
    for n in range(6):
        _subscribe(rep, url=f"https://h{n}.example.com/")
    with CaptureQueriesContext(connection) as many:
        rep_client.get(url)
    assert len(many) == len(one) <= 6


def test_the_delivery_log_costs_the_same_queries_for_few_or_many_deliveries(rep, rep_client):
    subscription = _subscribe(rep)
    url = reverse("settings:webhooks:detail", args=[subscription.pk])
    webhook_ping(actor=rep, subscription=subscription)
    rep_client.get(url)
    with CaptureQueriesContext(connection) as few:
        rep_client.get(url)
    for _ in range(8):
        webhook_ping(actor=rep, subscription=subscription)
    with CaptureQueriesContext(connection) as many:
        page = rep_client.get(url)
    assert len(many) == len(few)
    assert page.content.count(b"data-delivery=") == 9


def test_settings_menu_and_profile_link_to_webhooks(manager_client, rep_client):
    link = reverse("settings:webhooks:list").encode()
    assert link in manager_client.get(reverse("settings:webhooks:list")).content
    assert link in rep_client.get(reverse("accounts:profile")).content


@pytest.mark.django_db(transaction=True)
def test_ping_and_redeliver_from_the_pages_reach_the_receiver(rep, rep_client, receiver):
    subscription = _subscribe(rep, url=receiver.url, events=["deal.created"])
    response = rep_client.post(reverse("settings:webhooks:ping", args=[subscription.pk]))
    assert response.status_code == 302
    run_worker()
    assert receiver.received[0].json["type"] == "ping"
    assert receiver.received[0].json["data"]["subscription_id"] == subscription.pk
    receiver.answers = [500]
    deal_create(actor=rep, title="Shop relaunch")
    run_worker()
    delivery = WebhookDelivery.objects.get(event__name="deal.created")
    log = rep_client.get(reverse("settings:webhooks:detail", args=[subscription.pk])).content
    assert b"deal.created" in log and b">500<" in log and b"ping" in log
    rep_client.post(reverse("settings:webhooks:redeliver", args=[delivery.pk]))
    run_worker()
    page = rep_client.get(reverse("settings:webhooks:delivery", args=[delivery.pk])).content
    assert b"Delivered" in page and b"by hand" in page and b"boom" in page
    assert len(receiver.received) == 3
