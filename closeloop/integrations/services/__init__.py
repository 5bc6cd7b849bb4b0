"""Webhook services: the outbox (emitting events), delivery, and managing subscriptions."""

from .delivery import (
    retry_delay,
    webhook_deliveries_due_enqueue,
    webhook_delivery_attempt,
    webhook_post,
)
from .outbox import deal_event_emit, lead_event_emit, proposal_event_emit, webhook_event_emit
from .subscriptions import (
    webhook_delivery_redeliver,
    webhook_ping,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_rotate_secret,
    webhook_subscription_update,
)

__all__ = [
    "deal_event_emit",
    "lead_event_emit",
    "proposal_event_emit",
    "retry_delay",
    "webhook_deliveries_due_enqueue",
    "webhook_delivery_attempt",
    "webhook_delivery_redeliver",
    "webhook_event_emit",
    "webhook_ping",
    "webhook_post",
    "webhook_subscription_create",
    "webhook_subscription_delete",
    "webhook_subscription_rotate_secret",
    "webhook_subscription_update",
]
