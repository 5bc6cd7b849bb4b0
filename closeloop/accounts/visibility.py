"""The one place record visibility is decided.

admin: everything. manager: records owned by anyone in a team they belong to, their own, and
unowned ones. rep: their own and unowned records, plus what the workspace setting shares (their
teams' or everyone's). Anonymous or deactivated users see nothing. Every model with an `owner`
gets `visible_to(user)` from `VisibleQuerySet`; selectors call it for every list, board, report,
export and API call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from django.db import models
from django.db.models import Q

from .choices import RepVisibility, Role

if TYPE_CHECKING:
    from .models import User


def _teammate_ids(user: User) -> models.QuerySet:
    from .models import User

    return User.objects.filter(teams__members=user).values("pk")


def _me_and_teammate_ids(user: User) -> models.QuerySet:
    from .models import User

    return User.objects.filter(Q(pk=user.pk) | Q(teams__members=user)).values("pk")


def owner_filter(user: Any, owner_field: str = "owner", *, nullable: bool = True) -> Q | None:
    """Q over `owner_field` for what `user` may see; None means everything, Q(pk__in=[]) nothing.

    `nullable=False` says every record has an owner (deals): the filter then leaves out the
    "or unowned" part, which would make the databases scan and filter instead of reading the
    owner's records from an index in order."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.role == Role.ADMIN:
        return None
    from .selectors import workspace_settings

    sharing = workspace_settings().rep_visibility
    if sharing == RepVisibility.ALL:
        return None
    mine = Q(**{owner_field: user.pk})
    team = user.role == Role.MANAGER or sharing == RepVisibility.TEAM
    if nullable:
        mine |= Q(**{f"{owner_field}__isnull": True})
    elif team:
        # one IN list (me and my teammates) rather than "me OR IN (teammates)": the databases
        # read an IN list from an index led by the owner; SQLite does not for the OR
        return Q(**{f"{owner_field}__in": _me_and_teammate_ids(user)})
    if team:
        return mine | Q(**{f"{owner_field}__in": _teammate_ids(user)})
    return mine


class VisibleQuerySet(models.QuerySet):
    owner_field = "owner"

    def visible_to(self, user: Any) -> Self:
        nullable = True
        if "__" not in self.owner_field:
            nullable = self.model._meta.get_field(self.owner_field).null
        condition = owner_filter(user, self.owner_field, nullable=nullable)
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


def teammates_of(user_ids: list[int]) -> dict[int, set[int]]:
    """For each user id, the ids of the users who share a team with them (two queries)."""
    from .models import User

    membership = User.teams.through.objects
    teams_of: dict[int, set[int]] = {pk: set() for pk in user_ids}
    for user_id, team_id in membership.filter(user_id__in=user_ids).values_list(
        "user_id", "team_id"
    ):
        teams_of[user_id].add(team_id)
    members: dict[int, set[int]] = {}
    all_teams = set().union(*teams_of.values()) if teams_of else set()
    for team_id, member_id in membership.filter(team_id__in=all_teams).values_list(
        "team_id", "user_id"
    ):
        members.setdefault(team_id, set()).add(member_id)
    return {
        pk: set().union(*(members.get(t, set()) for t in teams)) for pk, teams in teams_of.items()
    }


def owner_visible(user: Any, owner_id: int | None, teammate_ids: Callable[[], set[int]]) -> bool:
    """`owner_filter` decided for one record's owner in Python, for checks across many users
    (webhook subscribers) where a query per user would cost too much; `teammate_ids()` is called
    only when the answer depends on the user's teams."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    from .selectors import workspace_settings

    sharing = workspace_settings().rep_visibility
    if sharing == RepVisibility.ALL or owner_id is None or owner_id == user.pk:
        return True
    if user.role == Role.MANAGER or sharing == RepVisibility.TEAM:
        return owner_id in teammate_ids()
    return False
