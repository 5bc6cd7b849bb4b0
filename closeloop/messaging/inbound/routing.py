"""Recording one received message: where it belongs, and the lead or timeline entry it makes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.services import MAX_NOTE_LENGTH, activity_create
from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import FREE_MAIL_DOMAINS
from closeloop.leads.models import Lead, Source
from closeloop.leads.services import (
    LeadInput,
    email_domain,
    lead_create,
    organization_for_domain,
    source_create,
)
from closeloop.people.models import Contact
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal

from ..choices import MessageState
from ..models import Message
from .classify import bounce_details, mail_classify
from .config import mailbox_address
from .models import MailKind, MailOutcome, ReceivedAttachment, ReceivedMessage
from .parsing import ParsedMail, mail_parse

EMAIL_SOURCE_NAME = "Email"
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_RECIPIENT_LEADS = 10  # a BCC on a mass mail must not create a lead per address
FORWARDED_FROM = re.compile(r"(?im)^\s*>?\s*(?:from|von|de):\s*(.+@.+)$")


@dataclass
class RecordResult:
    """What recording one message did."""

    received: ReceivedMessage
    created: bool
    leads_created: int = 0
    activities_added: int = 0


@dataclass
class _Target:
    lead: Lead | None = None
    contact: Contact | None = None
    deal: Deal | None = None
    organization: Any = None
    lead_created: bool = False


def email_source() -> Source:
    """The lead source of mail-made leads, created if a workspace has lost it."""
    source = Source.objects.filter(name__iexact=EMAIL_SOURCE_NAME).first()
    if source is None:
        source = source_create(actor=None, name=EMAIL_SOURCE_NAME)
    return source


def company_name_for_domain(domain: str) -> str:
    """A company name from a mail domain (acme-tools.co.uk → Acme Tools); none for free-mail."""
    if not domain or domain in FREE_MAIL_DOMAINS:
        return ""
    organization = organization_for_domain(domain)
    if organization is not None:
        return organization.name
    labels = domain.split(".")
    main = labels[-3] if len(labels) >= 3 and len(labels[-2]) <= 3 else labels[0]
    if len(labels) >= 2 and main == labels[-1]:
        main = labels[-2]
    return " ".join(word.capitalize() for word in re.split(r"[-_]", main) if word)[:200]


def _open_deal(**where: Any) -> Deal | None:
    return Deal.objects.filter(status=DealStatus.OPEN, **where).order_by("-created_at").first()


def _known(email: str) -> _Target | None:
    """The contact (first: it is the later stage) or lead with this address, and its open deal."""
    contact = Contact.objects.filter(emails__email=email).order_by("pk").first() if email else None
    if contact is not None:
        return _Target(contact=contact, deal=_open_deal(contact=contact))
    lead = Lead.objects.filter(email=email).order_by("-created_at").first() if email else None
    if lead is not None:
        return _Target(lead=lead, deal=_open_deal(lead=lead))
    return None


def _new_lead(name: str, email: str, *, owner: User | None) -> _Target | None:
    first, _, last = " ".join(name.replace('"', "").split()).partition(" ")
    if "@" in first:
        first = ""
    data = LeadInput(
        first_name=first[:100],
        last_name=last[:100],
        email=email,
        company_name=company_name_for_domain(email_domain(email)),
        source=email_source(),
        owner=owner if owner is not None and owner.is_active else None,
    )
    try:
        with transaction.atomic():
            result = lead_create(actor=None, data=data)
    except DomainError:
        return None
    return _Target(lead=result.lead, lead_created=True)


def _timeline_body(parsed: ParsedMail, replied: Message | None) -> str:
    sender = f"{parsed.from_name} <{parsed.from_email}>" if parsed.from_name else parsed.from_email
    lines = [f"From: {sender}"]
    if replied is not None:
        when = timezone.localtime(replied.sent_at or replied.created_at)
        lines.append(f"In reply to: “{replied.subject}” ({when:%d %b %Y %H:%M})")
    if parsed.to:
        lines.append("To: " + ", ".join(a for _, a in parsed.to))
    if parsed.attachments:
        lines.append("Attachments: " + ", ".join(a.filename for a in parsed.attachments))
    body = "\n".join(lines) + "\n\n" + parsed.text
    return body[:MAX_NOTE_LENGTH]


def _add(
    parsed: ParsedMail, target: _Target, *, actor: User | None, replied: Message | None = None
) -> Activity:
    return activity_create(
        actor=actor,
        kind=ActivityKind.EMAIL,
        subject=parsed.subject or "(no subject)",
        body=_timeline_body(parsed, replied),
        lead=target.lead,
        contact=target.contact,
        deal=target.deal,
        organization=target.organization,
    )


def _thread(parsed: ParsedMail) -> tuple[Message | None, _Target | None]:
    """Our outgoing message (or an earlier received one) this message answers, and its records."""
    ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
    if not ids:
        return None, None
    ours = {m.message_id: m for m in Message.objects.filter(message_id__in=ids)}
    # In-Reply-To first, then References from the newest: the closest message of ours wins.
    message = next((ours[i] for i in ids if i in ours), None)
    if message is not None:
        records = _Target(
            lead=message.lead,
            contact=message.contact,
            deal=message.deal,
            organization=message.organization,
        )
        return message, records if any(vars(records).values()) else None
    earlier = (
        ReceivedMessage.objects.filter(message_id__in=ids, activity__isnull=False)
        .order_by("-created_at")
        .first()
    )
    if earlier is not None:
        return earlier.reply_to, _Target(
            lead=earlier.lead,
            contact=earlier.contact,
            deal=earlier.deal,
            organization=earlier.organization,
        )
    return None, None


def _outside_recipients(parsed: ParsedMail) -> list[tuple[str, str]]:
    ours = {mailbox_address().lower(), parsed.from_email}
    addresses = [a for _, a in parsed.to + parsed.cc]
    ours |= set(User.objects.filter(email__in=addresses).values_list("email", flat=True))
    seen: dict[str, tuple[str, str]] = {}
    for name, address in parsed.to + parsed.cc:
        if address not in ours and address not in seen:
            seen[address] = (name, address)
    if not seen:
        # A forward from a user: the original sender is named in the forwarded text.
        for line in FORWARDED_FROM.findall(parsed.text):
            name, address = parseaddr(line)
            address = address.lower()
            if "@" in address and address not in ours:
                seen[address] = (name, address)
                break
    return list(seen.values())[:MAX_RECIPIENT_LEADS]


def _store(
    parsed: ParsedMail, kind: str, folder: str, uidvalidity: Any, uid: Any
) -> ReceivedMessage:
    received = ReceivedMessage.objects.create(
        message_id=parsed.message_id,
        folder=folder[:200],
        uidvalidity=uidvalidity,
        uid=uid,
        from_name=parsed.from_name,
        from_email=parsed.from_email,
        to=[a for _, a in parsed.to],
        cc=[a for _, a in parsed.cc],
        subject=parsed.subject,
        sent_at=parsed.sent_at,
        in_reply_to=parsed.in_reply_to,
        references=" ".join(parsed.references),
        text_body=parsed.text,
        html_body=parsed.html,
        kind=kind,
        outcome=MailOutcome.IGNORED,
    )
    for attachment in parsed.attachments:
        if len(attachment.content) > MAX_ATTACHMENT_BYTES:
            continue
        stored = ReceivedAttachment(
            message=received,
            filename=attachment.filename,
            content_type=attachment.content_type[:120],
            size=len(attachment.content),
        )
        stored.file.save(attachment.filename, ContentFile(attachment.content), save=False)
        stored.save()
    return received


def _link(received: ReceivedMessage, target: _Target, activity: Activity | None) -> None:
    received.lead = target.lead or (activity.lead if activity else None)
    received.contact = target.contact or (activity.contact if activity else None)
    received.deal = target.deal or (activity.deal if activity else None)
    received.organization = activity.organization if activity else target.organization
    received.activity = activity


def _record_bounce(parsed: ParsedMail, received: ReceivedMessage, result: RecordResult) -> None:
    ids, reason = bounce_details(parsed)
    received.outcome = MailOutcome.BOUNCE
    bounced = list(Message.objects.filter(message_id__in=ids))
    if not bounced:
        received.note = "A bounce naming none of our messages."
        return
    reason = reason or "Returned by the recipient's mail server."
    Message.objects.filter(pk__in=[m.pk for m in bounced]).update(
        state=MessageState.BOUNCED, last_error=reason
    )
    received.reply_to = bounced[0]
    received.note = f"Bounced: {bounced[0].subject}"[:300]
    for message in bounced:
        if any((message.lead, message.contact, message.deal, message.organization)):
            activity = activity_create(
                actor=None,
                kind=ActivityKind.EMAIL,
                subject=f"Bounced: {message.subject}",
                body=f"The email to {', '.join(message.to)} came back undelivered: {reason}",
                lead=message.lead,
                contact=message.contact,
                deal=message.deal,
                organization=message.organization,
            )
            result.activities_added += 1
            if received.activity is None:
                _link(received, _Target(), activity)


def _route_personal(parsed: ParsedMail, received: ReceivedMessage, result: RecordResult) -> None:
    replied, target = _thread(parsed)
    received.reply_to = replied
    if target is not None:
        received.outcome = MailOutcome.REPLY
        _link(received, target, _add(parsed, target, actor=None, replied=replied))
        result.activities_added += 1
        return
    user = User.objects.filter(email=parsed.from_email, is_active=True).first()
    if user is not None:
        _route_from_user(parsed, received, result, user)
        return
    target = _known(parsed.from_email)
    if target is not None:
        received.outcome = MailOutcome.KNOWN_SENDER
    else:
        target = _new_lead(parsed.from_name, parsed.from_email, owner=None)
        if target is None:
            received.note = f"No lead made: “{parsed.from_email}” is not a usable address."
            return
        received.outcome = MailOutcome.LEAD_CREATED
        result.leads_created += 1
    _link(received, target, _add(parsed, target, actor=None))
    result.activities_added += 1


def _route_from_user(
    parsed: ParsedMail, received: ReceivedMessage, result: RecordResult, user: User
) -> None:
    """Mail a user sent with the mailbox in BCC (or forwarded): it belongs to the other side."""
    recipients = _outside_recipients(parsed)
    if not recipients:
        received.note = f"Sent by {user.email} to no one outside the workspace."
        return
    received.outcome = MailOutcome.FROM_USER
    for name, address in recipients:
        target = _known(address) or _new_lead(name, address, owner=user)
        if target is None:
            continue
        result.leads_created += int(target.lead_created)
        activity = _add(parsed, target, actor=user)
        result.activities_added += 1
        if received.activity is None:
            _link(received, target, activity)


@transaction.atomic
def received_message_record(
    *, raw: bytes, folder: str = "INBOX", uidvalidity: int | None = None, uid: int | None = None
) -> RecordResult:
    """Record one message from the mailbox once (by Message-ID) and put it where it belongs.

    A reply to our mail goes on that mail's records; mail from a user (BCC or forward) on the
    recipients'; mail from a known lead or contact on theirs and their open deal's; anything
    else personal becomes a lead (source Email). Bounces mark our bounced message; auto-replies
    and list mail are only recorded.
    """
    parsed = mail_parse(raw)
    known = ReceivedMessage.objects.filter(message_id=parsed.message_id).first()
    if known is not None:
        return RecordResult(received=known, created=False)
    kind = mail_classify(parsed)
    received = _store(parsed, kind, folder, uidvalidity, uid)
    result = RecordResult(received=received, created=True)
    if Message.objects.filter(message_id=parsed.message_id).exists():
        received.note = "A copy of mail sent from Closeloop."
    elif kind == MailKind.BOUNCE:
        _record_bounce(parsed, received, result)
    elif kind != MailKind.PERSONAL:
        received.note = f"{MailKind(kind).label}: recorded, not made a lead."
    else:
        _route_personal(parsed, received, result)
    received.save()
    return result
