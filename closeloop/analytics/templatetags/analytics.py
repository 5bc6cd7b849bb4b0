"""How report tables show their plain values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html

from closeloop.analytics.results import Link

register = template.Library()


@register.filter
def cell(value: Any) -> Any:
    """None as a dash, links as links, numbers with thousands separated; text escaped."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Link):
        return format_html('<a href="{}">{}</a>', value.url, value.text)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, Decimal):
        return f"{value:,}"
    return value


@register.filter
def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
