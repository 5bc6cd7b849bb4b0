"""Reads of the messaging app, with who may see which message applied once."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from closeloop.accounts.choices import Role

from .models import Message, MessageAttachment
from .timeline_files import SOURCES


def _outbox(user: Any) -> QuerySet[Message]:
    """Admins see every message; everyone else the messages they wrote; nobody else sees any."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Message.objects.none()
    if user.role == Role.ADMIN:
        return Message.objects.all()
    return Message.objects.filter(created_by=user)


def message_list(*, user: Any, state: str = "", q: str = "") -> QuerySet[Message]:
    """The user's outbox, newest first: filtered by state, searched in subject and recipients."""
    qs = _outbox(user).select_related("created_by")
    if state:
        qs = qs.filter(state=state)
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(subject__icontains=q) | Q(to__icontains=q) | Q(cc__icontains=q) | Q(bcc__icontains=q)
        )
    return qs


def message_get(*, user: Any, pk: int) -> Message | None:
    """One message the user may see, with what its page shows; None when they may not."""
    return (
        _outbox(user)
        .select_related(
            "created_by", "resent_by", "lead", "contact", "deal", "organization", "template"
        )
        .prefetch_related("attachments", "send_attempts")
        .filter(pk=pk)
        .first()
    )


def message_attachment_get(*, user: Any, message_pk: int, pk: int) -> MessageAttachment | None:
    """An attachment of a message the user may see; None otherwise."""
    return (
        MessageAttachment.objects.filter(message__in=_outbox(user), message_id=message_pk, pk=pk)
        .select_related("message")
        .first()
    )


def timeline_file_get(*, user: Any, source: str, pk: int) -> Any:
    """A file of an email on a timeline the user may read; None otherwise.

    The rule is the timelines' own: a deal's or lead's timeline shows all of its entries, a
    contact's leaves out entries of deals the user may not see, and an organization's also
    those of contacts they may not see. So a file is offered exactly where its entry is shown.
    """
    from closeloop.leads.selectors import lead_queryset
    from closeloop.people.selectors import contact_queryset, organization_queryset
    from closeloop.pipeline.selectors import deal_queryset

    model = SOURCES.get(source)
    if model is None or not getattr(user, "is_authenticated", False):
        return None
    attachment = model.objects.select_related("message").filter(pk=pk).first()
    if attachment is None:
        return None
    message = attachment.message

    def sees(record_id: int | None, queryset: Any) -> bool:
        return record_id is not None and queryset(user=user).filter(pk=record_id).exists()

    deal_ok = message.deal_id is None or sees(message.deal_id, deal_queryset)
    contact_ok = message.contact_id is None or sees(message.contact_id, contact_queryset)
    readable = (
        (message.deal_id is not None and deal_ok)
        or sees(message.lead_id, lead_queryset)
        or (message.contact_id is not None and contact_ok and deal_ok)
        or (sees(message.organization_id, organization_queryset) and deal_ok and contact_ok)
    )
    return attachment if readable else None
