"""Sending one outbox message through SMTP, claimed first so no two workers send it."""

from __future__ import annotations

import smtplib
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import F
from django.utils import timezone

from closeloop.core.exceptions import DomainError

from .choices import AttemptOutcome, MessageState
from .models import Message, SendAttempt

SCHEMES = {"smtp": (25, False, False), "smtp+tls": (587, True, False), "smtps": (465, False, True)}


def smtp_connection(email_url: str) -> BaseEmailBackend:
    """An SMTP connection from EMAIL_URL: smtp://, smtp+tls:// (STARTTLS) or smtps:// (TLS)."""
    parts = urlsplit(email_url)
    if parts.scheme not in SCHEMES:
        raise DomainError(
            f"EMAIL_URL must start with smtp://, smtp+tls:// or smtps://, not {parts.scheme}://.",
            field="EMAIL_URL",
        )
    default_port, use_tls, use_ssl = SCHEMES[parts.scheme]
    timeout = float(parse_qs(parts.query).get("timeout", ["30"])[0])
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=parts.hostname or "localhost",
        port=parts.port or default_port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=use_tls,
        use_ssl=use_ssl,
        timeout=timeout,
        fail_silently=False,
    )


def message_build(message: Message) -> EmailMultiAlternatives:
    """The MIME message as it goes out: text part, optional HTML part, attachments, headers."""
    headers = {**message.headers, "Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=message.from_email,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    return email


def message_send(*, message_id: int) -> str:
    """Send a queued message once: claim it, hand it to the server, record the answer.

    The claim is a conditional UPDATE, so of two workers given the same message only one
    sends it; the other sees it already claimed and leaves it.
    """
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, state__in=[MessageState.QUEUED, MessageState.RETRYING]
    ).update(state=MessageState.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    message = Message.objects.get(pk=message_id)
    if not claimed:
        return message.state
    attempt = SendAttempt.objects.create(message=message, started_at=now)
    if not settings.EMAIL_URL:
        _finish(message, attempt, MessageState.NOT_SENT, AttemptOutcome.HELD, None, "")
        return message.state
    try:
        connection = smtp_connection(settings.EMAIL_URL)
        connection.send_messages([message_build(message)])
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        outcome = AttemptOutcome.PERMANENT if exc.smtp_code >= 500 else AttemptOutcome.TEMPORARY
        _finish(message, attempt, MessageState.FAILED, outcome, exc.smtp_code, text)
    except (OSError, smtplib.SMTPException) as exc:
        _finish(message, attempt, MessageState.FAILED, AttemptOutcome.TEMPORARY, None, str(exc))
    else:
        _finish(message, attempt, MessageState.SENT, AttemptOutcome.SENT, 250, "")
    return message.state


def _finish(
    message: Message,
    attempt: SendAttempt,
    state: str,
    outcome: str,
    code: int | None,
    response: str,
) -> None:
    now = timezone.now()
    attempt.finished_at, attempt.outcome = now, outcome
    attempt.smtp_code, attempt.response = code, response
    attempt.save()
    message.state, message.last_error = state, response
    if state == MessageState.SENT:
        message.sent_at = now
    message.save(update_fields=["state", "last_error", "sent_at", "updated_at"])
