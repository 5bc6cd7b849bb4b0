"""Reads about referrals: who brings business, as the user may see it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from closeloop.accounts.visibility import owner_filter
from closeloop.activities.booking.models import BookingPage
from closeloop.core.money import base_currency
from closeloop.people.models import Contact
from closeloop.pipeline.choices import DealStatus

from .models import Referral

REPORT_ROWS = 500


@dataclass(frozen=True)
class ReferrerRow:
    """One customer who referred: what their referrals became, as far as the user may see."""

    contact_id: int
    name: str
    organization: str
    leads: int
    deals: int
    won: int
    won_value: Decimal
    rewards: int


def _visible(user: Any, field: str) -> Q:
    condition = owner_filter(user, field)
    return Q() if condition is None else condition


def referral_report(*, user: Any) -> list[ReferrerRow]:
    """Per referrer (a contact the user may see): referred leads and deals the user may see,
    won deals, won value (deals in the base currency) and rewards issued; most won value first.

    One grouped query, whatever the number of referrals.
    """
    lead_seen = Q(lead__isnull=False, lead__deleted_at__isnull=True) & _visible(user, "lead__owner")
    deal_seen = Q(deal__isnull=False, deal__deleted_at__isnull=True) & _visible(user, "deal__owner")
    won = deal_seen & Q(deal__status=DealStatus.WON)
    rows = (
        Referral.objects.filter(referrer__in=Contact.objects.visible_to(user))
        .filter(lead_seen | deal_seen)
        .values(
            "referrer_id",
            "referrer__first_name",
            "referrer__last_name",
            "referrer__organization__name",
        )
        .annotate(
            leads=Count("pk", filter=lead_seen),
            deals=Count("pk", filter=deal_seen),
            won=Count("pk", filter=won),
            # Coalesce: PostgreSQL sorts NULL first in a descending order, SQLite last
            won_value=Coalesce(
                Sum("deal__value", filter=won & Q(deal__currency=base_currency())),
                Value(Decimal("0")),
                output_field=DecimalField(max_digits=20, decimal_places=2),
            ),
            rewards=Count("pk", filter=deal_seen & Q(rewarded_at__isnull=False)),
        )
        .order_by("-won_value", "-won", "-leads", "referrer__last_name", "referrer_id")
    )[:REPORT_ROWS]
    return [
        ReferrerRow(
            contact_id=row["referrer_id"],
            name=f"{row['referrer__first_name']} {row['referrer__last_name']}".strip()
            or "(no name)",
            organization=row["referrer__organization__name"] or "",
            leads=row["leads"],
            deals=row["deals"],
            won=row["won"],
            won_value=row["won_value"] or Decimal("0"),
            rewards=row["rewards"],
        )
        for row in rows
    ]


def booking_pages_public() -> list[BookingPage]:
    """The active booking pages, for a referral landing page without a web form."""
    return list(BookingPage.objects.filter(active=True).order_by("title", "pk"))
