"""Rate limits of the API: per token (or signed-in user), and per address for the rest.

Counted with `closeloop.core.ratelimit` in the database, not in Django's cache: the project
configures no shared cache, and the default (local memory) is per process, so each gunicorn
worker would allow the whole rate on its own. A fixed window aligned to the clock; a client
over the limit gets 429 `rate_limited` with `Retry-After` (seconds until the next window).

A write on every request was a third of an API call's cost (and, on SQLite, two server
processes queueing for the write lock), so each process adds its requests up and writes them
in batches: after BATCH requests or FLUSH_SECONDS, whichever comes first, and at every request
once the count is within a batch of the limit. Far from the limit the database may lag by a
batch per process; near it every request is counted there, so a client is refused at the
limit, give or take what other processes have not written yet (under a batch each).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.errors import Throttled

from closeloop.core.ratelimit import (
    RateLimitState,
    client_ip,
    rate_limit_add,
    rate_limit_prune,
    window_start_for,
)

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


BATCH = 20
FLUSH_SECONDS = 1.0


@dataclass
class _Tally:
    """This process's view of one key's window: the count the database gave last time, and
    the requests made here since."""

    window_start: dt.datetime
    known: int = 0
    pending: int = 0
    flushed_at: float = 0.0


_tallies: dict[str, _Tally] = {}
_tallies_lock = threading.Lock()


def rate_limit_tallies_forget() -> None:
    """Drop this process's unwritten counts (tests start each from the database alone)."""
    with _tallies_lock:
        _tallies.clear()


def _counted(key: str, limit: int, window: int) -> RateLimitState:
    """One more request for `key`, written to the database in batches (see the module)."""
    now = timezone.now()
    start = window_start_for(now, window)
    with _tallies_lock:
        tally = _tallies.get(key)
        if tally is None or tally.window_start != start:
            if len(_tallies) > 10_000:  # keys of windows long gone
                _tallies.clear()
            tally = _tallies[key] = _Tally(start, flushed_at=time.monotonic())
        tally.pending += 1
        near = tally.known + tally.pending + BATCH > limit
        due = time.monotonic() - tally.flushed_at >= FLUSH_SECONDS
        if near or due or tally.pending >= BATCH:
            written = tally.pending
            tally.known = rate_limit_add(key, start, written)
            tally.pending = 0
            tally.flushed_at = time.monotonic()
            if tally.known == written:  # this write opened the window's row
                rate_limit_prune(now=now)  # a cheap moment to forget the old windows
        count = tally.known + tally.pending
    return RateLimitState(key, count, limit, start, window, now)


def _hit(request: HttpRequest, key: str, setting: str) -> RateLimitState:
    limit, window = rate_parse(getattr(settings, setting), setting)
    state = _counted(f"api:{key}", limit, window)
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
