"""Reads of the messaging app, with who may see which message applied once."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from closeloop.accounts.choices import Role

from .models import Message, MessageAttachment


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
