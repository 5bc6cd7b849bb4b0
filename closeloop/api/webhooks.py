"""Webhook subscriptions over the API: list, create, change, delete; the delivery log and
redelivery. Admins manage every subscription, everyone else their own; another's is a 404."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from closeloop.integrations.choices import DeliveryState
from closeloop.integrations.events import EVENT_TYPES
from closeloop.integrations.models import WebhookDelivery, WebhookSubscription
from closeloop.integrations.selectors import (
    webhook_deliveries,
    webhook_delivery_get,
    webhook_subscription_get,
    webhook_subscription_list,
)
from closeloop.integrations.services import (
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_rotate_secret,
    webhook_subscription_update,
)

from .errors import ERRORS, WRITE_ERRORS, not_found
from .ids import PathId
from .lists import ListQuery, Page, page_of

router = Router(tags=["webhooks"])


class DeliveryListQuery(ListQuery):
    state: DeliveryState | None = None


class EventTypeOut(Schema):
    name: str
    description: str


class SubscriptionIn(Schema):
    url: str = Field(..., max_length=500, description="http:// or https://")
    events: list[str] = Field(..., description="names from GET /webhooks/events")
    description: str = Field("", max_length=200)


class SubscriptionPatch(Schema):
    url: str | None = Field(None, max_length=500)
    events: list[str] | None = None
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class SubscriptionOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    owner_email: str
    secret: str | None = Field(None, description="shown to the subscription's owner only")
    is_active: bool
    disabled_reason: str
    disabled_at: dt.datetime | None
    last_delivered_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DeliveryOut(Schema):
    id: int
    delivery_id: uuid.UUID
    event_id: uuid.UUID
    event: str
    occurred_at: dt.datetime
    state: str
    attempts: int
    last_status_code: int | None
    last_error: str
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


def _subscription_out(request: HttpRequest, s: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": s.pk,
        "url": s.url,
        "description": s.description,
        "events": s.events,
        "owner_email": s.owner.email,
        "secret": s.secret if s.owner_id == request.user.pk else None,
        "is_active": s.is_active,
        "disabled_reason": s.disabled_reason,
        "disabled_at": s.disabled_at,
        "last_delivered_at": s.last_delivered_at,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "delivery_id": d.delivery_id,
        "event_id": d.event.event_id,
        "event": d.event.name,
        "occurred_at": d.event.occurred_at,
        "state": d.state,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "next_attempt_at": d.next_attempt_at,
        "delivered_at": d.delivered_at,
    }


def _subscription(request: HttpRequest, pk: int) -> WebhookSubscription:
    found = webhook_subscription_get(user=request.user, pk=pk)
    if found is None:
        raise not_found("webhook subscription")
    return found


@router.get(
    "/events",
    response={200: list[EventTypeOut], **ERRORS},
    summary="The event names to subscribe to",
)
def list_event_types(request: HttpRequest) -> Any:
    return [{"name": e.name, "description": e.description} for e in EVENT_TYPES]


@router.get(
    "", response={200: Page[SubscriptionOut], **ERRORS}, summary="List webhook subscriptions"
)
def list_subscriptions(request: HttpRequest, query: Query[ListQuery]) -> Any:
    page = page_of(
        webhook_subscription_list(user=request.user), query, orderings=("created_at", "updated_at")
    )
    page["items"] = [_subscription_out(request, s) for s in page["items"]]
    return page


@router.post(
    "", response={201: SubscriptionOut, **WRITE_ERRORS}, summary="Subscribe a URL to events"
)
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Any:
    subscription = webhook_subscription_create(
        actor=request.user, url=payload.url, events=payload.events, description=payload.description
    )
    return Status(201, _subscription_out(request, subscription))


@router.get(
    "/{subscription_id}", response={200: SubscriptionOut, **ERRORS}, summary="One subscription"
)
def get_subscription(request: HttpRequest, subscription_id: PathId) -> Any:
    return _subscription_out(request, _subscription(request, subscription_id))


@router.patch(
    "/{subscription_id}",
    response={200: SubscriptionOut, **WRITE_ERRORS},
    summary="Change a subscription",
)
def update_subscription(
    request: HttpRequest, subscription_id: PathId, payload: SubscriptionPatch
) -> Any:
    current = _subscription(request, subscription_id)
    updated = webhook_subscription_update(
        actor=request.user,
        subscription=current,
        url=current.url if payload.url is None else payload.url,
        events=current.events if payload.events is None else payload.events,
        description=current.description if payload.description is None else payload.description,
        is_active=current.is_active if payload.is_active is None else payload.is_active,
    )
    return _subscription_out(request, updated)


@router.post(
    "/{subscription_id}/rotate-secret",
    response={200: SubscriptionOut, **WRITE_ERRORS},
    summary="Replace the secret",
)
def rotate_secret(request: HttpRequest, subscription_id: PathId) -> Any:
    current = _subscription(request, subscription_id)
    rotated = webhook_subscription_rotate_secret(actor=request.user, subscription=current)
    return _subscription_out(request, rotated)


@router.delete("/{subscription_id}", response={204: None, **WRITE_ERRORS}, summary="Delete")
def delete_subscription(request: HttpRequest, subscription_id: PathId) -> Any:
    webhook_subscription_delete(
        actor=request.user, subscription=_subscription(request, subscription_id)
    )
    return Status(204, None)


@router.get(
    "/{subscription_id}/deliveries",
    response={200: Page[DeliveryOut], **ERRORS},
    summary="A subscription's delivery log, newest first",
)
def list_deliveries(
    request: HttpRequest, subscription_id: PathId, query: Query[DeliveryListQuery]
) -> Any:
    subscription = _subscription(request, subscription_id)
    deliveries = webhook_deliveries(
        user=request.user, subscription=subscription, state=query.state or ""
    )
    page = page_of(deliveries, query, orderings=("created_at",), default="-created_at")
    page["items"] = [_delivery_out(d) for d in page["items"]]
    return page


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    response={202: DeliveryOut, **WRITE_ERRORS},
    summary="Send a delivery again now",
)
def redeliver(request: HttpRequest, delivery_id: PathId) -> Any:
    delivery = webhook_delivery_get(user=request.user, pk=delivery_id)
    if delivery is None:
        raise not_found("delivery")
    return Status(
        202, _delivery_out(webhook_delivery_redeliver(actor=request.user, delivery=delivery))
    )
