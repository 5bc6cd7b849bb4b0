"""How every API answer is written as JSON: by pydantic-core, in Rust.

Python's json module with Django's encoder calls back into Python for every date and amount
(two hundred calls on a page of fifty deals), which made the encoding cost as much as the
query. pydantic-core writes the same JSON: times in ISO 8601 with `Z` for UTC (to the
microsecond, where Django's encoder cut them to milliseconds), dates as `YYYY-MM-DD`, amounts
as strings of their exact decimal digits. Anything it does not know (a lazily translated
string, say) goes through django-ninja's encoder as before.
"""

from __future__ import annotations

from typing import Any

import pydantic_core
from django.http import HttpRequest
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

_fallback = NinjaJSONEncoder().default


def json_bytes(data: Any) -> bytes:
    """`data` as JSON, the way every answer of the API is written."""
    return pydantic_core.to_json(data, fallback=_fallback)


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> Any:
        return json_bytes(data)
