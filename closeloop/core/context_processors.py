from typing import Any

from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    """The workspace name for the page header (one query, only when someone is logged in)."""
    if not request.user.is_authenticated:
        return {}
    from closeloop.accounts.selectors import workspace_settings

    return {"workspace": workspace_settings()}
