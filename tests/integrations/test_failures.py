"""A day of failures: the delivery is given up, the subscription switched off and its owner
emailed through the outbox (a real SMTP server); manual redelivery sends any delivery again."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine

from closeloop.core.exceptions import DomainError
from closeloop.integrations.choices import DeliveryState
from closeloop.integrations.models import WebhookDelivery, WebhookSubscription
from closeloop.integrations.services import (
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_update,
)
from closeloop.pipeline.services import deal_create
from tests.worker import run_worker

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(moment: dt.datetime) -> time_machine.travel:
    return time_machine.travel(moment, tick=False)


def _run_retries_until_settled(delivery: WebhookDelivery, limit: int = 60) -> list[dt.datetime]:
    """Travel to each retry of the delivery and let the worker make it; the attempt times."""
    times = []
    for _ in range(limit):
        delivery.refresh_from_db()
        if delivery.state != DeliveryState.PENDING or delivery.next_attempt_at is None:
            break
        times.append(delivery.next_attempt_at)
        with at(delivery.next_attempt_at):
            run_worker()
    return times


@pytest.mark.django_db(transaction=True)
def test_a_day_of_failures_disables_the_subscription_and_emails_its_owner(
    rep, receiver, smtp_server
):
    receiver.answer_for = lambda request: 503
    subscription = webhook_subscription_create(actor=rep, url=receiver.url, events=["deal.created"])
    with at(T0):
        deal_create(actor=rep, title="Shop relaunch")
    first = WebhookDelivery.objects.get()
    times = _run_retries_until_settled(first)
    # 1, 2, 4 … 32 minutes, then hourly, and the last attempt 24 hours after the first
    gaps = [round((b - a).total_seconds() / 60) for a, b in itertools.pairwise(times)]
    assert gaps[:7] == [1, 2, 4, 8, 16, 32, 60]
    assert times[-1] == T0 + dt.timedelta(hours=24)
    first.refresh_from_db()
    assert first.state == DeliveryState.FAILED and first.attempts == len(times)
    assert first.attempt_log.count() == len(times) == len(receiver.received)
    assert {a.status_code for a in first.attempt_log.all()} == {503}

    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_at == T0 + dt.timedelta(hours=24)
    assert "24 hours" in subscription.disabled_reason and "503" in subscription.disabled_reason

    with at(T0 + dt.timedelta(hours=24, minutes=1)):
        run_worker()  # the outbox sends the owner's email
    [mail] = smtp_server.recorder.messages()
    assert mail["To"] == "rep@example.com"
    assert mail["Subject"] == f"Webhook disabled: {receiver.url}"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "could not deliver webhooks" in text
    assert f"/settings/webhooks/{subscription.pk}/" in text

    # while it is off, new events are not queued for it
    with at(T0 + dt.timedelta(hours=25)):
        deal_create(actor=rep, title="Another")
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_success_during_the_day_keeps_the_subscription_on(rep, receiver):
    """One event the receiver refuses for good, another it accepts: only the first is given up."""
    receiver.answer_for = lambda request: 422 if request.json["data"]["title"] == "Bad" else 200
    subscription = webhook_subscription_create(actor=rep, url=receiver.url, events=["deal.created"])
    with at(T0):
        deal_create(actor=rep, title="Bad")
        run_worker()
    with at(T0 + dt.timedelta(hours=3)):
        deal_create(actor=rep, title="Good")
        run_worker()
    bad = WebhookDelivery.objects.get(event__payload__title="Bad")
    _run_retries_until_settled(bad)
    bad.refresh_from_db()
    assert bad.state == DeliveryState.FAILED
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.disabled_reason == ""


@pytest.mark.django_db(transaction=True)
def test_manual_redelivery_sends_the_same_event_again(rep, outsider, receiver):
    subscription = webhook_subscription_create(actor=rep, url=receiver.url, events=["deal.created"])
    receiver.answers = [500]
    with at(T0):
        deal_create(actor=rep, title="Shop relaunch")
        run_worker()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.PENDING

    # the owner does not wait for the retry: redeliver now
    with at(T0 + dt.timedelta(seconds=20)):
        webhook_delivery_redeliver(actor=rep, delivery=delivery)
        run_worker()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 2
    assert [a.manual for a in delivery.attempt_log.order_by("attempted_at")] == [False, True]

    # a delivered one can be sent again too; the receiver drops it by its event id
    with at(T0 + dt.timedelta(minutes=5)):
        webhook_delivery_redeliver(actor=rep, delivery=delivery)
        run_worker()
    ids = [r.json["id"] for r in receiver.received]
    assert len(ids) == 3 and len(set(ids)) == 1
    # nobody else may redeliver it
    with pytest.raises(DomainError, match="not yours"):
        webhook_delivery_redeliver(actor=outsider, delivery=delivery)
    # a given-up delivery of a disabled subscription comes back once it is switched on again
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False)
    with pytest.raises(DomainError, match="Switch the subscription on"):
        webhook_delivery_redeliver(actor=rep, delivery=delivery)
    webhook_subscription_update(
        actor=rep, subscription=subscription, url=receiver.url, events=["deal.created"]
    )
    with at(T0 + dt.timedelta(hours=30)):
        assert webhook_delivery_redeliver(actor=rep, delivery=delivery).state == "pending"
        run_worker()
    assert len(receiver.received) == 4
