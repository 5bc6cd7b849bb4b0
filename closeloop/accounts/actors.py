"""Who is acting in a service call: a signed-in user, or nobody in particular (the command line
and the background worker pass actor=None)."""

from __future__ import annotations

from typing import Any

from closeloop.core.exceptions import DomainError

from .choices import Role
from .models import User


def acting_user(actor: Any) -> User | None:
    """The user to record as having done something (created_by, resolved_by…), if any."""
    return actor if isinstance(actor, User) else None


def require_admin_or_manager(actor: Any, message: str) -> None:
    """Refuse a user who is neither admin nor manager; the command line (None) may."""
    if actor is not None and getattr(actor, "role", None) not in (Role.ADMIN, Role.MANAGER):
        raise DomainError(message)


def require_admin(actor: Any, message: str) -> None:
    """Refuse anyone but an active admin; the command line and the system itself (None) may."""
    if actor is not None and not getattr(actor, "is_admin", False):
        raise DomainError(message)
