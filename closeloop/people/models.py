from __future__ import annotations

from django.conf import settings
from django.db import models

from closeloop.accounts.visibility import VisibleQuerySet
from closeloop.core.models import AliveManager, TimestampedModel, TrashableModel, TrashQuerySet


class PeopleQuerySet(VisibleQuerySet, TrashQuerySet):  # type: ignore[override]
    pass


class Organization(TrashableModel):
    """A company we sell to; unowned organizations are shared with the whole workspace."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, help_text="e.g. example.com")
    website = models.URLField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    address = models.TextField(blank=True)
    industry = models.CharField(max_length=100, blank=True)
    size = models.CharField(max_length=30, blank=True)
    notes = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organizations",
    )
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    import_batch = models.ForeignKey(
        "leads.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = AliveManager.from_queryset(PeopleQuerySet)()
    with_trashed = PeopleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["domain"])]
        base_manager_name = "with_trashed"

    def __str__(self) -> str:
        return self.name


def full_name_of(first_name: str, last_name: str) -> str:
    """How a contact is named on pages and in the API."""
    return f"{first_name} {last_name}".strip() or "(no name)"


class Contact(TrashableModel):
    """A person we talk to, usually at an organization; has several emails and phones."""

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    job_title = models.CharField(max_length=150, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    notes = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    # consent to marketing email: when and how it was given (carried over from the lead)
    marketing_consent = models.BooleanField(default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_method = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    import_batch = models.ForeignKey(
        "leads.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # grows with every write (emails and phones too), so an edit based on a stale copy is
    # refused (closeloop.core.versions)
    version = models.PositiveIntegerField(default=1)

    objects = AliveManager.from_queryset(PeopleQuerySet)()
    with_trashed = PeopleQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        base_manager_name = "with_trashed"

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return full_name_of(self.first_name, self.last_name)

    @property
    def primary_email(self) -> str:
        emails = list(self.emails.all())
        primary = next((e for e in emails if e.is_primary), emails[0] if emails else None)
        return primary.email if primary else ""

    @property
    def primary_phone(self) -> str:
        phones = list(self.phones.all())
        primary = next((p for p in phones if p.is_primary), phones[0] if phones else None)
        return primary.display if primary else ""


class ContactEmail(TimestampedModel):
    """One of a contact's email addresses, stored lower-case so lookups ignore case."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField()
    label = models.CharField(max_length=30, blank=True, default="work")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "pk"]
        indexes = [models.Index(fields=["email"])]
        constraints = [
            models.UniqueConstraint(fields=["contact", "email"], name="contact_email_unique")
        ]

    def __str__(self) -> str:
        return self.email


class ContactPhone(TimestampedModel):
    """A phone number: E.164 when it could be parsed, the raw text always kept."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    raw = models.CharField(max_length=60)
    e164 = models.CharField(max_length=20, blank=True, db_index=True)
    label = models.CharField(max_length=30, blank=True, default="work")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "pk"]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return self.e164 or self.raw
