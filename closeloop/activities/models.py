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

    # planned work (tasks, calls, meetings): when it is due, who does it, when it was done
    due_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_activities",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()


class Notification(models.Model):
    """Something a user should know about (a lead back from nurture, a record assigned to them)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.title
