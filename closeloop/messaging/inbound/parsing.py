"""Reading a raw message (bytes from IMAP) into plain values, whatever shape it comes in.

Headers are decoded from RFC 2047; bodies from their declared charset, falling back to a
guess and then to replacement characters, so a wrong or unknown charset never loses a
message. HTML-only mail gets a readable text version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from charset_normalizer import from_bytes
from django.utils import timezone

from ..html_mail import html_to_text

MSGID = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class ParsedMail:
    """What the routing needs from one message."""

    message_id: str
    from_name: str
    from_email: str
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    subject: str
    sent_at: dt.datetime | None
    in_reply_to: str
    references: list[str]
    text: str
    html: str
    attachments: list[Attachment] = field(default_factory=list)
    message: Message | None = None  # the parsed MIME tree, for classification


def header_text(message: Message, name: str) -> str:
    """A header's decoded text; a header with a broken encoding is decoded as far as it goes."""
    raw = message.get(name)
    if raw is None:
        return ""
    try:
        text = str(raw)
    except (LookupError, UnicodeError, ValueError):
        text = ""
    if not text or "=?" in text:
        try:
            text = str(make_header(decode_header(str(getattr(raw, "_value", raw)))))
        except (LookupError, UnicodeError, ValueError):
            text = text or str(getattr(raw, "_value", raw))
    return " ".join(text.replace("\x00", "").split())


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    values = [header_text(message, name)] if message.get(name) else []
    return [(n, a.strip().lower()) for n, a in getaddresses(values) if "@" in a]


def message_ids(value: str) -> list[str]:
    """The Message-IDs named in an In-Reply-To or References header, angle brackets kept."""
    return [f"<{m}>" for m in MSGID.findall(value or "")]


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Text from bytes in a declared charset; unknown or wrong charsets fall back to a guess."""
    if charset:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    guess = from_bytes(payload).best()
    if guess is not None:
        return str(guess)
    return payload.decode("latin-1")


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload() or "")
    return decode_bytes(payload, part.get_content_charset())


def _walk(message: Message) -> tuple[str, str, list[Attachment]]:
    text, html, attachments = "", "", []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        try:
            filename = part.get_filename() or ""
        except (LookupError, UnicodeError, ValueError):
            filename = "attachment"
        disposition = part.get_content_disposition()
        if filename or disposition == "attachment":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                name = " ".join(filename.replace("\x00", "").split()) or "attachment"
                attachments.append(Attachment(name[:255], content_type, payload))
        elif content_type == "text/plain" and not text:
            text = _part_text(part)
        elif content_type == "text/html" and not html:
            html = _part_text(part)
    return text, html, attachments


def synthetic_message_id(message: Message, body: str) -> str:
    """A stable ID for a message that has none: a hash of its main headers and its text."""
    digest = hashlib.sha256()
    for name in ("From", "To", "Cc", "Date", "Subject"):
        digest.update(header_text(message, name).encode() + b"\n")
    digest.update(body.encode())
    return f"<{digest.hexdigest()[:40]}@closeloop.invalid>"


def _date(message: Message) -> dt.datetime | None:
    value = header_text(message, "Date")
    if not value:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if date is None:
        return None
    return date if timezone.is_aware(date) else timezone.make_aware(date, dt.UTC)


def mail_parse(raw: bytes) -> ParsedMail:
    """Parse one raw message; never raises on odd charsets or headers."""
    message = message_from_bytes(raw, policy=policy.default)
    text, html, attachments = _walk(message)
    if not text.strip() and html:
        text = html_to_text(html)
    # PostgreSQL text cannot hold NUL characters; mislabelled UTF-16 mail is full of them.
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    html = html.replace("\x00", "")
    message_id = (message_ids(header_text(message, "Message-ID")) or [""])[0]
    if not message_id or len(message_id) > 255:
        message_id = synthetic_message_id(message, text)
    from_name, from_email = parseaddr(header_text(message, "From"))
    in_reply_to = (message_ids(header_text(message, "In-Reply-To")) or [""])[0]
    return ParsedMail(
        message_id=message_id,
        from_name=from_name.strip().strip('"')[:200],
        from_email=from_email.strip().lower()[:320],
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        subject=header_text(message, "Subject")[:300],
        sent_at=_date(message),
        in_reply_to=in_reply_to[:255],
        references=message_ids(header_text(message, "References")),
        text=text,
        html=html,
        attachments=attachments,
        message=message,
    )
