"""Every read of coupons with rules: who may see which coupon and redemption, the list's filters
and the coupon report.

Visibility: a coupon issued to a customer is seen by whoever may see that contact or that
organization (the owner rule of `accounts.visibility`, trashed customers hidden); a campaign code
(no customer) is seen by every signed-in user. A redemption is seen when its contact or its
organization is visible, or when it names no customer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.fields import CharField
from django.utils import timezone

from closeloop.leads.models import Campaign
from closeloop.people.models import Contact, Organization
from closeloop.people.selectors import contact_queryset, organization_queryset
from closeloop.pipeline.models import Deal
from closeloop.pipeline.selectors import deal_queryset

from .choices import CouponOrigin
from .models import Coupon, CouponRedemption

COUPON_STATUSES = {
    "active": "Active",
    "expired": "Expired",
    "used_up": "Used up",
    "withdrawn": "Withdrawn",
}


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def _customer_visible(user: Any, prefix: str = "") -> Q:
    """Q: the row's contact or organization is one `user` may see, or it names neither."""
    contacts = contact_queryset(user=user).values("pk")
    organizations = organization_queryset(user=user).values("pk")
    return (
        Q(**{f"{prefix}contact__isnull": True, f"{prefix}organization__isnull": True})
        | Q(**{f"{prefix}contact__in": contacts})
        | Q(**{f"{prefix}organization__in": organizations})
    )


def _with_status(qs: QuerySet[Coupon], now: dt.datetime) -> QuerySet[Coupon]:
    # One CASE in SQL, so the status shown and the status filtered on never disagree.
    return qs.annotate(
        status=Case(
            When(is_active=False, then=Value("withdrawn")),
            When(expires_at__lte=now, then=Value("expired")),
            When(max_uses__isnull=False, uses__gte=F("max_uses"), then=Value("used_up")),
            default=Value("active"),
            output_field=CharField(),
        )
    )


def coupon_queryset(*, user: Any) -> QuerySet[Coupon]:
    """Coupons `user` may see: of customers they may see, plus campaign codes; with `status`."""
    if not _signed_in(user):
        return Coupon.objects.none()
    return _with_status(Coupon.objects.filter(_customer_visible(user)), timezone.now())


def redemption_queryset(*, user: Any) -> QuerySet[CouponRedemption]:
    """Redemptions `user` may see: by customers they may see (or by no named customer)."""
    if not _signed_in(user):
        return CouponRedemption.objects.none()
    return CouponRedemption.objects.filter(_customer_visible(user))


@dataclass(frozen=True)
class CouponFilters:
    """The coupon list's filters, parsed from the query string."""

    status: str = ""
    origin: str = ""
    contact_id: int | None = None
    organization_id: int | None = None
    campaign_id: int | None = None
    q: str = ""

    @property
    def active(self) -> bool:
        return any(
            (
                self.status,
                self.origin,
                self.contact_id,
                self.organization_id,
                self.campaign_id,
                self.q,
            )
        )


def coupon_list(*, user: Any, filters: CouponFilters) -> QuerySet[Coupon]:
    """Coupons for the list page, newest first, narrowed by status, origin, customer, campaign
    or a code / description search."""
    qs = coupon_queryset(user=user).select_related("contact", "organization", "campaign")
    if filters.status in COUPON_STATUSES:
        qs = qs.filter(status=filters.status)  # type: ignore[misc]
    if filters.origin in CouponOrigin.values:
        qs = qs.filter(origin=filters.origin)
    if filters.contact_id:
        qs = qs.filter(contact_id=filters.contact_id)
    if filters.organization_id:
        qs = qs.filter(organization_id=filters.organization_id)
    if filters.campaign_id:
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.q:
        qs = qs.filter(Q(code__icontains=filters.q.strip()) | Q(description__icontains=filters.q))
    return qs.order_by("-created_at", "-pk")


def coupon_get(*, user: Any, pk: int) -> Coupon | None:
    """One coupon `user` may see, or None."""
    return (
        coupon_queryset(user=user)
        .select_related("contact", "organization", "campaign", "issued_by", "withdrawn_by")
        .filter(pk=pk)
        .first()
    )


def coupon_redemptions(*, user: Any, coupon: Coupon) -> QuerySet[CouponRedemption]:
    """The redemptions of a coupon that `user` may see, newest first."""
    return (
        redemption_queryset(user=user)
        .filter(coupon=coupon)
        .select_related("contact", "organization", "deal", "redeemed_by")
        .order_by("-created_at", "-pk")
    )


def redemption_get(*, user: Any, pk: int) -> CouponRedemption | None:
    """One redemption `user` may see, or None."""
    return redemption_queryset(user=user).select_related("coupon").filter(pk=pk).first()


def customer_coupons(
    *, user: Any, contact: Contact | None = None, organization: Organization | None = None
) -> tuple[list[Coupon], list[CouponRedemption]]:
    """A customer's coupons and redemptions: a contact's own, or an organization's (its own and
    those of its contacts, which carry the organization too); capped at 100 each."""
    coupons = coupon_queryset(user=user).select_related("contact", "campaign")
    redemptions = redemption_queryset(user=user).select_related("coupon", "contact", "deal")
    if contact is not None:
        coupons = coupons.filter(contact=contact)
        redemptions = redemptions.filter(contact=contact)
    elif organization is not None:
        coupons = coupons.filter(organization=organization)
        redemptions = redemptions.filter(organization=organization)
    else:
        return [], []
    return (
        list(coupons.order_by("-created_at", "-pk")[:100]),
        list(redemptions.order_by("-created_at", "-pk")[:100]),
    )


def customer_deals(
    *, user: Any, contact: Contact | None = None, organization: Organization | None = None
) -> QuerySet[Deal]:
    """Deals of this customer `user` may see: the repeat deals a redemption may be linked to."""
    qs = deal_queryset(user=user)
    if contact is not None:
        condition = Q(contact=contact)
        if contact.organization_id:
            condition |= Q(organization_id=contact.organization_id)
        qs = qs.filter(condition)
    elif organization is not None:
        qs = qs.filter(organization=organization)
    else:
        return qs.none()
    return qs.order_by("-created_at", "-pk")


def coupon_campaigns() -> QuerySet[Campaign]:
    """Campaigns a coupon may belong to (for the filter and the issue form)."""
    return Campaign.objects.order_by("name")


# The coupon report ------------------------------------------------------------------------------


@dataclass
class CouponReportRow:
    """Coupons issued, redemptions and the discount given (per currency) for one group."""

    label: str
    issued: int = 0
    redeemed: int = 0
    discount: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class CouponReport:
    """The report section: totals, and rows by origin and by campaign."""

    total: CouponReportRow
    by_origin: list[CouponReportRow]
    by_campaign: list[CouponReportRow]


def _rows(
    coupons: QuerySet[Coupon],
    redemptions: QuerySet[CouponRedemption],
    key: str,
    labels: dict[Any, str],
) -> list[CouponReportRow]:
    rows: dict[Any, CouponReportRow] = {}
    for item in coupons.order_by().values(key).annotate(n=Count("pk")):
        rows.setdefault(item[key], CouponReportRow(labels.get(item[key], "—"))).issued = item["n"]
    grouped = (
        redemptions.order_by()
        .values(f"coupon__{key}", "currency")
        .annotate(n=Count("pk"), discount=Sum("discount"), orders=Sum("order_value"))
    )
    for item in grouped:
        group = item[f"coupon__{key}"]
        row = rows.setdefault(group, CouponReportRow(labels.get(group, "—")))
        row.redeemed += item["n"]
        row.discount[item["currency"]] = item["discount"]
        row.orders[item["currency"]] = item["orders"]
    for row in rows.values():  # currencies in a steady order, whatever the database grouped by
        row.discount = dict(sorted(row.discount.items()))
        row.orders = dict(sorted(row.orders.items()))
    return sorted(rows.values(), key=lambda r: (-r.issued, -r.redeemed, r.label))


def coupon_report(*, user: Any, filters: CouponFilters) -> CouponReport:
    """Issued, redeemed and discount given on the coupons the list shows, by origin and campaign.
    Redemptions count only when `user` may see the customer who redeemed (five small queries)."""
    coupons = coupon_list(user=user, filters=filters)
    redemptions = redemption_queryset(user=user).filter(coupon__in=coupons.values("pk"))
    by_origin = _rows(coupons, redemptions, "origin", dict(CouponOrigin.choices))
    campaign_ids = coupons.exclude(campaign=None).values("campaign_id")
    names: dict[Any, str] = {None: "No campaign"}
    names.update(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "name"))
    by_campaign = _rows(coupons, redemptions, "campaign", names)
    total = CouponReportRow("All coupons")
    for row in by_origin:
        total.issued += row.issued
        total.redeemed += row.redeemed
        for currency, amount in row.discount.items():
            total.discount[currency] = total.discount.get(currency, Decimal("0")) + amount
        for currency, amount in row.orders.items():
            total.orders[currency] = total.orders.get(currency, Decimal("0")) + amount
    return CouponReport(total, by_origin, by_campaign)
