"""Reads of segments and mailings: lists, a mailing's recipients and its results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from closeloop.core.money import base_currency
from closeloop.messaging.choices import MessageState
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal

from .choices import RecipientState
from .models import CouponRedemption, Mailing, MailingRecipient, Segment

# A deal counts as brought back by a mailing when one of its recipients (or a colleague at the
# same organization) wins it within this many days after their email was sent.
ATTRIBUTION_DAYS = 90


def segment_list() -> QuerySet[Segment]:
    """Every segment, with how many mailings used it."""
    return Segment.objects.annotate(mailing_count=Count("mailings"))


def mailing_list() -> QuerySet[Mailing]:
    """Every mailing, newest first, with its segment and template."""
    return Mailing.objects.select_related("segment", "template", "created_by")


def mailing_recipients(mailing: Mailing) -> QuerySet[MailingRecipient]:
    """A mailing's recipients with what became of each (message state, coupon)."""
    return mailing.recipients.select_related("contact", "message", "coupon").order_by(
        "state", "email", "pk"
    )


@dataclass(frozen=True)
class MailingResults:
    """What a mailing did: counts by outcome, coupons redeemed, repeat deals and revenue."""

    recipients: int
    waiting: int
    in_outbox: int
    sent: int
    failed: int
    suppressed: int
    skipped: int
    unsubscribed: int
    coupons: int
    coupons_redeemed: int
    repeat_deals: int
    repeat_revenue: Decimal
    other_currency_deals: int
    currency: str


def _count(state: Any) -> Count:
    return Count("pk", filter=state)


def mailing_results(mailing: Mailing) -> MailingResults:
    """The results of one mailing, in three grouped queries."""
    counts = mailing.recipients.aggregate(
        recipients=Count("pk"),
        waiting=_count(Q(state=RecipientState.PENDING)),
        in_outbox=_count(
            Q(state=RecipientState.QUEUED)
            & Q(
                message__state__in=[
                    MessageState.QUEUED,
                    MessageState.SENDING,
                    MessageState.RETRYING,
                ]
            )
        ),
        sent=_count(Q(state=RecipientState.QUEUED, message__state=MessageState.SENT)),
        failed=_count(
            Q(state=RecipientState.FAILED)
            | Q(
                state=RecipientState.QUEUED,
                message__state__in=[
                    MessageState.FAILED,
                    MessageState.BOUNCED,
                    MessageState.NOT_SENT,
                    MessageState.UNCERTAIN,
                ],
            )
        ),
        suppressed=_count(
            Q(state=RecipientState.SUPPRESSED)
            | Q(state=RecipientState.QUEUED, message__state=MessageState.SUPPRESSED)
        ),
        skipped=_count(Q(state=RecipientState.SKIPPED)),
        unsubscribed=_count(Q(unsubscribed_at__isnull=False)),
        coupons=_count(Q(coupon__isnull=False)),
    )
    redeemed = CouponRedemption.objects.filter(
        coupon__in=mailing.recipients.filter(coupon__isnull=False).values("coupon")
    ).count()
    base = base_currency()
    reached = MailingRecipient.objects.filter(
        mailing=mailing,
        message__state=MessageState.SENT,
        message__sent_at__lt=OuterRef("won_at"),
        message__sent_at__gte=OuterRef("won_at") - dt.timedelta(days=ATTRIBUTION_DAYS),
    ).filter(
        Q(contact_id=OuterRef("contact_id"))
        | Q(contact__organization_id=OuterRef("organization_id"))
    )
    repeat = (
        Deal.objects.filter(status=DealStatus.WON)
        .filter(Exists(reached))
        .aggregate(
            deals=Count("pk"),
            revenue=Sum("value", filter=Q(currency=base)),
            other=Count("pk", filter=~Q(currency=base)),
        )
    )
    return MailingResults(
        **counts,
        coupons_redeemed=redeemed,
        repeat_deals=repeat["deals"],
        repeat_revenue=repeat["revenue"] or Decimal("0"),
        other_currency_deals=repeat["other"],
        currency=base,
    )
