"""Who is calling the API: a program with a token, or the pages with the signed-in session.

The callbacks run in order and the first that knows the caller wins:

1. `TokenAuth`: `Authorization: Bearer cl_…` (tokens from the profile page or
   `closeloop token create`). Counts the request against the token's rate limit, notes the
   use (at most once a minute) and refuses every write of a read-only token (403).
2. `SessionAuth`: the signed-in browser session, for the pages' own calls. Unsafe methods
   need the CSRF token (the `X-CSRFToken` header) like any form. Never consulted when an
   Authorization header was sent: a program with a wrong token gets 401, not the session's
   answer.
3. `unauthenticated_limit`: nobody was recognised; counts the call per address (429 past
   API_RATE_LIMIT_PER_IP), after which the API answers 401.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from closeloop.accounts.selectors import api_token_lookup
from closeloop.accounts.services import api_token_touch

from .errors import ApiError
from .throttling import rate_limit_address, rate_limit_caller

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

READ_ONLY = (
    "This token is read-only: it may list and read records, not change them. "
    "Create a read-write token in your profile to make changes."
)
CSRF_FAILED = (
    "CSRF check failed: a signed-in page must send the csrftoken cookie's value in the "
    "X-CSRFToken header (programs use a token instead)."
)


class TokenAuth(HttpBearer):
    """A personal API token: acts as its user, within the token's scope."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        record = api_token_lookup(secret=token)
        if record is None:
            return None
        api_token_touch(token=record)
        rate_limit_caller(request, f"token:{record.pk}")
        if record.is_read_only and request.method not in SAFE_METHODS:
            raise ApiError(403, READ_ONLY)
        request.user = record.user
        request.api_token = record  # type: ignore[attr-defined]
        return record.user


class SessionAuth(APIKeyCookie):
    """The signed-in user's browser session, CSRF-checked on POST, PUT, PATCH and DELETE."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # ninja checks CSRF here for anyone; only a signed-in session needs it (authenticate)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if "HTTP_AUTHORIZATION" in request.META:
            return None
        user = getattr(request, "user", None)
        if not key or user is None or not user.is_authenticated:
            return None
        csrf_exempt = getattr(request, "_ninja_csrf_exempt", False)
        if not csrf_exempt and check_csrf(request) is not None:
            raise ApiError(403, CSRF_FAILED)
        rate_limit_caller(request, f"user:{user.pk}")
        return user


def unauthenticated_limit(request: HttpRequest) -> None:
    """Last in the list: no credentials matched, so the call counts against its address."""
    rate_limit_address(request)
    return None
