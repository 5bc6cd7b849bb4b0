"""Coupons: issuing unguessable codes, checking them, and redeeming them exactly once per use.

Codes are 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 5/S, 2/Z, 8/B), drawn
with `secrets`: 24^12 ≈ 3.7·10^16 codes, so guessing one is hopeless and typos are rare. They
are shown in groups of four (ABCD-EFGH-JKMN); input is accepted with or without dashes, spaces
and in any case.

Redeeming takes one use with a conditional UPDATE (`uses = uses + 1 WHERE uses < max_uses`), so
when two people redeem the last use at the same moment the database lets exactly one through;
the per-customer limit is checked under a lock on the coupon row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.core.audit import audit_changed, audit_created, audit_snapshot
from closeloop.core.exceptions import DomainError
from closeloop.core.money import CURRENCY_CODES, base_currency
from closeloop.integrations.payloads import coupon_redemption_data
from closeloop.integrations.services import webhook_event_emit
from closeloop.people.models import Contact, Organization
from closeloop.pipeline.models import Deal
from closeloop.proposals.pricing import money_round

from .choices import CouponKind, CouponOrigin
from .models import Coupon, CouponRedemption

ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"  # no 0 O 1 I L 5 S 2 Z 8 B
CODE_LENGTH = 12
MAX_VALUE = Decimal("999999999.99")


def coupon_code_new() -> str:
    """A fresh random code, grouped as XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def coupon_code_clean(code: str) -> str:
    """What the user typed, as stored: upper case, grouped, without spaces."""
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if len(raw) == CODE_LENGTH and all(ch in ALPHABET for ch in raw):
        return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))
    return (code or "").strip().upper()  # a hand-made campaign code, e.g. SPRING25


def _decimal(value: Any, field: str, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(f"{label}: '{value}' is not a number.", field=field) from exc
    if not number.is_finite() or number < 0 or number > MAX_VALUE:
        raise DomainError(f"{label}: '{value}' is out of range.", field=field)
    return number


@transaction.atomic
def coupon_issue(
    *,
    actor: Any,
    kind: str,
    value: Any,
    currency: str = "",
    expires_at: dt.datetime | None = None,
    valid_days: int | None = None,
    max_uses: int | None = None,
    max_uses_per_customer: int | None = 1,
    min_order: Any = None,
    contact: Contact | None = None,
    organization: Organization | None = None,
    origin: str = CouponOrigin.MANUAL,
    campaign: Any = None,
    description: str = "",
    code: str = "",
) -> Coupon:
    """Create a coupon: for one customer (contact/organization) or, with `code`, a campaign code."""
    if kind not in CouponKind.values:
        raise DomainError(f"'{kind}' is not a kind of coupon.", field="kind")
    amount = _decimal(value, "value", "Value")
    if amount <= 0:
        raise DomainError("Value: a coupon must take something off.", field="value")
    if kind == CouponKind.PERCENT and amount > 100:
        raise DomainError("Value: a percentage cannot be above 100.", field="value")
    currency = (currency or "").strip().upper()
    if kind == CouponKind.AMOUNT:
        currency = currency or base_currency()
        if currency not in CURRENCY_CODES:
            raise DomainError(f"'{currency}' is not a known currency.", field="currency")
    minimum = (
        _decimal(min_order, "min_order", "Minimum order") if min_order not in (None, "") else None
    )
    for name, limit in (("max_uses", max_uses), ("max_uses_per_customer", max_uses_per_customer)):
        if limit is not None and int(limit) < 1:
            raise DomainError("A limit must be at least 1 (leave it empty for none).", field=name)
    if valid_days is not None:
        if int(valid_days) < 1:
            raise DomainError("A coupon must be valid for at least a day.", field="valid_days")
        expires_at = timezone.now() + dt.timedelta(days=int(valid_days))
    if contact is not None and organization is None:
        organization = contact.organization
    if code:
        clean = coupon_code_clean(code)
        if not (3 <= len(clean) <= 32) or not all(ch.isalnum() or ch == "-" for ch in clean):
            raise DomainError("A code has 3 to 32 letters, digits or dashes.", field="code")
        if Coupon.objects.filter(code=clean).exists():
            raise DomainError(f"The code {clean} is taken.", field="code")
    fields = dict(
        kind=kind,
        value=amount,
        currency=currency if kind == CouponKind.AMOUNT else "",
        expires_at=expires_at,
        max_uses=max_uses,
        max_uses_per_customer=max_uses_per_customer,
        min_order=minimum,
        contact=contact,
        organization=organization,
        origin=origin,
        campaign=campaign,
        description=(description or "").strip()[:200],
        issued_by=acting_user(actor),
    )
    for _ in range(5):
        try:
            with transaction.atomic():
                coupon = Coupon.objects.create(
                    code=coupon_code_clean(code) if code else coupon_code_new(), **fields
                )
            audit_created(actor=actor, obj=coupon)
            return coupon
        except IntegrityError:
            if code:
                raise DomainError("That code is taken.", field="code") from None
    raise DomainError("Could not find a free code; try again.")


@dataclass(frozen=True)
class CouponCheck:
    """What a coupon would take off an order, or why it cannot be used."""

    coupon: Coupon | None
    ok: bool
    reason: str = ""
    discount: Decimal = Decimal("0")
    currency: str = ""
    # The input the refusal is about: "code" (the coupon itself), "order_value" or "currency".
    field: str = ""


def _discount(coupon: Coupon, order_value: Decimal, currency: str) -> Decimal:
    if coupon.kind == CouponKind.PERCENT:
        return money_round(order_value * coupon.value / 100, currency)
    return min(coupon.value, order_value)


def _customer_uses(
    coupon: Coupon, contact: Contact | None, organization: Organization | None
) -> int:
    condition = Q()
    if contact is not None:
        condition |= Q(contact=contact)
    if organization is not None:
        condition |= Q(organization=organization)
    if not condition:
        return 0
    return coupon.redemptions.filter(condition).count()


def coupon_validate(
    *,
    code: str,
    order_value: Any,
    currency: str = "",
    contact: Contact | None = None,
    organization: Organization | None = None,
    at: dt.datetime | None = None,
) -> CouponCheck:
    """Whether `code` may be used by this customer on an order of `order_value`, and how much it
    takes off; never changes anything."""
    coupon = Coupon.objects.filter(code=coupon_code_clean(code)).first()
    if coupon is None:
        return CouponCheck(None, False, "There is no coupon with this code.", field="code")
    currency = (currency or coupon.currency or base_currency()).upper()
    try:
        order = _decimal(order_value, "order_value", "Order value")
    except DomainError as exc:
        return CouponCheck(coupon, False, exc.message, field="order_value")
    if contact is not None and organization is None:
        organization = contact.organization
    now = at or timezone.now()
    if not coupon.is_active:
        return CouponCheck(coupon, False, "This coupon has been withdrawn.", field="code")
    if coupon.expires_at is not None and coupon.expires_at <= now:
        return CouponCheck(
            coupon, False, f"This coupon expired on {coupon.expires_at:%Y-%m-%d}.", field="code"
        )
    if coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
        return CouponCheck(coupon, False, "This coupon has been used up.", field="code")
    owned_by = coupon.contact_id or coupon.organization_id
    if owned_by and not (
        (coupon.contact_id and contact is not None and coupon.contact_id == contact.pk)
        or (
            coupon.organization_id
            and organization is not None
            and coupon.organization_id == organization.pk
        )
    ):
        return CouponCheck(
            coupon, False, "This coupon was issued to another customer.", field="code"
        )
    if coupon.kind == CouponKind.AMOUNT and currency != coupon.currency:
        return CouponCheck(
            coupon,
            False,
            f"This coupon is in {coupon.currency}, the order in {currency}.",
            field="currency",
        )
    if coupon.min_order is not None and order < coupon.min_order:
        return CouponCheck(
            coupon,
            False,
            f"The order must be at least {coupon.min_order} {currency}.",
            field="order_value",
        )
    limit = coupon.max_uses_per_customer
    if limit is not None and _customer_uses(coupon, contact, organization) >= limit:
        return CouponCheck(
            coupon, False, "This customer has already used this coupon.", field="code"
        )
    return CouponCheck(coupon, True, "", _discount(coupon, order, currency), currency)


@transaction.atomic
def coupon_redeem(
    *,
    actor: Any,
    code: str,
    order_value: Any,
    currency: str = "",
    contact: Contact | None = None,
    organization: Organization | None = None,
    deal: Deal | None = None,
    note: str = "",
) -> CouponRedemption:
    """Use a coupon once for this customer's order; refused with the reason when it may not be.
    Goes on the customer's timeline."""
    from closeloop.activities.choices import ActivityKind
    from closeloop.activities.models import Activity

    if contact is not None and organization is None:
        organization = contact.organization
    coupon = Coupon.objects.select_for_update().filter(code=coupon_code_clean(code)).first()
    check = coupon_validate(
        code=code,
        order_value=order_value,
        currency=currency,
        contact=contact,
        organization=organization,
    )
    if not check.ok or coupon is None:
        raise DomainError(check.reason, field=check.field or "code")
    taken = (
        Coupon.objects.filter(pk=coupon.pk, is_active=True)
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .update(uses=F("uses") + 1)
    )
    if not taken:  # someone took the last use between the check and now
        raise DomainError("This coupon has been used up.", field="code")
    redemption = CouponRedemption.objects.create(
        coupon=coupon,
        contact=contact,
        organization=organization,
        deal=deal,
        order_value=_decimal(order_value, "order_value", "Order value"),
        discount=check.discount,
        currency=check.currency,
        redeemed_by=acting_user(actor),
        note=(note or "").strip()[:300],
    )
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject=f"Coupon {coupon.code} redeemed",
        body=f"{check.discount} {check.currency} off an order of {redemption.order_value} "
        f"{check.currency}" + (f"\n{redemption.note}" if redemption.note else ""),
        actor=acting_user(actor),
        contact=contact,
        organization=organization,
        deal=deal,
    )
    customer = [r.owner_id for r in (contact, organization, deal) if r is not None]
    webhook_event_emit(
        name="coupon.redeemed",
        payload=coupon_redemption_data(redemption),
        owners=customer or [None],  # a campaign code names no customer: everyone's to see
    )
    return redemption


def _timeline_note(
    *,
    actor: Any,
    subject: str,
    body: str,
    contact_id: int | None,
    organization_id: int | None,
    deal: Deal | None = None,
) -> None:
    from closeloop.activities.choices import ActivityKind
    from closeloop.activities.models import Activity

    if contact_id is None and organization_id is None and deal is None:
        return  # a campaign code belongs to no customer's timeline; the coupon row keeps it
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject=subject,
        body=body,
        actor=acting_user(actor),
        contact_id=contact_id,
        organization_id=organization_id,
        deal=deal,
    )


@transaction.atomic
def coupon_withdraw(*, actor: Any, coupon: Coupon, reason: str = "") -> Coupon:
    """Stop a coupon for good: later checks refuse it; who, when and why stay on the coupon
    (and on the customer's timeline). Redemptions already made are kept."""
    locked = Coupon.objects.select_for_update().get(pk=coupon.pk)
    if not locked.is_active:
        raise DomainError("This coupon has already been withdrawn.", field="code")
    before = audit_snapshot(locked)
    locked.is_active = False
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = acting_user(actor)
    locked.withdraw_reason = (reason or "").strip()[:300]
    locked.save(
        update_fields=["is_active", "withdrawn_at", "withdrawn_by", "withdraw_reason", "updated_at"]
    )
    audit_changed(actor=actor, obj=locked, before=before)
    _timeline_note(
        actor=actor,
        subject=f"Coupon {locked.code} withdrawn",
        body=locked.withdraw_reason,
        contact_id=locked.contact_id,
        organization_id=locked.organization_id,
    )
    return locked


def _same_customer(redemption: CouponRedemption, deal: Deal) -> bool:
    if redemption.organization_id and deal.organization_id == redemption.organization_id:
        return True
    return bool(redemption.contact_id and deal.contact_id == redemption.contact_id)


@transaction.atomic
def coupon_redemption_link_deal(
    *, actor: Any, redemption: CouponRedemption, deal: Deal | None
) -> CouponRedemption:
    """Name the repeat deal a redemption helped win (or clear it); only a deal of the same
    customer may be named, so the coupon's revenue is attributed to the right account."""
    locked = (
        CouponRedemption.objects.select_for_update(of=("self",))
        .select_related("coupon")
        .get(pk=redemption.pk)
    )
    if deal is not None and not _same_customer(locked, deal):
        raise DomainError("This deal belongs to another customer.", field="deal")
    if deal is not None and locked.deal_id == deal.pk:
        return locked
    locked.deal = deal
    locked.save(update_fields=["deal", "updated_at"])
    if deal is not None:
        _timeline_note(
            actor=actor,
            subject=f"Coupon {locked.coupon.code} linked to “{deal.title}”",
            body=f"The redemption of {locked.discount} {locked.currency} off helped win this deal.",
            contact_id=locked.contact_id,
            organization_id=locked.organization_id,
            deal=deal,
        )
    return locked
