"""Rate limits of the API: per token (or signed-in user), and per address for the rest.

Counted with `closeloop.core.ratelimit` in the database, not in Django's cache: the project
configures no shared cache, and the default (local memory) is per process, so each gunicorn
worker would allow the whole rate on its own. A fixed window aligned to the clock; a client
over the limit gets 429 `rate_limited` with `Retry-After` (seconds until the next window).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from ninja.errors import Throttled

from closeloop.core.ratelimit import RateLimitState, client_ip, rate_limit_hit

from .errors import error_response

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60,
           "h": 3600, "hour": 3600, "d": 86400, "day": 86400}  # fmt: skip
_RATE = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+?)s?\s*$")


@functools.cache
def rate_parse(rate: str, setting: str) -> tuple[int, int]:
    """`"600/min"` → (600 requests, 60 seconds); a clear error names a malformed setting."""
    match = _RATE.match(rate.lower())
    if match is None or match.group(2) not in PERIODS or int(match.group(1)) < 1:
        raise ImproperlyConfigured(
            f"{setting}={rate!r}: write it as a number per s, min, hour or day, e.g. 600/min."
        )
    return int(match.group(1)), PERIODS[match.group(2)]


def _hit(request: HttpRequest, key: str, setting: str) -> RateLimitState:
    limit, window = rate_parse(getattr(settings, setting), setting)
    state = rate_limit_hit(key=f"api:{key}", limit=limit, window_seconds=window)
    request.api_rate = state  # type: ignore[attr-defined]
    if not state.allowed:
        raise Throttled(wait=state.retry_after)
    return state


def rate_limit_caller(request: HttpRequest, caller: str) -> None:
    """Count a request of a known caller (`token:12`, `user:5`); Throttled past API_RATE_LIMIT."""
    _hit(request, caller, "API_RATE_LIMIT")


def rate_limit_address(request: HttpRequest) -> None:
    """Count a request nobody signed for, per address; Throttled past API_RATE_LIMIT_PER_IP."""
    _hit(request, f"ip:{client_ip(request)}", "API_RATE_LIMIT_PER_IP")


def rate_headers_add(request: HttpRequest, response: HttpResponse) -> None:
    """Tell the client its limit, what is left of it and when the window resets."""
    state: RateLimitState | None = getattr(request, "api_rate", None)
    if state is None:
        return
    response["RateLimit-Limit"] = str(state.limit)
    response["RateLimit-Remaining"] = str(max(0, state.limit - state.count))
    response["RateLimit-Reset"] = str(state.retry_after)


def limited_per_address(view: Callable[..., Any]) -> Callable[..., Any]:
    """For the API's public pages (the OpenAPI description and docs): the per-address limit."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            rate_limit_address(request)
        except Throttled as exc:
            return error_response(request, exc)
        return view(request, *args, **kwargs)

    return wrapped


def rate_headers(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """View decorator on every operation: the RateLimit-* headers on each answer."""

    @functools.wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = run(request, *args, **kwargs)
        rate_headers_add(request, response)
        return response

    return wrapped
