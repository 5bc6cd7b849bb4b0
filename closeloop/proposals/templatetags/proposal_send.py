"""The send panel on the proposal page (templates/proposals/_actions.html)."""

from __future__ import annotations

from typing import Any

from django import template

from ..document_views import send_panel_context

register = template.Library()


@register.inclusion_tag("proposals/_send_panel.html", takes_context=True)
def proposal_send_panel(context: template.Context, proposal: Any) -> dict[str, Any]:
    """Preview, PDF and the send form, with the reason sending is blocked (if it is)."""
    request = context["request"]
    panel = send_panel_context(proposal, user=request.user, next_url=request.get_full_path())
    return {
        **panel,
        "csrf_token": context.get("csrf_token"),
        "versions": proposal.versions.defer("snapshot"),
    }
