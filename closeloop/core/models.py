from __future__ import annotations

from typing import Self

from django.db import models
from django.utils import timezone


class TimestampedModel(models.Model):
    """Every record knows when it was created and last changed."""

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class StoredFile(models.Model):
    """A stored file's name, type and size as it came; the concrete model adds `file` and owner."""

    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120, default="application/octet-stream")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.filename


class TrashQuerySet(models.QuerySet):
    def alive(self) -> Self:
        return self.filter(deleted_at__isnull=True)

    def trashed(self) -> Self:
        return self.filter(deleted_at__isnull=False)


class TrashableModel(TimestampedModel):
    """Deleting puts a record in the trash (deleted_at set); it is restorable until purged.

    `objects` hides trashed rows so no list, board or report shows them by accident;
    `with_trashed` sees them, for the trash page and restore.
    """

    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    deleted_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def is_trashed(self) -> bool:
        return self.deleted_at is not None


class AliveManager(models.Manager):
    """Leaves trashed rows out; use as `AliveManager.from_queryset(SomeQuerySet)()`."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


class ScheduledJob(models.Model):
    """When a periodic job (closeloop.core.schedule) next runs and when it was last enqueued."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuditAction(models.TextChoices):
    CREATE = "create", "created"
    UPDATE = "update", "changed"
    DELETE = "delete", "moved to the trash"
    RESTORE = "restore", "restored"
    PURGE = "purge", "deleted for good"
    MERGE = "merge", "merged"
    IMPORT = "import", "imported"
    EXPORT = "export", "exported (personal data)"
    ERASE = "erase", "erased (personal data)"


class AuditEntry(models.Model):
    """One write to a record: who, when, what (closeloop.core.audit writes them, services call it).

    Entries outlive their record (a purge is logged too), so the record is named by content type
    and id with its label at the time, and the actor's name is kept beside the link to the user.
    """

    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.BigIntegerField()
    object_label = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    changes = models.JSONField(default=dict, blank=True)
    # the record's version after this write (records that carry one): a stale edit finds the
    # entries written since the version it was based on, to show who changed what
    record_version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # one record's history, newest first
            models.Index(
                fields=["content_type", "object_id", "-created_at"], name="audit_record_idx"
            ),
            # the admin log: newest first, narrowed by user
            models.Index(fields=["-created_at"], name="audit_created_idx"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label or 'system'} {self.get_action_display()} {self.object_label}"

    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field label, before, after) for display, foreign keys by their label."""
        model = self.content_type.model_class()
        rows = []
        for name, pair in (self.changes or {}).items():
            label = name.replace("_", " ")
            # a field removed since the entry was written keeps its bare name
            fields = {f.name: f for f in model._meta.concrete_fields} if model else {}
            if name in fields:
                label = str(fields[name].verbose_name)
            pair = pair if isinstance(pair, list) and len(pair) == 2 else [None, pair]
            before, after = pair
            rows.append(
                (label[:1].upper() + label[1:], audit_value_shown(before), audit_value_shown(after))
            )
        return rows


def audit_value_shown(value: object) -> str:
    """A logged value in words: a record by its label, nothing as a dash, lists joined."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and "label" in value:
        return str(value["label"])
    if isinstance(value, list):
        return ", ".join(audit_value_shown(v) for v in value)
    return str(value)
