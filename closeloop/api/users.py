"""Users over the API, read only: who records can be assigned to. Every token may read them;
no password data is ever part of the answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from closeloop.accounts.choices import Role
from closeloop.accounts.models import User
from closeloop.accounts.selectors import user_directory

from .errors import ERRORS, field_error, not_found
from .ids import PathId, RecordId
from .lists import ListQuery, Page, page_of

router = Router(tags=["users"])

USER_ORDERINGS = ("full_name", "email", "date_joined")


class TeamOut(Schema):
    id: int
    name: str


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    role: Role
    teams: list[TeamOut]
    is_active: bool = Field(..., description="deactivated users keep their records")
    date_joined: dt.datetime

    @staticmethod
    def resolve_teams(obj: User) -> list[Any]:
        return list(obj.teams.all())


class UserListQuery(ListQuery):
    q: str = Field("", max_length=200, description="part of the name or email")
    role: Role | None = None
    team_id: RecordId | None = None
    is_active: bool | None = Field(None, description="empty: active and deactivated users")


@router.get("", response={200: Page[UserOut], **ERRORS}, summary="List users")
def list_users(request: HttpRequest, query: Query[UserListQuery]) -> Any:
    """Every user of the workspace, by name unless `ordering` says otherwise."""
    if query.updated_since is not None:
        # users carry no change time; `date_joined` orders new users last for a sync
        raise field_error("updated_since", "Users cannot be listed by change time.")
    users = user_directory(
        user=request.user,
        q=query.q.strip(),
        role=query.role,
        team_id=query.team_id,
        is_active=query.is_active,
    )
    return page_of(users, query, orderings=USER_ORDERINGS, default="full_name")


@router.get("/me", response={200: UserOut, **ERRORS}, summary="The token's user")
def read_me(request: HttpRequest) -> User:
    """The user the token acts as."""
    me: Any = request.user
    return user_directory(user=me).get(pk=me.pk)


@router.get("/{user_id}", response={200: UserOut, **ERRORS}, summary="Read a user")
def read_user(request: HttpRequest, user_id: PathId) -> User:
    """One user, active or deactivated."""
    found = user_directory(user=request.user).filter(pk=user_id).first()
    if found is None:
        raise not_found("user")
    return found
