"""Forgetting old webhook history: deliveries that are over, their attempts and their events.

The outbox and the delivery log grow with every change of note. A delivery that was delivered
or given up more than WEBHOOK_KEEP_DAYS ago is deleted with its attempts, and an event goes
once it is that old and no delivery of it is left. Pending deliveries (and so their events)
are never deleted, however old: they are still being tried.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..choices import DeliveryState
from ..models import WebhookAttempt, WebhookDelivery, WebhookEvent

BATCH = 2_000  # rows deleted per statement, so a long-neglected log does not lock for long


def _in_batches(queryset, model) -> int:  # type: ignore[no-untyped-def]
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return total
        with transaction.atomic():
            if model is WebhookDelivery:
                WebhookAttempt.objects.filter(delivery_id__in=ids).delete()
            total += model.objects.filter(pk__in=ids).delete()[1].get(model._meta.label, 0)


def webhook_history_purge(
    *, now: dt.datetime | None = None, days: int | None = None
) -> dict[str, int]:
    """Delete deliveries over for longer than `days` (WEBHOOK_KEEP_DAYS) with their attempts,
    then the events as old with no delivery left; returns how many of each went."""
    days = settings.WEBHOOK_KEEP_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    over = WebhookDelivery.objects.filter(
        Q(state=DeliveryState.DELIVERED, delivered_at__lt=cutoff)
        | Q(state=DeliveryState.FAILED, updated_at__lt=cutoff)
    ).order_by()
    deliveries = _in_batches(over, WebhookDelivery)
    unsent = WebhookEvent.objects.filter(occurred_at__lt=cutoff, deliveries__isnull=True)
    events = _in_batches(unsent.order_by(), WebhookEvent)
    return {"deliveries": deliveries, "events": events}
