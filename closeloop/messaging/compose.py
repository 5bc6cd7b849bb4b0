"""Writing an email from a lead, contact or deal page: merge fields, signature, sender, outbox."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.db import transaction

from closeloop.core.exceptions import DomainError

from .html_mail import html_inline_css, html_to_text, text_to_html
from .merge import merge_context_for, merge_field_names, merge_render_email
from .models import EmailTemplate, Message
from .services import AttachmentIn, message_queue

SIGNATURE_SEPARATOR = "-- "  # the usual marker mail programs recognise above a signature


def sender_address(user: Any) -> str:
    """The From of a user's email: their own address where the server and workspace allow it,
    else the workspace address under their name ("Ann Smith via Closeloop")."""
    from closeloop.accounts.selectors import workspace_settings

    if settings.EMAIL_ALLOW_USER_FROM and workspace_settings().send_as_user:
        return formataddr((user.display_name, user.email))
    default_name, default_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((f"{user.display_name} via {default_name or 'Closeloop'}", default_address))


def _with_signature(text_body: str, html_body: str, signature: str) -> tuple[str, str]:
    signature = (signature or "").strip()
    if not signature:
        return text_body, html_body
    text_body = f"{text_body.rstrip()}\n\n{SIGNATURE_SEPARATOR}\n{signature}"
    if html_body:
        block = f'<div class="signature">{SIGNATURE_SEPARATOR}<br>{text_to_html(signature)}</div>'
        lower = html_body.lower()
        at = lower.rfind("</body>")
        html_body = f"{html_body[:at]}{block}{html_body[at:]}" if at >= 0 else html_body + block
    return text_body, html_body


def template_uses_signature(template: EmailTemplate) -> bool:
    """Whether a template places a signature itself (then none is added below it)."""
    names = merge_field_names(template.text_body) + merge_field_names(template.html_body)
    return any(name.endswith(".signature") for name in names)


@transaction.atomic
def email_compose_send(
    *,
    actor: Any,
    to: str,
    subject: str,
    text_body: str,
    html_body: str = "",
    cc: str = "",
    bcc: str = "",
    attachments: Sequence[AttachmentIn] = (),
    template: EmailTemplate | None = None,
    add_signature: bool = True,
    lead: Any = None,
    contact: Any = None,
    deal: Any = None,
    base_url: str = "",
) -> Message:
    """Send an email about one record: every merge field must have a value, or nothing is queued.

    The HTML part gets its CSS inlined and always comes with a text part (written from the
    HTML when there is no text). From follows `sender_address`; replies go to the sender.
    """
    if sum(r is not None for r in (lead, contact, deal)) != 1:
        raise DomainError("An email is written from one lead, contact or deal.")
    ctx = merge_context_for(sender=actor, lead=lead, contact=contact, deal=deal, base_url=base_url)
    rendered = merge_render_email(
        ctx, subject=subject, text_body=text_body or "", html_body=html_body or ""
    )
    html = rendered.html_body.strip()
    text = rendered.text_body.strip() or html_to_text(html)
    if not text:
        raise DomainError("The message cannot be empty.", field="text_body")
    if add_signature:
        text, html = _with_signature(text, html, actor.signature)
    return message_queue(
        actor=actor,
        to=to,
        cc=cc,
        bcc=bcc,
        subject=rendered.subject,
        text_body=text,
        html_body=html_inline_css(html) if html else "",
        attachments=attachments,
        from_email=sender_address(actor),
        reply_to=actor.email,
        template=template,
        lead=lead,
        contact=contact,
        deal=deal,
    )
