"""Lines as they come in (a form, the API, a template) and how they become stored lines."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from closeloop.core.exceptions import DomainError

from ..choices import Billing, DiscountKind
from ..models import LineFields, Product
from ..pricing import line_check, line_total, plain

LINE_FIELDS = (
    "position",
    "product",
    "name",
    "description",
    "quantity",
    "unit",
    "unit_price",
    "discount_kind",
    "discount_value",
    "tax_rate",
    "billing",
)


@dataclass
class LineIn:
    """One line to store. With a product, empty name, unit, price, tax and billing come from
    the product."""

    name: str = ""
    product: Product | None = None
    description: str = ""
    quantity: Decimal | str | int = Decimal(1)
    unit: str = ""
    unit_price: Decimal | str | int | None = None
    discount_kind: str = DiscountKind.PERCENT
    discount_value: Decimal | str | int = Decimal(0)
    tax_rate: Decimal | str | int | None = None
    billing: str = ""


def _decimal(value: Any, *, position: int, label: str) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise DomainError(
            f"Line {position}: “{str(value)[:30]}” is not a number ({label}).", field="lines"
        ) from None
    if not number.is_finite():
        raise DomainError(f"Line {position}: {label} must be a number.", field="lines")
    return number


def line_build(line: LineIn, *, position: int, currency: str, model: type[LineFields]) -> Any:
    """An unsaved line of `model`, checked; a product in another currency is refused."""
    product = line.product
    if product is not None and product.currency != currency:
        raise DomainError(
            f"Line {position}: {product.name} is priced in {product.currency}, "
            f"this proposal is in {currency}.",
            field="lines",
        )
    price = line.unit_price
    if price in (None, "") and product is not None:
        price = product.unit_price
    tax = line.tax_rate
    if tax in (None, "") and product is not None:
        tax = product.tax_rate
    built = model(
        position=position,
        product=product,
        name=(line.name or (product.name if product else "")).strip()[:200],
        description=(line.description or (product.description if product else "")).strip(),
        quantity=_decimal(line.quantity, position=position, label="quantity"),
        unit=(line.unit or (product.unit if product else "")).strip()[:30],
        unit_price=_decimal(
            price if price not in (None, "") else 0, position=position, label="unit price"
        ),
        discount_kind=line.discount_kind or DiscountKind.PERCENT,
        discount_value=_decimal(line.discount_value or 0, position=position, label="discount"),
        tax_rate=_decimal(tax if tax not in (None, "") else 0, position=position, label="tax rate"),
        billing=line.billing or (product.billing if product else Billing.ONE_OFF),
    )
    line_check(built, position=position)
    line_total(built, currency, position=position)
    return built


def line_in_from(stored: LineFields) -> LineIn:
    """A stored line (a template's, an earlier proposal's) as input for a new one."""
    return LineIn(
        name=stored.name,
        product=stored.product,
        description=stored.description,
        quantity=stored.quantity,
        unit=stored.unit,
        unit_price=stored.unit_price,
        discount_kind=stored.discount_kind,
        discount_value=stored.discount_value,
        tax_rate=stored.tax_rate,
        billing=stored.billing,
    )


def line_json(line: LineFields) -> dict[str, Any]:
    """A line as a frozen version keeps it (every number as a string)."""
    return {
        "position": line.position,
        "product_id": line.product_id,
        "name": line.name,
        "description": line.description,
        "quantity": plain(line.quantity),
        "unit": line.unit,
        "unit_price": plain(line.unit_price),
        "discount_kind": line.discount_kind,
        "discount_value": plain(line.discount_value),
        "tax_rate": plain(line.tax_rate),
        "billing": line.billing,
    }


def line_text(line: LineFields) -> str:
    """A line in words, as the audit log writes a proposal's lines: “2 piece × Setup at 500,
    10 % off, tax 19 %, one-off”."""
    data = line_json(line)
    unit = f" {data['unit']}" if data["unit"] else ""
    text = f"{data['quantity']}{unit} × {data['name']} at {data['unit_price']}"
    if data["discount_value"] not in ("0", ""):
        off = " %" if data["discount_kind"] == DiscountKind.PERCENT else ""
        text += f", {data['discount_value']}{off} off"
    billing = data["billing"]
    billing = Billing(billing).label.lower() if billing in Billing.values else billing
    text += f", tax {data['tax_rate']} %, {billing}"
    if data["description"]:
        text += f" ({data['description']})"
    return text
