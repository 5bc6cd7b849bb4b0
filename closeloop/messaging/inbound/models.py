"""Models of the lead mailbox: mail received, its attachments, and the poller's state."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from closeloop.core.models import StoredFile, TimestampedModel


class MailKind(models.TextChoices):
    """What a received message is, read from its headers."""

    PERSONAL = "personal", "Personal mail"
    AUTO_REPLY = "auto_reply", "Auto-reply"
    BOUNCE = "bounce", "Bounce"
    MAILING_LIST = "list", "Mailing list"


class MailOutcome(models.TextChoices):
    """What the poller did with a received message."""

    LEAD_CREATED = "lead_created", "Created a lead"
    REPLY = "reply", "Added as a reply to our message"
    KNOWN_SENDER = "known_sender", "Added to the sender's timeline"
    FROM_USER = "from_user", "Sent by a user (BCC): added to the recipients' timelines"
    BOUNCE = "bounce", "Bounce recorded"
    IGNORED = "ignored", "Recorded only"


class ReceivedMessage(TimestampedModel):
    """One message read from the lead mailbox; its Message-ID makes reading it twice a no-op.

    A message without a Message-ID gets a synthetic one from a hash of its headers and body, so
    a rescan after a UIDVALIDITY change recognises it too.
    """

    message_id = models.CharField(max_length=255, unique=True)
    folder = models.CharField(max_length=200, default="INBOX")
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    uid = models.BigIntegerField(null=True, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    from_email = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="the Date header")
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=MailKind.choices, default=MailKind.PERSONAL)
    outcome = models.CharField(max_length=14, choices=MailOutcome.choices)
    note = models.CharField(max_length=300, blank=True, help_text="why, in words")

    # the outgoing message it answers (or, for a bounce, the one that bounced)
    reply_to = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="received_replies",
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deal = models.ForeignKey(
        "pipeline.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(
        "people.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activity = models.OneToOneField(
        "activities.Activity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="received_email",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.subject or self.message_id


class ReceivedAttachment(StoredFile):
    """A file that came with a received message, kept so the timeline can offer it."""

    message = models.ForeignKey(
        ReceivedMessage, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to="messaging/received/%Y/%m/")


class MailboxState(models.Model):
    """The one lead mailbox's position (UIDVALIDITY, last UID read) and health."""

    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    # set while a poll runs, so a second poll started meanwhile leaves the mailbox alone
    polling_since = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"mailbox at UID {self.last_uid}"


class MailboxPoll(models.Model):
    """One poll of the mailbox: when, whether it worked (else why not), and what it did."""

    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    messages_read = models.PositiveIntegerField(default=0)
    already_known = models.PositiveIntegerField(default=0)
    leads_created = models.PositiveIntegerField(default=0)
    activities_added = models.PositiveIntegerField(default=0)
    ignored = models.PositiveIntegerField(default=0)
    rescanned = models.BooleanField(default=False, help_text="UIDVALIDITY changed: read it all")

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"poll {self.started_at:%Y-%m-%d %H:%M}"
