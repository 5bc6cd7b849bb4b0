"""Webhooks: who wants which events where (subscriptions), the outbox of events, and each
delivery with every attempt made at it."""

from __future__ import annotations

import uuid
from typing import Any, Self

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from closeloop.accounts.choices import Role
from closeloop.core.models import TimestampedModel

from .choices import DeliveryState

MAX_URL_LENGTH = 500
webhook_url_validator = URLValidator(
    schemes=["http", "https"], message="Enter an http:// or https:// address."
)


def _owner_rule(user: Any, owner_field: str) -> Q | None:
    """Admins see every subscription (None), everyone else their own; nobody signed out."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.role == Role.ADMIN:
        return None
    return Q(**{owner_field: user.pk})


class WebhookSubscriptionQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> Self:
        condition = _owner_rule(user, "owner")
        return self if condition is None else self.filter(condition)


class WebhookDeliveryQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> Self:
        condition = _owner_rule(user, "subscription__owner")
        return self if condition is None else self.filter(condition)


class WebhookSubscription(TimestampedModel):
    """A URL that receives the chosen events about records its owner may see, signed with its
    secret; switched off by hand or after a day of failed deliveries."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.CharField("URL", max_length=MAX_URL_LENGTH, validators=[webhook_url_validator])
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="event names from integrations.events")
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField("active", default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    last_delivered_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["is_active"])]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """Something that happened, written in the transaction that made it happen (the outbox):
    a rolled-back change leaves no event. Its `event_id` is what receivers deduplicate on."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=60, db_index=True)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} {self.event_id}"


class WebhookDelivery(TimestampedModel):
    """One event on its way to one subscription: retried with backoff for 24 hours from its
    first attempt, then given up. `claimed_until` keeps two workers from sending it at once."""

    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(
        max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    objects = WebhookDeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event.name} → {self.subscription.url}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: the receiver's status code and the start of its answer, or the
    error that kept it from answering, and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    manual = models.BooleanField(default=False)

    class Meta:
        ordering = ["-attempted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
