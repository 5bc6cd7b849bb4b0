"""Delivering webhooks: one signed POST per attempt, retried with backoff for a day.

An attempt is claimed first (a conditional UPDATE on `claimed_until`), so two workers, or a job
and the sweep, never POST the same delivery at once; the POST runs outside any transaction and
its outcome is written afterwards in one. A worker killed mid-POST leaves a claim that expires
after CLAIM_SECONDS, and the delivery is tried again: receivers drop the duplicate by event id.

Failures back off 1, 2, 4 … minutes, at most an hour apart, until 24 hours after the first
attempt; the delivery is then given up. A subscription whose given-up delivery had no
successful delivery beside it for that whole day is disabled and its owner told by email.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from closeloop.core.links import absolute_url

from ..addresses import AddressRefused, checked_address, pinned_opener
from ..choices import DeliveryState
from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from ..signing import SIGNATURE_HEADER, signature_header
from .outbox import deliveries_enqueue_on_commit

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
CLAIM_SECONDS = 120  # longer than the timeout: a live attempt is never taken over
RETRY_FOR = dt.timedelta(hours=24)
MAX_BACKOFF = dt.timedelta(hours=1)
EXCERPT_CHARS = 1000
LOST_AFTER = dt.timedelta(minutes=10)  # a due delivery this late has lost its job
SWEEP_BATCH = 500
USER_AGENT = "Closeloop-Webhooks/1"


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after `attempts` failed attempts: 1, 2, 4 … minutes, at most an hour."""
    return min(dt.timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON the receiver gets: the event id (for deduplication), name, time and data."""
    event = delivery.event
    document = {
        "id": str(event.event_id),
        "type": event.name,
        "created": event.occurred_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


@dataclass
class Outcome:
    """How one POST ended: the status code and the start of the answer, or the error."""

    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    duration_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _read_excerpt(response: Any) -> str:
    try:
        raw = response.read(EXCERPT_CHARS * 4)
    except Exception:  # a receiver that hangs up mid-answer still answered with its code
        return ""
    return bytes(raw).decode("utf-8", errors="replace")[:EXCERPT_CHARS]


def webhook_post(delivery: WebhookDelivery) -> Outcome:
    """POST the delivery, signed now; never raises for anything the network or receiver does."""
    body = delivery_body(delivery)
    subscription = delivery.subscription
    if not subscription.url.lower().startswith(("http://", "https://")):
        return Outcome(error="Only http:// and https:// addresses are called.")
    request = urllib.request.Request(  # noqa: S310  (the scheme is checked just above)
        subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Closeloop-Event": delivery.event.name,
            "Closeloop-Delivery": str(delivery.delivery_id),
            SIGNATURE_HEADER: signature_header(
                secret=subscription.secret, body=body, timestamp=int(time.time())
            ),
        },
    )
    started = time.monotonic()
    outcome = Outcome()
    try:
        # resolved and checked once; the connection goes to that address (see addresses.py)
        opener = pinned_opener(checked_address(subscription.url))
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            outcome.status_code = response.status
            outcome.excerpt = _read_excerpt(response)
    except urllib.error.HTTPError as answer:
        outcome.status_code = answer.code
        outcome.excerpt = _read_excerpt(answer)
        outcome.error = f"HTTP {answer.code} {answer.reason}"
    except AddressRefused as refused:
        outcome.error = str(refused)
    except urllib.error.URLError as exc:
        outcome.error = f"Could not connect: {exc.reason}"
    except (TimeoutError, OSError, ValueError) as exc:
        outcome.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    outcome.error = outcome.error[:500]
    return outcome


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    return bool(
        WebhookDelivery.objects.filter(
            free,
            pk=delivery_id,
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
        ).update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS))
    )


def _enqueue_retry(delivery_id: int, run_after: dt.datetime) -> None:
    from ..tasks import webhook_deliver_task

    task = webhook_deliver_task.using(run_after=run_after)
    if not task.get_backend().supports_defer:
        return  # a backend that cannot wait would retry at once: the sweep retries when due
    transaction.on_commit(lambda: task.enqueue(delivery_id=delivery_id, manual=False))


def webhook_delivery_attempt(*, delivery_id: int, manual: bool = False) -> str:
    """Make the next attempt at a pending, due delivery of an active subscription and record it;
    the state it ends in. A duplicated or early job finds nothing to claim and does nothing."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        found = WebhookDelivery.objects.filter(pk=delivery_id).values_list("state", flat=True)
        return found.first() or "missing"
    delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    outcome = webhook_post(delivery)
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("event", "subscription", "subscription__owner")
            .get(pk=delivery_id)
        )
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=now,
            status_code=outcome.status_code,
            response_excerpt=outcome.excerpt,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
            manual=manual,
        )
        delivery.attempts += 1
        delivery.first_attempt_at = delivery.first_attempt_at or now
        delivery.last_attempt_at = now
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        delivery.claimed_until = None
        if outcome.ok:
            delivery.state = DeliveryState.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            delivery.last_error = ""
            WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(
                last_delivered_at=now
            )
        else:
            deadline = delivery.first_attempt_at + RETRY_FOR
            if now >= deadline:
                delivery.state = DeliveryState.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = min(now + retry_delay(delivery.attempts), deadline)
                _enqueue_retry(delivery.pk, delivery.next_attempt_at)
        delivery.save()
        if delivery.state == DeliveryState.FAILED:
            _disable_if_failing_all_day(delivery, now=now)
    return delivery.state


def _disable_if_failing_all_day(delivery: WebhookDelivery, *, now: dt.datetime) -> None:
    """Disable the subscription when nothing reached it since this given-up delivery's first
    attempt a day ago, give up its other pending deliveries, and email its owner."""
    subscription = (
        WebhookSubscription.objects.select_for_update()
        .select_related("owner")
        .get(pk=delivery.subscription_id)
    )
    first = delivery.first_attempt_at
    if not subscription.is_active or first is None:
        return
    if subscription.last_delivered_at is not None and subscription.last_delivered_at >= first:
        return
    reason = f"No delivery succeeded for 24 hours (last error: {delivery.last_error or '—'})"
    subscription.is_active = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason[:300]
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    subscription.deliveries.filter(state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED,
        next_attempt_at=None,
        claimed_until=None,
        last_error="Not sent: the subscription was disabled.",
        updated_at=now,
    )
    _tell_owner(subscription)


def _tell_owner(subscription: WebhookSubscription) -> None:
    from closeloop.messaging.services import message_queue

    owner = subscription.owner
    if not owner.email:
        return
    link = absolute_url(reverse("settings:webhooks:detail", args=[subscription.pk]))
    message_queue(
        actor=None,
        to=owner.email,
        subject=f"Webhook disabled: {subscription.url}"[:300],
        text_body=(
            f"Hello {owner.display_name},\n\n"
            f"Closeloop could not deliver webhooks to {subscription.url} for 24 hours, so it "
            "stopped sending them.\n\n"
            f"{subscription.disabled_reason}\n\n"
            "Once the receiver works again, switch the subscription back on and redeliver what "
            f"it missed from its delivery log:\n{link}\n"
        ),
        timeline=False,
    )


def webhook_deliveries_due_enqueue(*, limit: int = SWEEP_BATCH) -> int:
    """The sweep: a new job for each delivery due for a while whose job was lost (a worker
    died, or the queue was emptied); how many. An extra job for a delivery whose job is only
    late finds it claimed or done and does nothing."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            state=DeliveryState.PENDING,
            next_attempt_at__lte=now - LOST_AFTER,
            subscription__is_active=True,
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    with transaction.atomic():
        deliveries_enqueue_on_commit(due)
    return len(due)
