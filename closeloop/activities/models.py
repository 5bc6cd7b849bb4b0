from __future__ import annotations

from django.conf import settings
from django.db import models

from closeloop.core.models import TimestampedModel

from .choices import ActivityKind


class Activity(TimestampedModel):
    """Something that happened or is planned on a record (note, call, change…): the timeline.

    An activity may concern several records at once (a note on a deal also shows on its
    contact and organization), so it links each kind of record directly.
    """

    kind = models.CharField(max_length=10, choices=ActivityKind.choices, default=ActivityKind.NOTE)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    deal = models.ForeignKey(
        "pipeline.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    contact = models.ForeignKey(
        "people.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    organization = models.ForeignKey(
        "people.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()
