"""Campaigns leads and deals are attributed to (admins and managers change them)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from closeloop.accounts.actors import require_admin_or_manager
from closeloop.core.exceptions import ConflictError, DomainError

from ..models import Campaign
from .sources import ONLY_MANAGERS


def campaign_for_utm(utm_campaign: str) -> Campaign | None:
    if not utm_campaign:
        return None
    return Campaign.objects.filter(utm_campaign__iexact=utm_campaign).first()


CAMPAIGN_FIELDS = (
    "name",
    "channel",
    "starts_on",
    "ends_on",
    "cost",
    "currency",
    "utm_campaign",
    "notes",
)


def clean_campaign(values: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """A campaign's fields, checked: a unique name, dates in order, no negative cost."""
    unknown = set(values) - set(CAMPAIGN_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    name = (values.get("name") or "").strip()
    if not name:
        raise DomainError("A campaign needs a name.", field="name")
    same_name = Campaign.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        same_name = same_name.exclude(pk=exclude_pk)
    if same_name.exists():
        raise ConflictError(f"There is already a campaign called “{name}”.", field="name")
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts and ends and ends < starts:
        raise DomainError("The campaign cannot end before it starts.", field="ends_on")
    cost = values.get("cost")
    if cost is not None and cost < 0:
        raise DomainError("The cost cannot be negative.", field="cost")
    return {**values, "name": name}


@transaction.atomic
def campaign_create(*, actor: Any, **values: Any) -> Campaign:
    """Add a campaign that leads can be attributed to."""
    require_admin_or_manager(actor, ONLY_MANAGERS)
    return Campaign.objects.create(**clean_campaign(values))


@transaction.atomic
def campaign_update(*, actor: Any, campaign: Campaign, **values: Any) -> Campaign:
    """Change a campaign's name, channel, dates or cost."""
    require_admin_or_manager(actor, ONLY_MANAGERS)
    for name, value in clean_campaign(values, exclude_pk=campaign.pk).items():
        setattr(campaign, name, value)
    campaign.save()
    return campaign
