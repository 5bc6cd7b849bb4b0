"""Telling personal mail from auto-replies, bounces and mailing-list mail, by their headers."""

from __future__ import annotations

import re
from email.message import Message

from .models import MailKind
from .parsing import MSGID, ParsedMail, header_text

AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|autoreply"
    r"|auto:|abwesenheit|absence|vacation|on vacation|away from (the )?office"
    r"|r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica)",
    re.IGNORECASE,
)
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")


def _is_bounce(message: Message, parsed: ParsedMail) -> bool:
    if message.get_content_type() == "multipart/report":
        report = str(message.get_param("report-type") or "").lower()
        if report in ("delivery-status", ""):
            return True
    if parsed.from_email.startswith(BOUNCE_SENDERS):
        return True
    return message.get("Return-Path") is not None and header_text(message, "Return-Path") in (
        "<>",
        "",
    )


def _is_auto_reply(message: Message, parsed: ParsedMail) -> bool:
    auto_submitted = header_text(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if message.get("X-Autoreply") is not None or message.get("X-Autorespond") is not None:
        return True
    if header_text(message, "Precedence").lower() in ("auto_reply", "bulk", "junk"):
        return True
    return bool(AUTO_REPLY_SUBJECT.match(parsed.subject))


def _is_list(message: Message) -> bool:
    if message.get("List-Id") is not None or message.get("List-Unsubscribe") is not None:
        return True
    return header_text(message, "Precedence").lower() == "list"


def mail_classify(parsed: ParsedMail) -> MailKind:
    """Bounce, auto-reply, mailing list, or personal mail (the only kind that makes leads)."""
    message = parsed.message
    if message is None:
        return MailKind.PERSONAL
    if _is_bounce(message, parsed):
        return MailKind.BOUNCE
    if _is_auto_reply(message, parsed):
        return MailKind.AUTO_REPLY
    if _is_list(message):
        return MailKind.MAILING_LIST
    return MailKind.PERSONAL


def bounce_details(parsed: ParsedMail) -> tuple[list[str], str]:
    """The Message-IDs a bounce quotes (the returned mail's) and the server's reason in words."""
    ids: list[str] = []
    reason = ""
    message = parsed.message
    if message is None:
        return ids, reason
    for part in message.walk():
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                ids += [f"<{m}>" for m in MSGID.findall(header_text(inner, "Message-ID"))]
            elif isinstance(payload, str):
                ids += [f"<{m}>" for m in re.findall(r"(?im)^message-id:\s*<([^<>\s]+)>", payload)]
        if part.get_content_type() == "message/delivery-status":
            for block in part.get_payload() or []:
                if isinstance(block, Message):
                    diagnostic = header_text(block, "Diagnostic-Code") or header_text(
                        block, "Status"
                    )
                    reason = reason or diagnostic
    # Bounces that quote the original only as text still name its Message-ID in the body.
    ids += [f"<{m}>" for m in re.findall(r"(?im)message-id:\s*<([^<>\s]+)>", parsed.text)]
    return list(dict.fromkeys(ids)), reason[:300]
