"""Coupons over the API, with the coupon pages' rules: list, issue and withdraw coupons; check a
code for an order, and redeem it (one success per last use).

Who sees what is the pages' rule (`coupon_selectors`): a coupon issued to a customer is seen by
whoever may see that contact or organization; a campaign code by everyone. Anyone may issue a
coupon to a customer they see, or a campaign code, and withdraw a coupon they see — the pages ask
no role. Coupons have no update rule (no page or service changes one), so there is no PATCH.

Statuses of check and redeem: 201 redeemed; 400 the input is wrong for this coupon (order value,
currency, minimum order, a deal of another customer); 409 the coupon cannot be used (withdrawn,
expired, used up, another customer's, already used by this customer); 404 no such code, or a
customer or deal the token's user may not see (told apart from nothing). Every refusal is the
API's error shape (`code`, `message`, `fields`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from closeloop.aftersales.choices import CouponKind, CouponOrigin
from closeloop.aftersales.coupon_selectors import (
    CouponFilters,
    coupon_campaigns,
    coupon_list,
    coupon_queryset,
    customer_deals,
)
from closeloop.aftersales.coupons import (
    MAX_VALUE,
    coupon_code_clean,
    coupon_issue,
    coupon_redeem,
    coupon_validate,
    coupon_withdraw,
)
from closeloop.aftersales.models import Coupon, CouponRedemption
from closeloop.core.exceptions import DomainError
from closeloop.people.models import Contact, Organization
from closeloop.people.selectors import contact_get, organization_get
from closeloop.pipeline.models import Deal

from .errors import ERRORS, WRITE_ERRORS, ApiError, field_error, not_found
from .ids import RecordId
from .lists import ListQuery, Page, page_of
from .moments import Moment

router = Router(tags=["coupons"])

COUPON_ORDERINGS = ("created_at", "updated_at", "expires_at", "code")
# A coupon without an expiry sorts as the one that expires last.
NEVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
MAX_COUNT = 2**31 - 1  # the database's positive integer


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
    order_value: Decimal = Field(..., ge=0, le=MAX_VALUE)
    currency: str = Field("", max_length=3, description="defaults to the coupon's")
    contact_id: RecordId | None = None
    organization_id: RecordId | None = None


class RedeemIn(Schema):
    order_value: Decimal = Field(..., ge=0, le=MAX_VALUE)
    currency: str = Field("", max_length=3, description="defaults to the coupon's")
    contact_id: RecordId | None = Field(None, description="the customer: a contact…")
    organization_id: RecordId | None = Field(None, description="…or an organization")
    deal_id: RecordId | None = Field(None, description="the repeat deal, one of this customer's")
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


class CouponOut(Schema):
    id: int
    code: str
    status: Literal["active", "expired", "used_up", "withdrawn"]
    kind: CouponKind
    value: Decimal = Field(..., description="percent off, or the amount off in `currency`")
    currency: str = Field(..., description="amounts off only; empty for a percentage")
    expires_at: Moment | None = Field(..., description="empty: never expires")
    max_uses: int | None = Field(..., description="in all; empty: no limit")
    max_uses_per_customer: int | None = Field(..., description="empty: no limit")
    uses: int
    uses_left: int | None = Field(..., description="empty: no limit in all")
    min_order: Decimal | None
    contact_id: int | None
    organization_id: int | None
    campaign_id: int | None
    origin: CouponOrigin
    description: str
    withdrawn_at: dt.datetime | None
    withdraw_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_uses_left(obj: Coupon) -> int | None:
        return _uses_left(obj)


class CouponListQuery(ListQuery):
    status: Literal["active", "expired", "used_up", "withdrawn"] | None = None
    kind: CouponKind | None = None
    origin: CouponOrigin | None = None
    contact_id: RecordId | None = None
    organization_id: RecordId | None = None
    campaign_id: RecordId | None = None
    q: str = Field("", max_length=100, description="part of the code or the description")


class IssueIn(Schema):
    target: Literal["customer", "campaign"] = Field(
        "customer",
        description="`customer`: for one contact or organization; `campaign`: a code anyone "
        "may use",
    )
    contact_id: RecordId | None = Field(None, description="the customer: a contact…")
    organization_id: RecordId | None = Field(
        None, description="…or an organization (any of its people may use it)"
    )
    code: str = Field(
        "", max_length=32, description="a campaign code's own, e.g. SPRING25; empty: random"
    )
    campaign_id: RecordId | None = Field(None, description="counts in this campaign")
    kind: CouponKind
    value: Decimal = Field(
        ..., gt=0, le=MAX_VALUE, decimal_places=2, description="percent (1–100) or amount off"
    )
    currency: str = Field("", max_length=3, description="amounts off; defaults to the base one")
    expires_on: dt.date | None = Field(
        None,
        le=dt.date(9999, 12, 30),
        description="usable until the end of this day (the token user's time zone)…",
    )
    valid_days: int | None = Field(None, ge=1, le=3650, description="…or for this many days")
    max_uses: int | None = Field(None, ge=1, le=MAX_COUNT, description="in all; empty: no limit")
    max_uses_per_customer: int | None = Field(1, ge=1, le=MAX_COUNT, description="`null`: no limit")
    min_order: Decimal | None = Field(None, ge=0, le=MAX_VALUE, decimal_places=2)
    description: str = Field("", max_length=200)


class WithdrawQuery(Schema):
    reason: str = Field("", max_length=300, description="kept on the coupon")


def _uses_left(coupon: Coupon) -> int | None:
    return None if coupon.max_uses is None else max(coupon.max_uses - coupon.uses, 0)


def _customer(
    request: HttpRequest, contact_id: int | None, organization_id: int | None
) -> tuple[Contact | None, Organization | None]:
    """The named customer if the token's user may see it; a hidden one is a 404 like a missing
    (naming the field)."""
    contact = organization = None
    if contact_id is not None:
        contact = contact_get(user=request.user, pk=contact_id)
        if contact is None:
            raise _missing("contact", "contact_id")
    if organization_id is not None:
        organization = organization_get(user=request.user, pk=organization_id)
        if organization is None:
            raise _missing("organization", "organization_id")
    if contact and organization and contact.organization_id != organization.pk:
        raise DomainError("This contact is not of this organization.", field="organization_id")
    return contact, organization


def _missing(what: str, field: str) -> ApiError:
    error = not_found(what)
    error.fields = {field: error.message}
    return error


def _known_code(code: str) -> str:
    """The code from the path; one no coupon can have (a NUL the database refuses) is a 404."""
    if "\x00" in code:
        message = "There is no coupon with this code."
        raise ApiError(404, message, fields={"code": message})
    return code


def _coupon(request: HttpRequest, code: str) -> Coupon:
    coupon = (
        coupon_queryset(user=request.user).filter(code=coupon_code_clean(_known_code(code))).first()
    )
    if coupon is None:
        raise not_found("coupon")
    return coupon


@router.get("", response={200: Page[CouponOut], **ERRORS}, summary="List coupons")
def list_coupons(request: HttpRequest, query: Query[CouponListQuery]) -> Any:
    """The coupons the token's user may see, as the coupons page lists them: those of customers
    they may see, and every campaign code; newest first unless `ordering` says otherwise."""
    filters = CouponFilters(
        status=query.status or "",
        origin=query.origin or "",
        contact_id=query.contact_id,
        organization_id=query.organization_id,
        campaign_id=query.campaign_id,
        q=query.q.strip(),
    )
    # `expires_at` is sorted by a key that is never empty (the cursor needs a value)
    coupons = coupon_list(user=request.user, filters=filters).annotate(
        expires_key=Coalesce("expires_at", Value(NEVER, output_field=DateTimeField()))
    )
    if query.kind:
        coupons = coupons.filter(kind=query.kind)
    return page_of(
        coupons,
        query,
        orderings=COUPON_ORDERINGS,
        default="-created_at",
        sort_keys={"expires_at": "expires_key"},
    )


@router.post("", response={201: CouponOut, **WRITE_ERRORS}, summary="Issue a coupon")
def issue_coupon(request: HttpRequest, payload: IssueIn) -> Status[Any]:
    """Issue a coupon with the issue page's rules: to one customer the token's user may see
    (`target: customer`, a random code), or a campaign code anyone may use (`target:
    campaign`, its own `code` or a random one). Every refusal names its field."""
    contact, organization = _customer(request, payload.contact_id, payload.organization_id)
    if payload.target == "customer":
        if contact is None and organization is None:
            raise field_error("contact_id", "Choose the contact or the organization it is for.")
        if payload.code.strip():
            message = (
                "Only a campaign code has its own code; a customer's coupon gets a random one."
            )
            raise field_error("code", message)
    elif contact is not None or organization is not None:
        field = "contact_id" if contact is not None else "organization_id"
        raise field_error(field, "A campaign code is for anyone: name no customer.")
    campaign = None
    if payload.campaign_id is not None:
        campaign = coupon_campaigns().filter(pk=payload.campaign_id).first()
        if campaign is None:
            raise field_error("campaign_id", f"Unknown campaign id {payload.campaign_id}.")
    if payload.expires_on and payload.valid_days:
        raise field_error("valid_days", "Give an expiry date or a number of days, not both.")
    expires_at = None
    if payload.expires_on is not None:
        zone = request.user.zone  # type: ignore[union-attr]
        if payload.expires_on < timezone.localdate(timezone.now(), zone):
            raise field_error("expires_on", "The expiry date is in the past.")
        expires_at = dt.datetime.combine(
            payload.expires_on + dt.timedelta(days=1), dt.time.min, tzinfo=zone
        )
    campaign_code = payload.target == "campaign"
    try:
        coupon = coupon_issue(
            actor=request.user,
            kind=payload.kind,
            value=payload.value,
            currency=payload.currency,
            expires_at=expires_at,
            valid_days=payload.valid_days,
            max_uses=payload.max_uses,
            max_uses_per_customer=payload.max_uses_per_customer,
            min_order=payload.min_order,
            contact=contact,
            organization=organization,
            origin=CouponOrigin.CAMPAIGN if campaign_code else CouponOrigin.MANUAL,
            campaign=campaign,
            description=payload.description,
            code=payload.code.strip() if campaign_code else "",
        )
    except DomainError as error:
        taken = Coupon.objects.filter(code=coupon_code_clean(payload.code)).exists()
        if error.field == "code" and campaign_code and taken:  # another coupon's code
            raise ApiError(409, error.message, fields={"code": error.message}) from error
        raise
    return Status(201, _coupon(request, coupon.code))


@router.delete("/{code}", response={204: None, **WRITE_ERRORS}, summary="Withdraw a coupon")
def withdraw_coupon(request: HttpRequest, code: str, query: Query[WithdrawQuery]) -> Status[None]:
    """Withdraw the coupon for good, as its page does: later checks and redemptions refuse it,
    the redemptions already made are kept, and who, when and `reason` stay on the coupon (and on
    the customer's timeline). A coupon withdrawn already answers 409."""
    coupon = _coupon(request, code)
    try:
        coupon_withdraw(actor=request.user, coupon=coupon, reason=query.reason)
    except DomainError as error:
        raise ApiError(409, error.message, fields={"code": error.message}) from error
    return Status(204, None)


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
    _known_code(code)
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
    _known_code(code)
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
