"""The deal page's proposals list (read through the visibility selector) and proposal amounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from closeloop.core.money import CURRENCY_SYMBOLS

from ..pricing import MINOR_UNITS
from ..selectors import deal_proposals as deal_proposals_selector

register = template.Library()


@register.simple_tag(takes_context=True)
def deal_proposals(context: dict[str, Any], deal: Any) -> list[Any]:
    """The proposals on `deal` the signed-in user may see, with their live totals."""
    return deal_proposals_selector(user=context["request"].user, deal=deal)


@register.filter
def price(amount: Decimal | None, currency: str) -> str:
    """An amount with all its minor units, as a proposal shows it: €4,760.00, ¥1,200."""
    if amount is None:
        return "—"
    places = MINOR_UNITS.get(currency.upper(), 2)
    number = f"{Decimal(amount):,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    if not symbol:
        return f"{number} {currency}"
    return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
