"""The webhook outbox: events written in the transaction of the change they describe.

A service calls `webhook_event_emit` inside its own transaction, so the event and its
deliveries commit with the change or vanish with it; the delivery jobs are handed to the worker
only once the transaction has committed. Finding the subscriptions costs one query (once per
request inside a request); a change nobody subscribed to writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from closeloop.accounts.visibility import owner_visible, teammates_of
from closeloop.core.request_cache import remembered

from ..events import EVENT_NAMES, PING
from ..models import WebhookDelivery, WebhookEvent, WebhookSubscription


def _active_subscriptions() -> list[WebhookSubscription]:
    return list(WebhookSubscription.objects.filter(is_active=True).select_related("owner"))


class _Teammates:
    """The subscribers' teammates, looked up once and only if a visibility check needs them."""

    def __init__(self, subscriptions: list[WebhookSubscription]) -> None:
        self.subscriptions = subscriptions
        self.found: dict[int, set[int]] | None = None

    def of(self, user_id: int) -> set[int]:
        if self.found is None:
            ids = sorted({s.owner_id for s in self.subscriptions})
            self.found = remembered(f"webhook_teammates:{ids}", lambda: teammates_of(ids))
        return self.found.get(user_id, set())


def _may_see(
    subscription: WebhookSubscription, owners: Sequence[int | None], teams: _Teammates
) -> bool:
    user = subscription.owner
    return any(owner_visible(user, owner_id, lambda: teams.of(user.pk)) for owner_id in owners)


def deliveries_enqueue_on_commit(delivery_ids: Iterable[int], *, manual: bool = False) -> None:
    """Hand each delivery to the worker once the transaction that wrote it has committed; the
    sweep sends any whose job is lost in between."""
    from ..tasks import webhook_deliver_task

    ids = list(delivery_ids)

    def enqueue() -> None:
        for delivery_id in ids:
            webhook_deliver_task.enqueue(delivery_id=delivery_id, manual=manual)

    if ids:
        transaction.on_commit(enqueue)


def event_deliveries_create(
    *, name: str, payload: dict[str, Any], subscriptions: list[WebhookSubscription]
) -> list[WebhookDelivery]:
    """The event row and one pending delivery per subscription, enqueued on commit."""
    event = WebhookEvent.objects.create(name=name, payload=payload)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription=s, event=event, next_attempt_at=event.occurred_at)
            for s in subscriptions
        ]
    )
    deliveries_enqueue_on_commit(d.pk for d in deliveries)
    return deliveries


def webhook_event_emit(
    *, name: str, payload: dict[str, Any], owners: Sequence[int | None]
) -> WebhookEvent | None:
    """Record that `name` happened, for every active subscription that asked for it and whose
    owner may see the record: `owners` are the owner ids the record's visibility rule keys on
    (None: an unowned record); seeing any of them is enough. Must run inside the transaction
    of the change. The event, or None when no subscription wants it."""
    if name not in EVENT_NAMES or name == PING:
        raise ValueError(f"Unknown webhook event {name!r}: add it to integrations/events.py.")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("webhook_event_emit must run inside the change's transaction.")
    wanted = [
        s for s in remembered("webhook_subscriptions", _active_subscriptions) if name in s.events
    ]
    if not wanted:
        return None
    teams = _Teammates(wanted)
    receivers = [s for s in wanted if _may_see(s, owners, teams)]
    if not receivers:
        return None
    return event_deliveries_create(name=name, payload=payload, subscriptions=receivers)[0].event


def lead_event_emit(name: str, lead: Any, **extra: Any) -> WebhookEvent | None:
    """Emit `name` about a lead, for subscribers who may see the lead; `extra` joins its data."""
    from ..payloads import lead_data

    return webhook_event_emit(
        name=name, payload={**lead_data(lead), **extra}, owners=[lead.owner_id]
    )


def deal_event_emit(name: str, deal: Any, **extra: Any) -> WebhookEvent | None:
    """Emit `name` about a deal, for subscribers who may see the deal; `extra` joins its data."""
    from ..payloads import deal_data

    return webhook_event_emit(
        name=name, payload={**deal_data(deal), **extra}, owners=[deal.owner_id]
    )


def proposal_event_emit(
    name: str, proposal: Any, version: Any, **extra: Any
) -> WebhookEvent | None:
    """Emit `name` about a proposal version, for subscribers who may see its deal."""
    from ..payloads import proposal_data

    return webhook_event_emit(
        name=name,
        payload={**proposal_data(proposal, version), **extra},
        owners=[proposal.deal.owner_id],
    )
