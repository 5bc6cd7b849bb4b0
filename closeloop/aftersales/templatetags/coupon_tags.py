"""The coupon panel on a contact's or organization's page (`_customer_coupons.html`)."""

from __future__ import annotations

from typing import Any

from django import template

from ..coupon_views import customer_panel_context

register = template.Library()


@register.inclusion_tag("aftersales/coupons/_customer_coupons_panel.html", takes_context=True)
def customer_coupons_panel(context: template.Context) -> dict[str, Any]:
    """The page's contact (or else organization): its coupons, redemptions and the redeem form."""
    request = context["request"]
    contact = context.get("contact")
    organization = None if contact is not None else context.get("organization")
    return {
        **customer_panel_context(user=request.user, contact=contact, organization=organization),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
