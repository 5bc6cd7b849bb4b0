"""Template tags of follow-up plans: the plans shown on a deal, organization or contact page."""

from __future__ import annotations

from typing import Any

from django import template

from closeloop.people.models import Contact, Organization
from closeloop.pipeline.models import Deal

from ..plans_selectors import plans_of

register = template.Library()


@register.simple_tag(takes_context=True)
def plans_for(context: dict[str, Any], record: Any) -> list[Any]:
    """The plans of a deal, organization or contact that the signed-in user may see."""
    user = context["request"].user
    if isinstance(record, Deal):
        return plans_of(user=user, deal=record)
    if isinstance(record, Organization):
        return plans_of(user=user, organization=record)
    if isinstance(record, Contact):
        return plans_of(user=user, contact=record)
    return []
