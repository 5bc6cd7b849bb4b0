from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models

from closeloop.core.models import TimestampedModel
from closeloop.core.zones import zone_or_default

from .choices import RepVisibility, Role, TokenScope


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("role", Role.ADMIN)
        return self.create_user(email, password, **extra)


class Team(TimestampedModel):
    """A group of users; managers see the records of the teams they belong to."""

    name = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser):
    """A person who logs in with their email; their role decides what they may see."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.REP)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    signature = models.TextField(blank=True)
    # IANA name ("Europe/Berlin"); empty means the server's TIME_ZONE. Pages, invites, booking
    # availability and the morning digest are in this zone.
    time_zone = models.CharField(max_length=64, blank=True)
    # the secret in the private calendar feed URL; a new one revokes every old URL, 0 = no feed
    calendar_feed_key = models.BigIntegerField(default=0)
    # minutes before a meeting, demo or call its owner is emailed a reminder; 0 = off
    reminder_minutes = models.PositiveSmallIntegerField(default=30)
    # the morning digest of the day's and overdue work, sent once a local day after digest_hour
    digest_enabled = models.BooleanField(default=False)
    digest_hour = models.PositiveSmallIntegerField(default=7)
    digest_sent_on = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def zone(self) -> ZoneInfo:
        """The user's time zone, falling back to the server's when unset or no longer known."""
        return zone_or_default(self.time_zone)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    @property
    def initials(self) -> str:
        parts = self.display_name.replace(".", " ").split()
        return "".join(p[0] for p in parts[:2]).upper() or "?"

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_manager(self) -> bool:
        return self.is_active and self.role == Role.MANAGER

    # Django admin access follows the role: only admins get in, and they get everything.
    @property
    def is_staff(self) -> bool:
        return self.is_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_admin

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_admin

    def has_perms(self, perm_list: Any, obj: object = None) -> bool:
        return self.is_admin

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_admin


class WorkspaceSettings(TimestampedModel):
    """The one row of workspace-wide settings (name, base currency, what reps see)."""

    name = models.CharField(max_length=120, default="My company")
    base_currency = models.CharField(max_length=3, default="")
    rep_visibility = models.CharField(
        max_length=8, choices=RepVisibility.choices, default=RepVisibility.OWN
    )
    qualify_threshold = models.PositiveSmallIntegerField(
        default=60, help_text="scorecard score (0–100) from which a lead is sales-qualified"
    )
    # users' emails go out From their own address (only where EMAIL_ALLOW_USER_FROM says the
    # mail server accepts it); otherwise From the workspace address, "Ann via Closeloop"
    send_as_user = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "workspace settings"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1  # a singleton: there is only ever one workspace per install
        if not self.base_currency:
            self.base_currency = settings.BASE_CURRENCY
        super().save(*args, **kwargs)


class ApiToken(TimestampedModel):
    """A secret that lets a program act as a user through the REST API.

    Only a SHA-256 digest is stored; the token itself is shown once, when it is created.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="first characters, to recognise it")
    digest = models.CharField(max_length=64, unique=True)
    # a read-only token is refused (403) on every POST, PUT, PATCH and DELETE
    scope = models.CharField(
        max_length=10, choices=TokenScope.choices, default=TokenScope.READ_WRITE
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def is_read_only(self) -> bool:
        return self.scope == TokenScope.READ
