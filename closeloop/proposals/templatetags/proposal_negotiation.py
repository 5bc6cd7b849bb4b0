"""The proposal page's side panel renders itself, so the page's view need not know about it."""

from __future__ import annotations

from typing import Any

from django import template

from ..negotiation.selectors import proposal_side

register = template.Library()


@register.inclusion_tag("proposals/negotiation/_side_panel.html", takes_context=True)
def proposal_side_panel(context: Any, proposal: Any) -> dict[str, Any]:
    """Versions and discount approval for `proposal` as the requesting user may see them."""
    request = context["request"]
    return {
        "side": proposal_side(user=request.user, proposal=proposal),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
