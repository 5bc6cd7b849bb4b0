"""Old webhook history is forgotten: deliveries over for WEBHOOK_KEEP_DAYS with their attempts
and events; pending deliveries and recent history stay."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from closeloop.core.schedule import PERIODIC_JOBS
from closeloop.integrations.choices import DeliveryState
from closeloop.integrations.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from closeloop.integrations.services import webhook_delivery_attempt, webhook_subscription_create
from closeloop.integrations.services.history import webhook_history_purge
from closeloop.pipeline.services import deal_create

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _deal_at(moment: dt.datetime, rep, title: str) -> WebhookDelivery | None:  # type: ignore[no-untyped-def]
    with time_machine.travel(moment, tick=False):
        deal = deal_create(actor=rep, title=title)
    return WebhookDelivery.objects.filter(event__payload__id=deal.pk).first()


def test_deliveries_over_for_the_keep_days_go_with_attempts_and_events(rep, receiver, settings):
    webhook_subscription_create(actor=rep, url=receiver.url, events=["deal.created"])
    old_delivered = _deal_at(T0, rep, "Old, delivered")
    old_failed = _deal_at(T0, rep, "Old, given up")
    old_pending = _deal_at(T0, rep, "Old, still pending")
    recent = _deal_at(T0 + dt.timedelta(days=25), rep, "Recent, delivered")
    assert old_delivered and old_failed and old_pending and recent
    with time_machine.travel(T0, tick=False):
        webhook_delivery_attempt(delivery_id=old_delivered.pk)
    with time_machine.travel(T0 + dt.timedelta(days=25), tick=False):
        webhook_delivery_attempt(delivery_id=recent.pk)
    with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
        WebhookDelivery.objects.filter(pk=old_failed.pk).update(
            state=DeliveryState.FAILED, updated_at=T0 + dt.timedelta(days=2)
        )
    # an event nobody subscribed to, as old
    with time_machine.travel(T0, tick=False):
        unheard = WebhookEvent.objects.create(name="lead.created", payload={"id": 1})

    assert settings.WEBHOOK_KEEP_DAYS == 30
    purged = webhook_history_purge(now=T0 + dt.timedelta(days=31, hours=1))

    assert purged == {"deliveries": 1, "events": 2}
    left = set(WebhookDelivery.objects.values_list("pk", flat=True))
    assert left == {old_failed.pk, old_pending.pk, recent.pk}  # given up on day 2: kept
    assert not WebhookAttempt.objects.filter(delivery_id=old_delivered.pk).exists()
    assert WebhookAttempt.objects.filter(delivery_id=recent.pk).count() == 1
    assert not WebhookEvent.objects.filter(pk__in=[unheard.pk, old_delivered.event_id]).exists()
    assert WebhookEvent.objects.filter(pk=old_pending.event_id).exists()

    later = webhook_history_purge(now=T0 + dt.timedelta(days=60))
    assert later == {"deliveries": 2, "events": 2}
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [old_pending.pk]


def test_the_purge_runs_daily_from_the_scheduler():
    job = PERIODIC_JOBS["webhook_history_purge"]
    assert job.interval() == dt.timedelta(days=1)
    assert job.task.func.__name__ == "webhook_history_purge_task"
