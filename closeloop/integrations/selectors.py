"""Reading webhook subscriptions and their delivery log, as the user may see them: admins every
subscription, everyone else their own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .choices import DeliveryState
from .models import WebhookDelivery, WebhookSubscription


def webhook_subscription_list(*, user: Any) -> QuerySet[WebhookSubscription]:
    """The subscriptions `user` may manage, with their owner and the last day's delivery counts
    (one query)."""
    since = timezone.now() - dt.timedelta(days=1)
    recent = Q(deliveries__created_at__gte=since)
    return (
        WebhookSubscription.objects.visible_to(user)
        .select_related("owner")
        .annotate(
            delivered_count=Count(
                "deliveries", filter=recent & Q(deliveries__state=DeliveryState.DELIVERED)
            ),
            pending_count=Count(
                "deliveries", filter=recent & Q(deliveries__state=DeliveryState.PENDING)
            ),
            failed_count=Count(
                "deliveries", filter=recent & Q(deliveries__state=DeliveryState.FAILED)
            ),
        )
        .order_by("-created_at", "-pk")
    )


def webhook_subscription_get(*, user: Any, pk: int) -> WebhookSubscription | None:
    """One subscription if `user` may manage it (None otherwise, as for a missing one)."""
    return (
        WebhookSubscription.objects.visible_to(user).select_related("owner").filter(pk=pk).first()
    )


def webhook_deliveries(
    *, user: Any, subscription: WebhookSubscription, state: str = ""
) -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries, newest first, with their events (one query per page)."""
    qs = WebhookDelivery.objects.visible_to(user).filter(subscription=subscription)
    if state in DeliveryState.values:
        qs = qs.filter(state=state)
    return qs.select_related("event").order_by("-created_at", "-pk")


def webhook_delivery_get(*, user: Any, pk: int) -> WebhookDelivery | None:
    """One delivery with its event and subscription, if `user` may see its subscription."""
    return (
        WebhookDelivery.objects.visible_to(user)
        .select_related("event", "subscription", "subscription__owner")
        .filter(pk=pk)
        .first()
    )
