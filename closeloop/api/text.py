"""Text the database cannot keep: the NUL character.

PostgreSQL refuses a NUL (U+0000) in any text value, and SQLite would keep a string that other
tools cut short there. No field of the API needs one, so a request carrying a NUL in its query,
its path or anywhere in its JSON body is refused up front (422, naming the field) instead of
failing in the database.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from .errors import field_error

MESSAGE = "Text may not contain the NUL character (\\u0000)."


def _in_json(value: Any, path: str) -> str | None:
    """The dotted path of the first string holding a NUL inside a parsed JSON value."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = _in_json(key, path) or _in_json(item, f"{path}.{key}" if path else str(key))
            if where is not None:
                return where
    if isinstance(value, list):
        for index, item in enumerate(value):
            where = _in_json(item, f"{path}.{index}" if path else str(index))
            if where is not None:
                return where
    return None


def nul_field(request: HttpRequest, path_values: dict[str, Any]) -> str | None:
    """Which part of the request carries a NUL, if any: a path value, a query parameter or a
    field of the body."""
    for name, value in path_values.items():
        if isinstance(value, str) and "\x00" in value:
            return name
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "")
    body = request.body
    if b"\x00" in body or b"\\u0000" in body:
        try:
            return _in_json(json.loads(body), "") or "body"
        except ValueError:
            return "body"
    return None


def nul_refused(view_func: Callable[..., Any]) -> Callable[..., Any]:
    """Operation decorator: 422 for a request with a NUL anywhere in its text."""

    @functools.wraps(view_func)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        where = nul_field(request, kwargs)
        if where is not None:
            raise field_error(where or "body", MESSAGE, 422)
        return view_func(request, *args, **kwargs)

    return wrapped
