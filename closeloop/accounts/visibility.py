"""The one place record visibility is decided.

admin: everything. manager: records owned by anyone in a team they belong to, their own, and
unowned ones. rep: their own and unowned records, plus what the workspace setting shares (their
teams' or everyone's). Anonymous or deactivated users see nothing. Every model with an `owner`
gets `visible_to(user)` from `VisibleQuerySet`; selectors call it for every list, board, report,
export and API call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Q

from .choices import RepVisibility, Role

if TYPE_CHECKING:
    from .models import User


def _teammate_ids(user: User) -> models.QuerySet:
    from .models import User

    return User.objects.filter(teams__members=user).values("pk")


def owner_filter(user: Any, owner_field: str = "owner") -> Q | None:
    """Q over `owner_field` for what `user` may see; None means everything, Q(pk__in=[]) nothing."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.role == Role.ADMIN:
        return None
    from .selectors import workspace_settings

    sharing = workspace_settings().rep_visibility
    if sharing == RepVisibility.ALL:
        return None
    mine = Q(**{owner_field: user.pk}) | Q(**{f"{owner_field}__isnull": True})
    if user.role == Role.MANAGER or sharing == RepVisibility.TEAM:
        return mine | Q(**{f"{owner_field}__in": _teammate_ids(user)})
    return mine


class VisibleQuerySet(models.QuerySet):
    owner_field = "owner"

    def visible_to(self, user: Any) -> Self:
        condition = owner_filter(user, self.owner_field)
        return self if condition is None else self.filter(condition)


def lock_visible(model: Any, pk: int, actor: Any) -> Any:
    """The row locked for the rest of the transaction, if `actor` may see it (None: the system);
    otherwise a DomainError that does not tell a hidden record from a missing one."""
    from closeloop.core.exceptions import DomainError

    # Lock only the row itself: PostgreSQL refuses FOR UPDATE on the nullable side of a join.
    qs = model.objects.select_for_update(of=("self",)).filter(pk=pk)
    if actor is not None:
        qs = qs.visible_to(actor)
    obj = qs.first()
    if obj is None:
        raise DomainError(
            f"This {model._meta.verbose_name} does not exist or is not visible to you."
        )
    return obj
