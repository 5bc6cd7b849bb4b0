"""The product catalogue over the API: everyone reads it; admins and managers change it.

Deleting a product deactivates it, as the catalogue page does: it is no longer offered on new
proposals, and proposals already made keep their lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from closeloop.accounts.actors import require_admin_or_manager
from closeloop.proposals.choices import Billing
from closeloop.proposals.models import Product
from closeloop.proposals.selectors import product_search
from closeloop.proposals.services import product_create, product_update
from closeloop.proposals.services.catalogue import MANAGERS_ONLY

from .errors import ERRORS, WRITE_ERRORS, not_found
from .ids import PathId
from .lists import ListQuery, Page, page_of
from .roles import role_required

router = Router(tags=["products"])

PRODUCT_ORDERINGS = ("name", "created_at", "updated_at", "unit_price")

# the model's columns: 16 digits, 4 after the point; a tax rate from 0 to 100 with 2 decimals
Price = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=4)]
TaxRate = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
CurrencyCode = Annotated[
    str, Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$", description="ISO 4217")
]


class ProductIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    sku: str = Field("", max_length=64, description="unique when given")
    description: str = Field("", max_length=100_000)
    unit: str = Field("piece", max_length=30)
    unit_price: Price
    currency: CurrencyCode
    tax_rate: TaxRate = Decimal(0)
    floor_price: Price | None = Field(
        None, description="the least a unit may be sold for without a manager's approval"
    )
    billing: Billing = Billing.ONE_OFF
    is_active: bool = True


class ProductPatch(Schema):
    """Only the fields sent change; `floor_price: null` removes the floor."""

    name: str | None = Field(None, min_length=1, max_length=200)
    sku: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=100_000)
    unit: str | None = Field(None, max_length=30)
    unit_price: Price | None = None
    currency: CurrencyCode | None = None
    tax_rate: TaxRate | None = None
    floor_price: Price | None = None
    billing: Billing | None = None
    is_active: bool | None = None


class ProductOut(Schema):
    id: int
    name: str
    sku: str
    description: str
    unit: str
    unit_price: Decimal
    currency: str
    tax_rate: Decimal
    floor_price: Decimal | None
    billing: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductListQuery(ListQuery):
    q: str = Field("", max_length=200, description="part of the name, SKU or description")
    active: Literal["active", "inactive", "all"] = Field(
        "all", description="offered ones, deactivated ones, or all"
    )
    billing: Billing | None = None
    currency: CurrencyCode | None = None


def _product(product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise not_found("product")
    return product


def _may_change(request: HttpRequest) -> None:
    role_required(require_admin_or_manager, request.user, MANAGERS_ONLY)


@router.get("", response={200: Page[ProductOut], **ERRORS}, summary="List products")
def list_products(request: HttpRequest, query: Query[ProductListQuery]) -> Any:
    """The catalogue, by name unless `ordering` says otherwise; everyone may read it."""
    products = product_search(
        query=query.q.strip(),
        active=query.active,
        billing=query.billing or "",
        currency=query.currency or "",
    )
    return page_of(products, query, orderings=PRODUCT_ORDERINGS, default="name")


@router.post("", response={201: ProductOut, **WRITE_ERRORS}, summary="Create a product")
def create_product(request: HttpRequest, payload: ProductIn) -> Status[Any]:
    """Add a product (admins and managers; others 403). A SKU another product has answers 400,
    as does a currency we do not know or a floor price above the unit price."""
    _may_change(request)
    product = product_create(actor=request.user, **payload.dict())
    return Status(201, _product(product.pk))


@router.get("/{product_id}", response={200: ProductOut, **ERRORS}, summary="Read a product")
def read_product(request: HttpRequest, product_id: PathId) -> Product:
    """One product of the catalogue, offered or deactivated."""
    return _product(product_id)


@router.patch(
    "/{product_id}", response={200: ProductOut, **WRITE_ERRORS}, summary="Change a product"
)
def update_product(request: HttpRequest, product_id: PathId, payload: ProductPatch) -> Product:
    """Change the fields sent (admins and managers); proposals already made keep their prices."""
    _may_change(request)
    product = _product(product_id)
    sent = payload.dict(exclude_unset=True)
    changes = {k: v for k, v in sent.items() if v is not None or k == "floor_price"}
    product_update(actor=request.user, product=product, **changes)
    return _product(product_id)


@router.delete(
    "/{product_id}", response={204: None, **WRITE_ERRORS}, summary="Deactivate a product"
)
def delete_product(request: HttpRequest, product_id: PathId) -> Status[None]:
    """Deactivate the product (admins and managers): no longer offered on new proposals, kept
    on the ones made. `PATCH {"is_active": true}` offers it again."""
    _may_change(request)
    product_update(actor=request.user, product=_product(product_id), is_active=False)
    return Status(204, None)
