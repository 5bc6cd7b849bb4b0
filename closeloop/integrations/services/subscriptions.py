"""Managing webhook subscriptions: their URL, events and secret; test pings and redeliveries.

Admins manage every subscription, everyone else their own (the rule of
`WebhookSubscription.objects.visible_to`); a subscription someone may not manage is refused
with the same words as a missing one.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError

from ..addresses import AddressRefused, url_host_check
from ..choices import DeliveryState
from ..events import EVENT_NAMES, PING
from ..models import MAX_URL_LENGTH, WebhookDelivery, WebhookSubscription, webhook_url_validator
from .outbox import deliveries_enqueue_on_commit, event_deliveries_create

SECRET_PREFIX = "whsec_"  # noqa: S105  (a label, not a secret)


def secret_new() -> str:
    """A fresh signing secret: 192 random bits, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_hex(24)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise DomainError("Give the address that receives the webhooks.", field="url")
    if len(url) > MAX_URL_LENGTH:
        raise DomainError(f"The URL can be at most {MAX_URL_LENGTH} characters.", field="url")
    try:
        webhook_url_validator(url)
    except ValidationError as exc:
        raise DomainError(f"“{url}” is not an http:// or https:// address.", field="url") from exc
    try:
        url_host_check(url)
    except AddressRefused as refused:
        raise DomainError(str(refused), field="url") from refused
    return url


def _clean_events(events: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(e.strip() for e in events or [] if e and e.strip()))
    unknown = [e for e in chosen if e not in EVENT_NAMES]
    if unknown:
        raise DomainError(
            f"Unknown event{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}.",
            field="events",
        )
    if not chosen:
        raise DomainError("Choose at least one event.", field="events")
    return [e for e in EVENT_NAMES if e in chosen]


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > 200:
        raise DomainError("The description can be at most 200 characters.", field="description")
    return description


def _lock(subscription: WebhookSubscription, actor: Any) -> WebhookSubscription:
    qs = WebhookSubscription.objects.select_for_update().filter(pk=subscription.pk)
    if actor is not None:
        qs = qs.visible_to(actor)
    current = qs.first()
    if current is None:
        raise DomainError("This webhook subscription does not exist or is not yours.")
    return current


@transaction.atomic
def webhook_subscription_create(
    *,
    actor: Any,
    url: str,
    events: list[str],
    description: str = "",
    owner: User | None = None,
) -> WebhookSubscription:
    """Subscribe a URL to events about records its owner (the actor unless given) may see; it
    gets a new secret. Only admins subscribe on someone else's behalf."""
    user = acting_user(actor)
    owner = owner or user
    if owner is None or not owner.is_active:
        raise DomainError("A subscription needs an active user as its owner.", field="owner")
    if user is not None and owner != user and not user.is_admin:
        raise DomainError("Only admins can create subscriptions for others.", field="owner")
    return WebhookSubscription.objects.create(
        owner=owner,
        url=_clean_url(url),
        events=_clean_events(events),
        description=_clean_description(description),
        secret=secret_new(),
    )


@transaction.atomic
def webhook_subscription_update(
    *,
    actor: Any,
    subscription: WebhookSubscription,
    url: str,
    events: list[str],
    description: str = "",
    is_active: bool = True,
) -> WebhookSubscription:
    """Change a subscription; switching it back on clears why it was disabled."""
    current = _lock(subscription, actor)
    current.url = _clean_url(url)
    current.events = _clean_events(events)
    current.description = _clean_description(description)
    if is_active and not current.is_active:
        current.disabled_reason, current.disabled_at = "", None
    elif not is_active and current.is_active:
        current.disabled_reason, current.disabled_at = "Switched off by hand.", timezone.now()
    current.is_active = is_active
    current.save()
    return current


@transaction.atomic
def webhook_subscription_rotate_secret(
    *, actor: Any, subscription: WebhookSubscription
) -> WebhookSubscription:
    """Replace the signing secret; every attempt from now on is signed with the new one."""
    current = _lock(subscription, actor)
    current.secret = secret_new()
    current.save(update_fields=["secret", "updated_at"])
    return current


@transaction.atomic
def webhook_subscription_delete(*, actor: Any, subscription: WebhookSubscription) -> None:
    """Delete a subscription with its delivery log; pending deliveries are never sent."""
    _lock(subscription, actor).delete()


@transaction.atomic
def webhook_ping(*, actor: Any, subscription: WebhookSubscription) -> WebhookDelivery:
    """Send a `ping` event to this subscription alone, to check the receiver and its secret."""
    current = _lock(subscription, actor)
    if not current.is_active:
        raise DomainError("Switch the subscription on before sending a test ping.")
    user = acting_user(actor)
    payload = {
        "subscription_id": current.pk,
        "message": "A test ping from Closeloop.",
        "sent_by": user.email if user is not None else None,
    }
    return event_deliveries_create(name=PING, payload=payload, subscriptions=[current])[0]


@transaction.atomic
def webhook_delivery_redeliver(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now (given up, delivered or waiting), with a fresh day of retries;
    the event keeps its id, so a receiver that already has it drops the copy."""
    qs = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("subscription")
    if actor is not None:
        qs = qs.visible_to(actor)
    current = qs.filter(pk=delivery.pk).first()
    if current is None:
        raise DomainError("This delivery does not exist or is not yours.")
    if not current.subscription.is_active:
        raise DomainError("Switch the subscription on before redelivering.")
    current.state = DeliveryState.PENDING
    current.next_attempt_at = timezone.now()
    current.first_attempt_at = None
    current.claimed_until = None
    current.save()
    deliveries_enqueue_on_commit([current.pk], manual=True)
    return current
