"""Reads for templates and composing: the templates offered, and records a user may write about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from .models import EmailTemplate

RECORD_KINDS = ("lead", "contact", "deal")


def email_template_list(*, active_only: bool = False) -> QuerySet[EmailTemplate]:
    """Templates by name; composing offers only the active ones."""
    qs = EmailTemplate.objects.all()
    return qs.filter(is_active=True) if active_only else qs


def email_template_get(*, pk: int, active_only: bool = False) -> EmailTemplate | None:
    return email_template_list(active_only=active_only).filter(pk=pk).first()


def email_record_get(*, user: Any, kind: str, pk: int) -> Any:
    """The lead, contact or deal `user` wants to write about, if they may see it; else None."""
    if kind == "lead":
        from closeloop.leads.selectors import lead_get

        return lead_get(user=user, pk=pk)
    if kind == "contact":
        from closeloop.people.selectors import contact_get

        return contact_get(user=user, pk=pk)
    if kind == "deal":
        from closeloop.pipeline.selectors import deal_get

        return deal_get(user=user, pk=pk)
    return None


@dataclass(frozen=True)
class RecordChoice:
    """A record offered for a template preview: "deal:12" and a label."""

    value: str
    label: str


def preview_record_choices(*, user: Any, limit: int = 15) -> dict[str, list[RecordChoice]]:
    """The most recently changed deals, contacts and leads `user` may see, to preview on."""
    from closeloop.leads.selectors import lead_queryset
    from closeloop.people.selectors import contact_queryset
    from closeloop.pipeline.selectors import deal_queryset

    deals = deal_queryset(user=user).select_related("organization").order_by("-updated_at")
    contacts = contact_queryset(user=user).select_related("organization").order_by("-updated_at")
    leads = lead_queryset(user=user).order_by("-updated_at")
    return {
        "Deals": [
            RecordChoice(
                f"deal:{d.pk}", d.title + (f" ({d.organization})" if d.organization else "")
            )
            for d in deals[:limit]
        ],
        "Contacts": [
            RecordChoice(
                f"contact:{c.pk}", c.full_name + (f" ({c.organization})" if c.organization else "")
            )
            for c in contacts[:limit]
        ],
        "Leads": [RecordChoice(f"lead:{lead.pk}", lead.full_name) for lead in leads[:limit]],
    }


def email_record_from_choice(*, user: Any, value: str) -> tuple[str, Any]:
    """("deal", <Deal>) for "deal:12" if `user` may see it; (kind, None) otherwise."""
    kind, _, pk = (value or "").partition(":")
    if kind not in RECORD_KINDS or not pk.isdigit():
        return "", None
    return kind, email_record_get(user=user, kind=kind, pk=int(pk))
