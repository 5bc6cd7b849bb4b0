from __future__ import annotations

from django.conf import settings
from django.db import models

from closeloop.core.models import TimestampedModel

from ..choices import CouponKind, MailingState, RecipientState


class Segment(TimestampedModel):
    """A saved selection of customers (`criteria`: last purchase, product, total won value,
    purchases, NPS band, consent), evaluated when used."""

    name = models.CharField(max_length=120, unique=True)
    criteria = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Mailing(TimestampedModel):
    """A promotional email or offer to a segment, sent through the outbox at a set rate; with
    `coupon_kind` set, each recipient gets a personal coupon."""

    name = models.CharField(max_length=200)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="mailings")
    template = models.ForeignKey(
        "messaging.EmailTemplate", on_delete=models.PROTECT, related_name="+"
    )
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="mailings"
    )
    coupon_kind = models.CharField(max_length=8, choices=CouponKind.choices, blank=True)
    coupon_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    coupon_currency = models.CharField(max_length=3, blank=True)
    coupon_valid_days = models.PositiveIntegerField(null=True, blank=True)
    rate_per_minute = models.PositiveIntegerField(default=60)
    state = models.CharField(max_length=9, choices=MailingState.choices, default=MailingState.DRAFT)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class MailingRecipient(models.Model):
    """One contact a mailing goes to, and what became of it."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey("people.Contact", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    state = models.CharField(
        max_length=10, choices=RecipientState.choices, default=RecipientState.PENDING
    )
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    coupon = models.ForeignKey(
        "aftersales.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # why it was skipped, suppressed or failed, in words for the mailing page
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing", "contact"], name="mailing_recipient_once"),
        ]
        indexes = [models.Index(fields=["mailing", "state"], name="mailingrecipient_state")]

    def __str__(self) -> str:
        return f"{self.mailing}: {self.email}"
