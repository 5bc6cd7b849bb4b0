"""Writes of the messaging app: every outgoing email is queued here, in the outbox."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from closeloop.accounts.choices import Role
from closeloop.activities.choices import ActivityKind
from closeloop.activities.services import activity_create
from closeloop.core.exceptions import DomainError
from closeloop.core.uploads import size_text

from .choices import MessageState
from .models import EmailTemplate, Message, MessageAttachment

MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class AttachmentIn:
    """A file to send: its name, bytes and MIME type."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def _addresses(value: str | Iterable[str], *, field: str) -> list[str]:
    """Split and check a recipient list; a bad address is an error naming it and the field."""
    items = value.replace(";", ",").split(",") if isinstance(value, str) else list(value)
    addresses: list[str] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        address = parseaddr(item)[1]
        try:
            validate_email(address)
        except ValidationError:
            raise DomainError(f"“{item}” is not a valid email address.", field=field) from None
        if item not in addresses:
            addresses.append(item)
    if len(addresses) > MAX_RECIPIENTS:
        raise DomainError(f"At most {MAX_RECIPIENTS} recipients per field.", field=field)
    return addresses


def _msgid_domain(from_email: str) -> str:
    address = parseaddr(from_email)[1]
    return address.rpartition("@")[2] or "closeloop.localhost"


@transaction.atomic
def message_queue(
    *,
    actor: Any,
    to: str | Iterable[str],
    subject: str,
    text_body: str,
    html_body: str = "",
    cc: str | Iterable[str] = (),
    bcc: str | Iterable[str] = (),
    attachments: Sequence[AttachmentIn] = (),
    from_email: str = "",
    reply_to: str = "",
    headers: dict[str, str] | None = None,
    in_reply_to: str = "",
    references: str = "",
    template: EmailTemplate | None = None,
    lead: Any = None,
    contact: Any = None,
    deal: Any = None,
    organization: Any = None,
    timeline: bool = True,
    marketing: bool = False,
) -> Message:
    """Put an email in the outbox and have the worker send it; it shows on the records' timelines.

    Every email leaves through here, so each one is stored with its recipients, bodies,
    attachments and Message-ID before any mail server sees it. A message always has a text
    part; the HTML part is optional.
    """
    to_list = _addresses(to, field="to")
    if not to_list:
        raise DomainError("Add at least one recipient.", field="to")
    cc_list = _addresses(cc, field="cc")
    bcc_list = _addresses(bcc, field="bcc")
    subject = " ".join((subject or "").split())
    if not subject:
        raise DomainError("The subject cannot be empty.", field="subject")
    if len(subject) > 300:
        raise DomainError("The subject can be at most 300 characters long.", field="subject")
    if not (text_body or "").strip():
        raise DomainError("The message cannot be empty.", field="text_body")
    if sum(len(a.content) for a in attachments) > settings.EMAIL_ATTACHMENTS_MAX_BYTES:
        raise DomainError(
            f"Attachments can be at most {size_text(settings.EMAIL_ATTACHMENTS_MAX_BYTES)} "
            "together.",
            field="attachments",
        )
    if marketing:
        from .consent import suppressed_among

        blocked = suppressed_among(to_list + cc_list + bcc_list)
        if blocked:
            raise DomainError(
                f"{', '.join(sorted(blocked))} asked for no marketing email.", field="to"
            )
    from_email = from_email or settings.DEFAULT_FROM_EMAIL
    if not reply_to and getattr(actor, "is_authenticated", False):
        reply_to = actor.email
    if reply_to:
        reply_to = _addresses([reply_to], field="reply_to")[0]
    for name, value in (headers or {}).items():
        if "\n" in name or "\r" in name or "\n" in value or "\r" in value:
            raise DomainError(f"The header {name!r} may not contain line breaks.", field="headers")

    if deal is not None:
        contact = contact or deal.contact
        organization = organization or deal.organization
    if contact is not None and organization is None:
        organization = contact.organization

    message = Message.objects.create(
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        from_email=from_email,
        reply_to=reply_to,
        to=to_list,
        cc=cc_list,
        bcc=bcc_list,
        subject=subject,
        text_body=text_body,
        html_body=html_body or "",
        headers=dict(headers or {}),
        marketing=marketing,
        message_id=make_msgid(domain=_msgid_domain(from_email)),
        in_reply_to=in_reply_to,
        references=references,
        template=template,
        lead=lead,
        contact=contact,
        deal=deal,
        organization=organization,
    )
    for attachment in attachments:
        stored = MessageAttachment(
            message=message,
            filename=attachment.filename[:255],
            content_type=attachment.content_type or "application/octet-stream",
            size=len(attachment.content),
        )
        stored.file.save(attachment.filename, ContentFile(attachment.content), save=False)
        stored.save()
    if timeline and any(r is not None for r in (lead, contact, deal, organization)):
        message.activity = activity_create(
            actor=actor,
            kind=ActivityKind.EMAIL,
            subject=subject,
            body=text_body,
            lead=lead,
            contact=contact,
            deal=deal,
            organization=organization,
        )
        message.save(update_fields=["activity"])
    message_enqueue(message=message)
    return message


def message_enqueue(*, message: Message, run_after: Any = None) -> None:
    """Hand the message to the worker once the transaction that stored it has committed."""
    from .tasks import message_send_task

    def enqueue() -> None:
        task = (
            message_send_task if run_after is None else message_send_task.using(run_after=run_after)
        )
        task.enqueue(message_id=message.pk)

    transaction.on_commit(enqueue)


RESENDABLE = (MessageState.FAILED, MessageState.NOT_SENT, MessageState.UNCERTAIN)


@transaction.atomic
def message_resend(*, actor: Any, message: Message) -> Message:
    """Queue a failed, held or uncertain message again, as stored (same Message-ID).

    Only its writer or an admin may; the resend is recorded on the message, and the retry
    schedule starts over.
    """
    if not (actor.role == Role.ADMIN or message.created_by_id == actor.pk):
        raise DomainError("Only the sender or an admin can resend this message.")
    now = timezone.now()
    updated = Message.objects.filter(pk=message.pk, state__in=RESENDABLE).update(
        state=MessageState.QUEUED,
        attempts=0,
        next_attempt_at=None,
        claim_token="",
        handed_at=None,
        resend_count=F("resend_count") + 1,
        resent_at=now,
        resent_by=actor,
        updated_at=now,
    )
    if not updated:
        raise DomainError("Only failed, unsent or uncertain messages can be resent.")
    message.refresh_from_db()
    message_enqueue(message=message)
    return message
