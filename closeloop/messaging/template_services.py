"""Writes of email templates: admins create, change and delete them; merge fields are checked."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from closeloop.accounts.actors import require_admin
from closeloop.core.exceptions import DomainError

from .merge import merge_check
from .models import EmailTemplate

ADMINS_ONLY = "Only admins can manage email templates."


def _clean(
    *, template: EmailTemplate, name: str, subject: str, text_body: str, html_body: str
) -> None:
    name = " ".join((name or "").split())
    subject = " ".join((subject or "").split())
    if not name:
        raise DomainError("A template needs a name.", field="name")
    if len(name) > 120:
        raise DomainError("The name can be at most 120 characters long.", field="name")
    taken = EmailTemplate.objects.filter(name__iexact=name).exclude(pk=template.pk)
    if taken.exists():
        raise DomainError(f"There is already a template called “{name}”.", field="name")
    if not subject:
        raise DomainError("A template needs a subject.", field="subject")
    if len(subject) > 300:
        raise DomainError("The subject can be at most 300 characters long.", field="subject")
    if not (text_body or "").strip() and not (html_body or "").strip():
        raise DomainError(
            "Write the message: a text body, an HTML body or both.", field="text_body"
        )
    merge_check(field="subject", text=subject)
    merge_check(field="text_body", text=text_body or "")
    merge_check(field="html_body", text=html_body or "")
    template.name, template.subject = name, subject
    template.text_body, template.html_body = (text_body or "").strip(), (html_body or "").strip()


@transaction.atomic
def email_template_create(
    *,
    actor: Any,
    name: str,
    subject: str,
    text_body: str = "",
    html_body: str = "",
    is_active: bool = True,
) -> EmailTemplate:
    """Add a template; it may only use known merge fields, and needs a text or HTML body."""
    require_admin(actor, ADMINS_ONLY)
    template = EmailTemplate(is_active=is_active)
    _clean(template=template, name=name, subject=subject, text_body=text_body, html_body=html_body)
    if getattr(actor, "is_authenticated", False):
        template.created_by = actor
    template.save()
    return template


@transaction.atomic
def email_template_update(
    *,
    actor: Any,
    template: EmailTemplate,
    name: str,
    subject: str,
    text_body: str = "",
    html_body: str = "",
    is_active: bool = True,
) -> EmailTemplate:
    """Change a template; the same checks as creating it. Sent emails keep what they said."""
    require_admin(actor, ADMINS_ONLY)
    _clean(template=template, name=name, subject=subject, text_body=text_body, html_body=html_body)
    template.is_active = is_active
    template.save()
    return template


@transaction.atomic
def email_template_delete(*, actor: Any, template: EmailTemplate) -> None:
    """Delete a template; emails sent from it keep their text and lose only the link to it."""
    require_admin(actor, ADMINS_ONLY)
    template.delete()
