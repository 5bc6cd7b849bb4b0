"""Small helpers views share: JSON answers for the board's script, 404 for invisible records."""

from __future__ import annotations

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
