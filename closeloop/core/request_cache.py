"""A per-request memo for values many parts of one page ask for (the workspace settings).

Kept for one request only, so a change saved by another process shows on the next request;
outside a request (CLI, tasks, tests of services) nothing is cached.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

T = TypeVar("T")
_memo: ContextVar[dict[str, Any] | None] = ContextVar("closeloop_request_memo", default=None)


def remembered(key: str, compute: Callable[[], T]) -> T:
    """`compute()` once per request; every call outside a request computes afresh."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


class RequestMemoMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
