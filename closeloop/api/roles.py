"""Role rules over the API: the pages' and services' own checks, refused with 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from closeloop.core.exceptions import DomainError

from .errors import ApiError


def role_required(check: Callable[[Any, str], None], user: Any, message: str) -> None:
    """Apply a role rule from `closeloop.accounts.actors` to the token's user; a refusal answers
    403 before the service is called (a page shows the same refusal as a form error)."""
    try:
        check(user, message)
    except DomainError as error:
        raise ApiError(403, error.message) from error
