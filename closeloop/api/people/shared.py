"""What the organization and contact resources share: owners the token's user may pick."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest

from closeloop.accounts.models import User
from closeloop.accounts.selectors import user_list

from ..errors import field_error

F = TypeVar("F")


def filters_of(query: Any, filters: type[F]) -> F:
    """A selector's filters (a dataclass) from the list query's parameters of the same names."""
    values = query.dict(include={f.name for f in dataclasses.fields(filters)})  # type: ignore[arg-type]
    values["q"] = values.get("q", "").strip()
    return filters(**values)


def owner_pick(request: HttpRequest, owner_id: int | None, current: User | None = None) -> Any:
    """The owner a request names: a user the token's user may pick on the pages, the record's
    current owner (kept as it is), or nobody (`null`: shared with everyone)."""
    if owner_id is None:
        return None
    if current is not None and owner_id == current.pk:
        return current
    owner = user_list(user=request.user).filter(pk=owner_id).first()
    if owner is None:
        raise field_error(
            "owner_id", f"User {owner_id} does not exist, is inactive, or is not yours to assign."
        )
    return owner


def web_address(value: str | None) -> str | None:
    """A website as the organization form takes it: `https://` assumed, a real URL required."""
    if not value:
        return value
    value = value.strip()
    site = value if "://" in value else f"https://{value}"
    try:
        URLValidator(schemes=["http", "https"])(site)
    except ValidationError as exc:
        raise ValueError(f"“{value}” is not a web address.") from exc
    if len(site) > 200:
        raise ValueError("A web address can be at most 200 characters long.")
    return site
