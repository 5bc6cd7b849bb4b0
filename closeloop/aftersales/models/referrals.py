from __future__ import annotations

from django.db import models

from closeloop.core.models import TimestampedModel


class Referral(TimestampedModel):
    """A lead that came through a customer's referral link, and the reward once it is won."""

    referrer = models.ForeignKey(
        "people.Contact", on_delete=models.CASCADE, related_name="referrals"
    )
    lead = models.OneToOneField(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="referral"
    )
    deal = models.ForeignKey(
        "pipeline.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reward = models.ForeignKey(
        "aftersales.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rewarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"referral by {self.referrer}"


class ReferralProgram(TimestampedModel):
    """The one row of referral settings: which web form a referral link's landing page shows."""

    webform = models.ForeignKey(
        "leads.WebForm",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="empty: the landing page lists the booking pages instead",
    )
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return "referral programme"

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1  # a singleton, like WorkspaceSettings
        super().save(*args, **kwargs)  # type: ignore[arg-type]
