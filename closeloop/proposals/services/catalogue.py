"""The product catalogue, proposal templates and discount limits: set up by admins and managers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from closeloop.accounts.actors import acting_user, require_admin_or_manager
from closeloop.accounts.choices import Role
from closeloop.core.exceptions import DomainError
from closeloop.core.money import CURRENCY_CODES

from ..choices import Billing
from ..models import DiscountLimit, Product, ProposalTemplate, TemplateLine
from .lines import LineIn, line_build
from .terms import terms_apply

MANAGERS_ONLY = "Only admins and managers can change the catalogue and templates."
PRODUCT_FIELDS = (
    "name",
    "sku",
    "description",
    "unit",
    "unit_price",
    "currency",
    "tax_rate",
    "floor_price",
    "billing",
    "is_active",
)


def _amount(value: Any, *, field: str, allow_none: bool = False) -> Decimal | None:
    if value in (None, "") and allow_none:
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise DomainError(f"“{str(value)[:30]}” is not a number.", field=field) from None
    if not number.is_finite() or number < 0:
        raise DomainError("Give a number of 0 or more.", field=field)
    return number


def _product_apply(product: Product, changes: dict[str, Any]) -> None:
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise DomainError(f"Unknown field: {', '.join(sorted(unknown))}.")
    for name, value in changes.items():
        setattr(product, name, value)
    product.name = (product.name or "").strip()[:200]
    if not product.name:
        raise DomainError("Give the product a name.", field="name")
    product.sku = (product.sku or "").strip()[:64]
    product.unit = (product.unit or "").strip()[:30] or "piece"
    product.currency = (product.currency or "").strip().upper()
    if product.currency not in CURRENCY_CODES:
        raise DomainError(f"“{product.currency}” is not a currency we know.", field="currency")
    product.unit_price = _amount(product.unit_price, field="unit_price")  # type: ignore[assignment]
    product.tax_rate = _amount(product.tax_rate, field="tax_rate")  # type: ignore[assignment]
    if product.tax_rate > 100:
        raise DomainError("The tax rate must be between 0 and 100 %.", field="tax_rate")
    product.floor_price = _amount(product.floor_price, field="floor_price", allow_none=True)
    if product.floor_price is not None and product.floor_price > product.unit_price:
        raise DomainError("The floor price cannot be above the unit price.", field="floor_price")
    if product.billing not in Billing.values:
        raise DomainError("Choose one-off, monthly or yearly.", field="billing")
    if product.sku and Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists():
        raise DomainError(f"Another product has the SKU {product.sku}.", field="sku")


@transaction.atomic
def product_create(*, actor: Any, **fields: Any) -> Product:
    """Add a product to the catalogue (admins and managers)."""
    require_admin_or_manager(actor, MANAGERS_ONLY)
    product = Product()
    _product_apply(product, fields)
    product.save()
    return product


@transaction.atomic
def product_update(*, actor: Any, product: Product, **changes: Any) -> Product:
    """Change a product; proposals already made keep the prices they were made with."""
    require_admin_or_manager(actor, MANAGERS_ONLY)
    product = Product.objects.select_for_update().get(pk=product.pk)
    _product_apply(product, changes)
    product.save()
    return product


@transaction.atomic
def template_save(
    *,
    actor: Any,
    template: ProposalTemplate | None = None,
    name: str,
    currency: str,
    lines: Sequence[LineIn] = (),
    materials: Sequence[Any] | None = None,
    is_active: bool = True,
    **terms: Any,
) -> ProposalTemplate:
    """Create or change a template: its texts, terms, default lines (priced in `currency`,
    the catalogue's currency for its products) and materials."""
    require_admin_or_manager(actor, MANAGERS_ONLY)
    template = template or ProposalTemplate(created_by=acting_user(actor))
    template.name = (name or "").strip()[:120]
    if not template.name:
        raise DomainError("Give the template a name.", field="name")
    clash = ProposalTemplate.objects.filter(name__iexact=template.name).exclude(pk=template.pk)
    if clash.exists():
        raise DomainError(f"A template is already called {template.name}.", field="name")
    template.currency = (currency or "").strip().upper()
    if template.currency not in CURRENCY_CODES:
        raise DomainError(f"“{template.currency}” is not a currency we know.", field="currency")
    template.is_active = is_active
    terms_apply(template, terms)
    built = [
        line_build(line, position=i, currency=template.currency, model=TemplateLine)
        for i, line in enumerate(lines, start=1)
    ]
    template.save()
    template.lines.all().delete()
    for line in built:
        line.template = template
    TemplateLine.objects.bulk_create(built)
    if materials is not None:
        template.materials.set(materials)
    return template


@transaction.atomic
def discount_limit_set(*, actor: Any, role: str, max_percent: Any) -> DiscountLimit:
    """The largest discount `role` may give without approval; empty means no limit."""
    if acting_user(actor) is not None and acting_user(actor).role != Role.ADMIN:  # type: ignore[union-attr]
        raise DomainError("Only admins can set discount limits.")
    if role not in Role.values:
        raise DomainError(f"Unknown role {role}.", field="role")
    limit = _amount(max_percent, field="max_percent", allow_none=True)
    if limit is not None and limit > 100:
        raise DomainError("A limit is a percentage from 0 to 100.", field="max_percent")
    row, _ = DiscountLimit.objects.update_or_create(role=role, defaults={"max_percent": limit})
    return row
