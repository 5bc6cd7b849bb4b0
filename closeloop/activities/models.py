from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils import timezone

from closeloop.core.models import TimestampedModel
from closeloop.core.zones import zone_or_default

from .choices import ActivityKind, ActivityOutcome


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

    # planned work (calls, meetings, demos, tasks): when it starts (or is due) and ends, in
    # which zone it was planned, where, who does it, and how it ended. It is open while
    # done_at is empty and it has no outcome.
    due_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    location = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=ActivityOutcome.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_activities",
    )
    # calendar invites: one UID for the meeting's whole life, SEQUENCE bumped on each change
    ics_uid = models.CharField(max_length=255, blank=True)
    ics_sequence = models.PositiveIntegerField(default=0)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    # a change entry (rescheduled, done, cancelled) names the planned activity it is about,
    # so the activity's page can show its own history
    about = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="changes"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "activities"
        indexes = [
            # "My work", reminders and the busy times of booking pages: open work by owner and time
            models.Index(
                fields=["owner", "due_at"],
                name="activity_open_by_owner",
                condition=models.Q(done_at__isnull=True, outcome="", due_at__isnull=False),
            ),
            # every open deal's next step
            models.Index(
                fields=["deal", "due_at"],
                name="activity_open_by_deal",
                condition=models.Q(done_at__isnull=True, outcome="", due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.get_kind_display()

    @property
    def is_planned(self) -> bool:
        return self.due_at is not None

    @property
    def is_open(self) -> bool:
        return self.due_at is not None and self.done_at is None and not self.outcome

    @property
    def state(self) -> str:
        """open, overdue, done or cancelled (empty for notes and other unplanned entries)."""
        if self.due_at is None:
            return ""
        if self.outcome == ActivityOutcome.CANCELLED:
            return "cancelled"
        if self.done_at is not None or self.outcome:
            return "done"
        return "overdue" if self.due_at < timezone.now() else "open"

    @property
    def zone(self) -> ZoneInfo:
        """The zone the activity was planned in (its owner's when it names none)."""
        if self.time_zone:
            return zone_or_default(self.time_zone)
        return self.owner.zone if self.owner else zone_or_default("")


class ActivityAttendee(models.Model):
    """Someone invited to a meeting: a user, a contact or a lead, with the address invited."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["user", "activity"])]

    def __str__(self) -> str:
        return self.name or self.email


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


# Booking links live in their own package; their models are this app's (one migration history).
from .booking.models import (  # noqa: E402
    AvailabilityRule,
    Booking,
    BookingLock,
    BookingPage,
    MeetingType,
)

__all__ = [
    "Activity",
    "ActivityAttendee",
    "AvailabilityRule",
    "Booking",
    "BookingLock",
    "BookingPage",
    "MeetingType",
    "Notification",
]
