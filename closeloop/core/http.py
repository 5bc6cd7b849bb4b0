"""Small helpers views share: JSON answers for the board's script, 404 for invisible records."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.http import Http404, HttpRequest, JsonResponse

T = TypeVar("T")


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def found_or_404(obj: T | None) -> T:
    """A record the user may not see is answered exactly like one that does not exist."""
    if obj is None:
        raise Http404("Not found")
    return obj


def int_param(request: HttpRequest, name: str, default: int = 0) -> int:
    value: Any = request.GET.get(name) or request.POST.get(name) or ""
    return int(value) if str(value).isdigit() else default


def query_int(params: Any, name: str) -> int | None:
    """A whole number from a query string, or None when it is missing or not one."""
    value = (params.get(name) or "").strip()
    return int(value) if value.isdigit() else None


def query_date(params: Any, name: str) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) from a query string, or None when it is missing or not one."""
    try:
        return dt.date.fromisoformat((params.get(name) or "").strip())
    except ValueError:
        return None
