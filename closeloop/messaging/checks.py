"""Start-up check: a mistyped EMAIL_URL stops the app with a message naming the variable."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

from closeloop.core.exceptions import DomainError

from .smtp import email_url_parse


@register(Tags.compatibility, deploy=False)
def email_url_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """EMAIL_URL is either unset (mail is held in the outbox) or a URL the sender can use."""
    if not settings.EMAIL_URL:
        return []
    try:
        email_url_parse(settings.EMAIL_URL)
    except DomainError as exc:
        return [Error(exc.message, hint="See docs/operations.md, “Email”.", id="closeloop.E001")]
    return []
