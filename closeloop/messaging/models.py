from __future__ import annotations

from django.conf import settings
from django.db import models

from closeloop.core.models import StoredFile, TimestampedModel

from .choices import AttemptOutcome, MessageState, SuppressionReason


class EmailTemplate(TimestampedModel):
    """A reusable email: subject, text and HTML bodies with merge fields (contact first name…)."""

    name = models.CharField(max_length=120, unique=True)
    subject = models.CharField(max_length=300)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Message(TimestampedModel):
    """One outgoing email in the outbox: what is sent, to whom, for which record, and its state.

    The Message-ID is fixed when the message is queued, so a resend after a crash carries the
    same ID and replies can be threaded under it.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sent_messages",
    )
    from_email = models.CharField(max_length=320)
    reply_to = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField(blank=True)
    # extra headers (List-Unsubscribe, …) as name → value
    headers = models.JSONField(default=dict, blank=True)
    # promotional mail: checked against the suppression list at every send attempt, so an
    # unsubscribe also stops what is already queued
    marketing = models.BooleanField(default=False)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    template = models.ForeignKey(
        EmailTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )

    state = models.CharField(
        max_length=10, choices=MessageState.choices, default=MessageState.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # which worker's claim this is: every write after the claim is conditional on it, so a
    # worker whose claim a sweep took back cannot hand the message over or overwrite the outcome
    claim_token = models.CharField(max_length=32, blank=True)
    # set (committed) just before the server is given the message body; a claim left behind with
    # it set may have been delivered, one without it certainly was not
    handed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    resend_count = models.PositiveSmallIntegerField(default=0)
    resent_at = models.DateTimeField(null=True, blank=True)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # the records it concerns; its timeline entry shows on each of them
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    deal = models.ForeignKey(
        "pipeline.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    organization = models.ForeignKey(
        "people.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    activity = models.OneToOneField(
        "activities.Activity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="email_message",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "created_at"])]

    def __str__(self) -> str:
        return self.subject


class MessageAttachment(StoredFile):
    """A file sent with a message, stored so the outbox can show and resend it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="messaging/attachments/%Y/%m/")


class SendAttempt(models.Model):
    """One try at handing a message to the mail server, and the server's answer."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="send_attempts")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices, blank=True)
    smtp_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.TextField(blank=True)
    handed_at = models.DateTimeField(null=True, blank=True)
    # recipients the server refused while taking the others: address → "code answer"
    refused = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["started_at", "pk"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.outcome}"


# The lead mailbox's models live in their own module; importing them here registers them.
from .inbound.models import (  # noqa: E402
    MailboxPoll,
    MailboxState,
    ReceivedAttachment,
    ReceivedMessage,
)

__all__ = [
    "ConsentChange",
    "EmailTemplate",
    "MailboxPoll",
    "MailboxState",
    "Message",
    "MessageAttachment",
    "ReceivedAttachment",
    "ReceivedMessage",
    "SendAttempt",
    "Suppression",
]


class ConsentChange(models.Model):
    """A marketing consent given or withdrawn: by whom, when and how (the record of proof)."""

    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(blank=True)
    granted = models.BooleanField()
    at = models.DateTimeField()
    source = models.CharField(max_length=200, help_text="e.g. web form, unsubscribe link, import")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.email}: {'granted' if self.granted else 'withdrawn'} ({self.source})"


class Suppression(TimestampedModel):
    """An address that receives no marketing email, whatever its consent flag says.

    The address of an erased person is kept only as its SHA-256 (`email_hash`, `email` empty):
    enough to recognise it and never mail it again, not enough to read it back."""

    email = models.EmailField(unique=True, null=True, blank=True, help_text="stored lower-case")
    email_hash = models.CharField(max_length=64, blank=True, db_index=True)
    reason = models.CharField(max_length=12, choices=SuppressionReason.choices)
    source = models.CharField(max_length=200, blank=True)
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.email or f"(erased) {self.email_hash[:12]}…"
