"""Booking links: public pages where visitors book a rep's (or a team's) free time."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from closeloop.core.models import TimestampedModel

from ..choices import ActivityKind


class BookingPage(TimestampedModel):
    """A public page /book/<slug>/ of one rep, or of a team whose members take turns."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="booking_page",
    )
    team = models.OneToOneField(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="booking_page",
    )
    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120)
    intro = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                name="booking_page_owner_xor_team",
                condition=(
                    models.Q(owner__isnull=False, team__isnull=True)
                    | models.Q(owner__isnull=True, team__isnull=False)
                ),
            )
        ]

    def __str__(self) -> str:
        return self.title


class MeetingKind(models.TextChoices):
    MEETING = ActivityKind.MEETING.value, "Meeting"
    DEMO = ActivityKind.DEMO.value, "Demo"


class MeetingType(TimestampedModel):
    """Something a visitor can book on a page: how long, where, and how it fits a calendar."""

    page = models.ForeignKey(BookingPage, on_delete=models.CASCADE, related_name="meeting_types")
    name = models.CharField(max_length=120)
    duration_minutes = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    kind = models.CharField(max_length=10, choices=MeetingKind.choices, default=MeetingKind.MEETING)
    location = models.CharField(max_length=300, blank=True, help_text="a place or a video link")
    buffer_before_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(240)]
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(240)]
    )
    notice_hours = models.PositiveSmallIntegerField(
        default=4, validators=[MaxValueValidator(24 * 60)]
    )
    horizon_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["page", "duration_minutes", "name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"


class AvailabilityRule(models.Model):
    """A weekly stretch a user takes bookings, on their own wall clock (User.time_zone).

    Rules belong to the user, not to a page: the same hours serve their own page and every team
    page they are a member of.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_rules"
    )
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (0, "Monday"),
            (1, "Tuesday"),
            (2, "Wednesday"),
            (3, "Thursday"),
            (4, "Friday"),
            (5, "Saturday"),
            (6, "Sunday"),
        ]
    )
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["user", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                name="availability_rule_start_before_end",
                condition=models.Q(start_time__lt=models.F("end_time")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class Booking(TimestampedModel):
    """A meeting a visitor booked: who with, who they are, and the meeting it created."""

    meeting_type = models.ForeignKey(MeetingType, on_delete=models.PROTECT, related_name="bookings")
    activity = models.OneToOneField(
        "activities.Activity", on_delete=models.CASCADE, related_name="booking"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    visitor_name = models.CharField(max_length=150)
    visitor_email = models.EmailField()
    visitor_company = models.CharField(max_length=200, blank=True)
    visitor_question = models.TextField(blank=True)
    visitor_time_zone = models.CharField(max_length=64)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["assigned_to", "created_at"], name="booking_by_rep")]

    def __str__(self) -> str:
        return f"{self.visitor_name} – {self.meeting_type.name}"


class BookingLock(models.Model):
    """One row per rep, updated at the start of each booking of their time.

    The UPDATE holds a row lock until commit on PostgreSQL and takes the write lock on SQLite,
    so two bookings of the same rep run one after the other and the second sees the first.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="booking_lock",
    )
    locked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"booking lock of user {self.user_id}"
