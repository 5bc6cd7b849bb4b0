from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from closeloop.core.models import TimestampedModel

from .choices import TargetMetric


class SalesTarget(TimestampedModel):
    """What a manager expects of one rep in one month: won value, won deals or deals created.

    The only thing analytics stores; everything it compares the target with is computed.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sales_targets"
    )
    month = models.DateField(help_text="the first day of the month the target is for")
    metric = models.CharField(max_length=12, choices=TargetMetric.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["month", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "month", "metric"], name="sales_target_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.month:%Y-%m} {self.metric}: {self.amount}"
