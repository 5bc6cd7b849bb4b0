"""Webhooks reach a real HTTP receiver through the real worker: signed as documented, retried
with backoff while the receiver is down, every attempt logged."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from closeloop.integrations.choices import DeliveryState
from closeloop.integrations.models import WebhookDelivery, WebhookEvent
from closeloop.integrations.services import (
    retry_delay,
    webhook_subscription_create,
    webhook_subscription_rotate_secret,
)
from closeloop.pipeline.services import deal_create, deal_mark_won
from tests.worker import run_worker

from .documented import documented_verify

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(moment: dt.datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


@pytest.mark.django_db(transaction=True)
def test_a_won_deal_reaches_the_receiver_signed_as_documented(rep, bakery_deal, receiver):
    verify = documented_verify()
    subscription = webhook_subscription_create(actor=rep, url=receiver.url, events=["deal.won"])
    deal_mark_won(actor=rep, deal=bakery_deal)
    run_worker()

    assert len(receiver.received) == 1
    got = receiver.received[0]
    delivery = WebhookDelivery.objects.get()
    event = delivery.event
    assert got.path == "/hooks"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Closeloop-Event"] == "deal.won"
    assert got.headers["Closeloop-Delivery"] == str(delivery.delivery_id)
    assert got.json["id"] == str(event.event_id)
    assert got.json["type"] == "deal.won"
    assert dt.datetime.fromisoformat(got.json["created"]) == event.occurred_at
    data = got.json["data"]
    assert (data["id"], data["title"], data["status"]) == (bakery_deal.pk, "New website", "won")
    assert data["owner_id"] == rep.pk and data["value"] == f"{bakery_deal.value:.2f}"

    signature = got.headers["Closeloop-Signature"]
    assert verify(subscription.secret, got.body, signature)
    assert not verify(subscription.secret, got.body.replace(b"won", b"lost"), signature)
    assert not verify("whsec_wrong", got.body, signature)
    # a captured request replayed six minutes later is refused
    with at(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)):
        assert not verify(subscription.secret, got.body, signature)

    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 1
    attempt = delivery.attempt_log.get()
    assert attempt.status_code == 200 and attempt.response_excerpt == '{"ok": true}'
    subscription.refresh_from_db()
    assert subscription.last_delivered_at == attempt.attempted_at


@pytest.mark.django_db(transaction=True)
def test_a_rotated_secret_signs_the_next_delivery(rep, bakery_deal, receiver):
    verify = documented_verify()
    subscription = webhook_subscription_create(
        actor=rep, url=receiver.url, events=["deal.created", "deal.won"]
    )
    old = subscription.secret
    rotated = webhook_subscription_rotate_secret(actor=rep, subscription=subscription)
    assert rotated.secret != old and rotated.secret.startswith("whsec_")
    deal_mark_won(actor=rep, deal=bakery_deal)
    run_worker()
    body, signature = receiver.received[0].body, receiver.received[0].headers["Closeloop-Signature"]
    assert verify(rotated.secret, body, signature) and not verify(old, body, signature)


@pytest.mark.django_db(transaction=True)
def test_a_receiver_down_for_a_while_gets_the_event_on_a_later_retry(rep, receiver):
    verify = documented_verify()
    subscription = webhook_subscription_create(actor=rep, url=receiver.url, events=["deal.created"])
    receiver.stop()  # connections to its port are refused
    with at(T0):
        deal = deal_create(actor=rep, title="Shop relaunch")
        run_worker()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.attempts == 1
    assert "Could not connect" in delivery.last_error
    assert delivery.next_attempt_at == T0 + dt.timedelta(minutes=1)
    # the retry waits as a delayed job in the queue
    waiting = DBTaskResult.objects.filter(
        status="READY", task_path__endswith="webhook_deliver_task"
    )
    assert [j.run_after for j in waiting] == [T0 + dt.timedelta(minutes=1)]

    with at(T0 + dt.timedelta(seconds=50)):
        run_worker()  # not due yet: nothing is tried
    assert WebhookDelivery.objects.get().attempts == 1

    receiver.start()  # back on the same port, but failing
    receiver.answers = [500]
    with at(T0 + dt.timedelta(minutes=1)):
        run_worker()
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (2, 500)
    assert delivery.next_attempt_at == T0 + dt.timedelta(minutes=3)  # then 2 minutes later

    with at(T0 + dt.timedelta(minutes=3)):
        run_worker()
        body, signature = (
            receiver.received[-1].body,
            receiver.received[-1].headers["Closeloop-Signature"],
        )
        assert verify(subscription.secret, body, signature)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 3
    assert delivery.delivered_at == T0 + dt.timedelta(minutes=3)
    # the failing and the successful attempt carried the same event: one id to deduplicate on
    ids = {r.json["id"] for r in receiver.received}
    assert ids == {str(delivery.event.event_id)} and len(receiver.received) == 2
    assert json.loads(body)["data"]["id"] == deal.pk
    log = [
        (a.attempted_at, a.status_code, bool(a.error))
        for a in delivery.attempt_log.order_by("attempted_at")
    ]
    assert log == [
        (T0, None, True),
        (T0 + dt.timedelta(minutes=1), 500, True),
        (T0 + dt.timedelta(minutes=3), 200, False),
    ]
    assert "boom" in delivery.attempt_log.get(status_code=500).response_excerpt


def test_backoff_doubles_up_to_an_hour() -> None:
    minutes = [retry_delay(n).total_seconds() / 60 for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


@pytest.mark.django_db(transaction=True)
def test_a_lost_job_is_found_by_the_sweep(rep, receiver):
    from closeloop.integrations.tasks import webhook_deliveries_sweep_task

    webhook_subscription_create(actor=rep, url=receiver.url, events=["deal.created"])
    with at(T0):
        deal_create(actor=rep, title="Shop relaunch")
    DBTaskResult.objects.all().delete()  # the worker's queue was lost
    with at(T0 + dt.timedelta(minutes=5)):
        webhook_deliveries_sweep_task.enqueue()
        run_worker()
    assert receiver.received == []  # due only five minutes ago: its job may just be late
    with at(T0 + dt.timedelta(minutes=11)):
        webhook_deliveries_sweep_task.enqueue()
        run_worker()
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().state == DeliveryState.DELIVERED


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_sends_nothing(rep, bakery_deal, receiver):
    webhook_subscription_create(actor=rep, url=receiver.url, events=["deal.created", "deal.won"])
    with pytest.raises(RuntimeError), transaction.atomic():
        deal_mark_won(actor=rep, deal=bakery_deal)
        deal_create(actor=rep, title="Upsell")
        assert WebhookEvent.objects.count() == 2  # written inside the transaction…
        raise RuntimeError("the request failed after the services ran")
    run_worker()
    # …and gone with it: no event, no delivery, no job, nothing at the receiver
    assert WebhookEvent.objects.count() == 0 and WebhookDelivery.objects.count() == 0
    assert not DBTaskResult.objects.filter(task_path__endswith="webhook_deliver_task").exists()
    assert receiver.received == []
