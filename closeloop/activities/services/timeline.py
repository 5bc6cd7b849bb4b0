from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from closeloop.core.exceptions import DomainError

from ..choices import ActivityKind
from ..models import Activity, Notification

MAX_NOTE_LENGTH = 100_000


def timeline_records(*, deal: Any, contact: Any, organization: Any, lead: Any) -> tuple[Any, Any]:
    """The contact and organization an activity also shows on: a deal's entry belongs on its
    contact's and organization's timelines too, a contact's on its organization's."""
    if deal is None and contact is None and organization is None and lead is None:
        raise DomainError("An activity must belong to a deal, contact, organization or lead.")
    if deal is not None:
        contact = contact or deal.contact
        organization = organization or deal.organization
    if contact is not None and organization is None:
        organization = contact.organization
    return contact, organization


@transaction.atomic
def activity_create(
    *,
    actor: Any,
    kind: str = ActivityKind.NOTE,
    body: str,
    subject: str = "",
    deal: Any = None,
    contact: Any = None,
    organization: Any = None,
    lead: Any = None,
) -> Activity:
    """Add a timeline entry; a note must say something, and it shows on every record it concerns."""
    body = (body or "").strip()
    if kind == ActivityKind.NOTE and not body:
        raise DomainError("A note cannot be empty.", field="body")
    if len(body) > MAX_NOTE_LENGTH:
        raise DomainError(
            f"A note can be at most {MAX_NOTE_LENGTH:,} characters long.", field="body"
        )
    contact, organization = timeline_records(
        deal=deal, contact=contact, organization=organization, lead=lead
    )
    return Activity.objects.create(
        kind=kind,
        subject=subject[:200],
        body=body,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        deal=deal,
        contact=contact,
        organization=organization,
        lead=lead,
    )


def notification_create(
    *, recipient: Any, kind: str, title: str, body: str = "", url: str = ""
) -> Notification | None:
    """Tell a user something in the app (the bell); inactive or missing users get nothing."""
    if recipient is None or not getattr(recipient, "is_active", False):
        return None
    return Notification.objects.create(
        recipient=recipient, kind=kind, title=title[:200], body=body, url=url[:300]
    )


def notification_mark_read(*, actor: Any, notification_ids: list[int] | None = None) -> int:
    """Mark the actor's notifications read: the given ones, or all of them when none are given."""
    unread = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())
