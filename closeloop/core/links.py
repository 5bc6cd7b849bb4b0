"""Links into the app for places with no request to build them from (mail the worker sends)."""

from __future__ import annotations

from django.conf import settings


def absolute_url(path: str) -> str:
    """The full address of a path of this app, at SITE_URL."""
    return f"{settings.SITE_URL}{path if path.startswith('/') else '/' + path}"
