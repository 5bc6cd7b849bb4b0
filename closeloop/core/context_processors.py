from typing import Any

from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The workspace name for the page header (one query, only when someone is logged in)."""
    if not request.user.is_authenticated:
        return {}
    from closeloop.accounts.selectors import workspace_settings

    return {"workspace": workspace_settings()}


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the bell in the page header."""
    if not request.user.is_authenticated:
        return {}
    from closeloop.activities.selectors import notification_unread_count

    return {"unread_notifications": notification_unread_count(user=request.user)}
