from __future__ import annotations

from django.conf import settings
from django.db import models

from closeloop.core.models import TimestampedModel

from ..choices import CouponKind, CouponOrigin


class Coupon(TimestampedModel):
    """A discount code: percent or amount off, with an expiry and limits; issued to one customer
    or shared as a campaign code. `uses` only grows through `coupon_redeem`'s conditional UPDATE,
    so two redemptions racing for the last use cannot both succeed."""

    code = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=8, choices=CouponKind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True, help_text="for amounts off")
    expires_at = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(
        null=True, blank=True, help_text="in all; empty: no limit"
    )
    max_uses_per_customer = models.PositiveIntegerField(null=True, blank=True, default=1)
    min_order = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="coupons"
    )
    organization = models.ForeignKey(
        "people.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="coupons",
    )
    origin = models.CharField(
        max_length=8, choices=CouponOrigin.choices, default=CouponOrigin.MANUAL
    )
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="coupons"
    )
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    uses = models.PositiveIntegerField(default=0)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Set by `coupon_withdraw` together with is_active=False: who stopped the coupon, when, why.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdraw_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(TimestampedModel):
    """One use of a coupon by a customer, with the discount given; may name the repeat deal."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        "people.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        "pipeline.Deal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coupon_redemptions",
    )
    order_value = models.DecimalField(max_digits=14, decimal_places=2)
    discount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    redeemed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.coupon} −{self.discount} {self.currency}"
