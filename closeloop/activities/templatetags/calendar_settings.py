"""The profile's calendar section: the user's feed links and their reminder settings form."""

from __future__ import annotations

from typing import Any

from django import template

from closeloop.activities.calendar_forms import ReminderSettingsForm
from closeloop.activities.feed import calendar_feed_url

register = template.Library()


@register.simple_tag
def calendar_settings(user: Any) -> dict[str, Any]:
    """The feed's https and webcal:// addresses (empty without a feed) and the settings form."""
    url = calendar_feed_url(user)
    return {
        "feed_url": url,
        "webcal_url": "webcal://" + url.split("://", 1)[1] if url else "",
        "form": ReminderSettingsForm(
            initial={
                "reminder_minutes": user.reminder_minutes,
                "digest_enabled": user.digest_enabled,
                "digest_hour": user.digest_hour,
            }
        ),
    }
