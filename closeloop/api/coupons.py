"""Coupons over the API: check a code for an order, and redeem it (one success per last use).

Statuses: 201 redeemed; 400 the input is wrong for this coupon (order value, currency, minimum
order, a deal of another customer); 409 the coupon cannot be used (withdrawn, expired, used up,
another customer's, already used by this customer); 404 no such code, or a customer or deal the
token's user may not see (told apart from nothing). Every refusal is the API's error shape
(`code`, `message`, `fields`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from closeloop.aftersales.coupon_selectors import customer_deals
from closeloop.aftersales.coupons import coupon_code_clean, coupon_redeem, coupon_validate
from closeloop.aftersales.models import Coupon, CouponRedemption
from closeloop.core.exceptions import DomainError
from closeloop.people.models import Contact, Organization
from closeloop.people.selectors import contact_get, organization_get
from closeloop.pipeline.models import Deal

from .errors import ERRORS, WRITE_ERRORS, ApiError, not_found

router = Router(tags=["coupons"])


class CheckOut(Schema):
    code: str
    ok: bool
    reason: str
    field: str | None
    discount: Decimal
    currency: str
    kind: str
    value: Decimal
    expires_at: dt.datetime | None
    uses_left: int | None = Field(None, description="empty: no limit in all")


class CheckQuery(Schema):
    order_value: Decimal = Field(..., ge=0, le=Decimal("999999999.99"))
    currency: str = Field("", max_length=3, description="defaults to the coupon's")
    contact_id: int | None = None
    organization_id: int | None = None


class RedeemIn(Schema):
    order_value: Decimal = Field(..., ge=0, le=Decimal("999999999.99"))
    currency: str = Field("", max_length=3, description="defaults to the coupon's")
    contact_id: int | None = Field(None, description="the customer: a contact…")
    organization_id: int | None = Field(None, description="…or an organization")
    deal_id: int | None = Field(None, description="the repeat deal, one of this customer's")
    note: str = Field("", max_length=300)


class RedemptionOut(Schema):
    id: int
    code: str
    order_value: Decimal
    discount: Decimal
    currency: str
    uses_left: int | None = Field(None, description="empty: no limit in all")
    contact_id: int | None
    organization_id: int | None
    deal_id: int | None
    note: str
    created_at: dt.datetime


def _uses_left(coupon: Coupon) -> int | None:
    return None if coupon.max_uses is None else max(coupon.max_uses - coupon.uses, 0)


def _customer(
    request: HttpRequest, contact_id: int | None, organization_id: int | None
) -> tuple[Contact | None, Organization | None]:
    """The named customer if the token's user may see it; a hidden one is a 404 like a missing."""
    contact = organization = None
    if contact_id is not None:
        contact = contact_get(user=request.user, pk=contact_id)
        if contact is None:
            raise not_found()
    if organization_id is not None:
        organization = organization_get(user=request.user, pk=organization_id)
        if organization is None:
            raise not_found()
    if contact and organization and contact.organization_id != organization.pk:
        raise DomainError("This contact is not of this organization.", field="organization_id")
    return contact, organization


def _refusal(code: str, error: DomainError) -> ApiError:
    fields = {error.field: error.message} if error.field else {}
    status = 400
    if error.field == "code":
        status = 409 if Coupon.objects.filter(code=coupon_code_clean(code)).exists() else 404
    return ApiError(status, error.message, fields=fields)


@router.get(
    "/{code}",
    response={200: CheckOut, **ERRORS},
    summary="Check a coupon for an order",
)
def check_coupon(request: HttpRequest, code: str, query: Query[CheckQuery]) -> Any:
    """What the coupon would take off this customer's order, or why it may not be used;
    changes nothing."""
    contact, organization = _customer(request, query.contact_id, query.organization_id)
    check = coupon_validate(
        code=code,
        order_value=query.order_value,
        currency=query.currency,
        contact=contact,
        organization=organization,
    )
    coupon = check.coupon
    if coupon is None:
        raise ApiError(404, check.reason, fields={"code": check.reason})
    return {
        "code": coupon.code,
        "ok": check.ok,
        "reason": check.reason,
        "field": check.field or None,
        "discount": check.discount,
        "currency": check.currency or coupon.currency,
        "kind": coupon.kind,
        "value": coupon.value,
        "expires_at": coupon.expires_at,
        "uses_left": _uses_left(coupon),
    }


@router.post(
    "/{code}/redeem",
    response={201: RedemptionOut, **WRITE_ERRORS},
    summary="Redeem a coupon",
)
def redeem_coupon(request: HttpRequest, code: str, payload: RedeemIn) -> Status[Any]:
    """Use the coupon once for this customer's order. Atomic: of two requests racing for the
    last use, exactly one gets 201 and the other 409."""
    if payload.contact_id is None and payload.organization_id is None:
        raise DomainError("Name the customer: contact_id or organization_id.", field="contact_id")
    contact, organization = _customer(request, payload.contact_id, payload.organization_id)
    deal = None
    if payload.deal_id is not None:
        if not Deal.objects.visible_to(request.user).filter(pk=payload.deal_id).exists():
            raise not_found()
        deals = customer_deals(user=request.user, contact=contact, organization=organization)
        deal = deals.filter(pk=payload.deal_id).first()
        if deal is None:
            raise DomainError("This deal belongs to another customer.", field="deal_id")
    try:
        redemption: CouponRedemption = coupon_redeem(
            actor=request.user,
            code=code,
            order_value=payload.order_value,
            currency=payload.currency,
            contact=contact,
            organization=organization,
            deal=deal,
            note=payload.note,
        )
    except DomainError as error:
        raise _refusal(code, error) from error
    coupon = Coupon.objects.get(pk=redemption.coupon_id)
    return Status(
        201,
        {
            "id": redemption.pk,
            "code": coupon.code,
            "order_value": redemption.order_value,
            "discount": redemption.discount,
            "currency": redemption.currency,
            "uses_left": _uses_left(coupon),
            "contact_id": redemption.contact_id,
            "organization_id": redemption.organization_id,
            "deal_id": redemption.deal_id,
            "note": redemption.note,
            "created_at": redemption.created_at,
        },
    )
