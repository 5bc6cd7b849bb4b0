"""Lists over the API: ordering, `updated_since` and cursor pagination, the same for every resource.

A page is `{"items": [...], "next_cursor": "…" | null}`. The cursor is keyset-based (the
ordering value and the id of the last row), so paging through a list that changes underneath
never skips or repeats a row that stays, and page 1,000 costs what page 1 costs. A client
syncing changes asks `?updated_since=<time of its last sync>&ordering=updated_at`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import HttpResponse
from ninja import Field, Schema

from .errors import field_error
from .ids import MAX_ID
from .moments import Moment
from .renderer import json_bytes

T = TypeVar("T")
M = TypeVar("M", bound=Model)

MAX_LIMIT = 200


class ListQuery(Schema):
    """The paging and sync parameters every list takes."""

    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="rows per page (1–200)")
    cursor: str | None = Field(None, max_length=500, description="`next_cursor` of the last page")
    ordering: str | None = Field(
        None, max_length=40, description="a field name, `-` in front for descending"
    )
    updated_since: Moment | None = Field(
        None, description="only records changed at or after this time (ISO 8601)"
    )


class Page(Schema, Generic[T]):
    """One page of a list."""

    items: list[T]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | Decimal):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return value


def _cursor_make(values: list[Any]) -> str:
    raw = json.dumps([_encode(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_read(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != 2 or not _in_range(values):
        raise field_error("cursor", "This cursor is not one a list gave out.")
    return values


def _in_range(values: list[Any]) -> bool:
    """The last id is an id, and no number overflows the database's integers (SQLite raises)."""
    numbers = [v for v in values if isinstance(v, int)]
    return isinstance(values[1], int) and all(-MAX_ID <= n <= MAX_ID for n in numbers)


def page_of(
    queryset: QuerySet[M],
    query: ListQuery,
    *,
    orderings: Sequence[str] = ("id",),
    default: str = "-id",
    updated_field: str = "updated_at",
    columns: Sequence[str] | None = None,
    sort_keys: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One page of `queryset` (already filtered by visibility) in the asked order.

    `orderings` names the fields a client may sort by; they must never be empty (NULL), so
    the keyset comparison is exact. Ties are broken by the id, in the same direction. `sort_keys`
    sorts an ordering by another column: a nullable field by an annotation that coalesces it.

    With `columns` (which must hold "id" and every ordering), the items are dicts of those
    columns (`queryset.values(*columns)`, related ones as `owner__email`) instead of model
    instances: no model is built, for the lists that are called most (see `json_page`).
    """
    ordering = query.ordering or default
    name = ordering.removeprefix("-")
    if name not in {*orderings, "id"}:
        allowed = ", ".join(sorted({*orderings, "id"}))
        raise field_error("ordering", f"Order by one of: {allowed} (prefix `-` to reverse).", 422)
    descending = ordering.startswith("-")
    name = (sort_keys or {}).get(name, name)
    if query.updated_since is not None:
        queryset = queryset.filter(**{f"{updated_field}__gte": query.updated_since})
    if query.cursor:
        value, last_id = _cursor_read(query.cursor)
        after = "lt" if descending else "gt"
        try:
            if name == "id":
                queryset = queryset.filter(**{f"pk__{after}": last_id})
            else:
                queryset = queryset.filter(
                    Q(**{f"{name}__{after}": value}) | Q(**{name: value, f"pk__{after}": last_id})
                )
        except (ValueError, TypeError, ValidationError) as exc:
            raise field_error("cursor", "This cursor is not one a list gave out.") from exc
    sign = "-" if descending else ""
    keys = [f"{sign}pk"] if name == "id" else [f"{sign}{name}", f"{sign}pk"]
    ordered = queryset.order_by(*keys)
    rows: list[Any] = list((ordered.values(*columns) if columns else ordered)[: query.limit + 1])
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        if columns:
            next_cursor = _cursor_make([last[name], last["id"]])
        else:
            next_cursor = _cursor_make([getattr(last, name if name != "id" else "pk"), last.pk])
    return {"items": rows, "next_cursor": next_cursor}


def json_page(page: dict[str, Any], row: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """The answer of a list whose page was read with `columns`: each row shaped by `row` into
    the item schema's fields and written as JSON the way every other answer is.

    This skips django-ninja's validation of the answer, which costs more than the query on a
    50-row page (a Python attribute lookup per field per row). What the schema promises is
    held by tests instead: each such list is compared item by item with the single-record
    read, which is validated, and schemathesis checks the answers against the OpenAPI schema.
    """
    body = {"items": [row(item) for item in page["items"]], "next_cursor": page["next_cursor"]}
    return HttpResponse(json_bytes(body), content_type="application/json; charset=utf-8")
