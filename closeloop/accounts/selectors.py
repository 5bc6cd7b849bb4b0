from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet

from closeloop.core.request_cache import remembered

from .choices import Role
from .models import ApiToken, Team, User, WorkspaceSettings
from .visibility import owner_filter

# A server process remembers the workspace settings for this long: every list a rep opens
# reads them (what reps may see), and the read was a query on every API call. Saving them
# forgets them in the saving process at once (a post_save receiver, see apps.py); the other
# processes read them again within this time. Each request gets its own copy, so a form bound
# to it cannot change what another request sees.
WORKSPACE_MEMO_SECONDS = 1.0
_workspace_memo: list[tuple[float, WorkspaceSettings]] = []


def _load_workspace_settings() -> WorkspaceSettings:
    now = time.monotonic()
    if _workspace_memo and _workspace_memo[0][0] > now:
        return copy.copy(_workspace_memo[0][1])
    ws = WorkspaceSettings.objects.filter(pk=1).first()
    if ws is None:
        # two first requests at once (two server processes) may both find none: the insert
        # that comes second does nothing (ON CONFLICT DO NOTHING) and both read the one row
        WorkspaceSettings.objects.bulk_create(
            [WorkspaceSettings(pk=1, base_currency=settings.BASE_CURRENCY)], ignore_conflicts=True
        )
        ws = WorkspaceSettings.objects.get(pk=1)
    _workspace_memo[:] = [(now + WORKSPACE_MEMO_SECONDS, copy.copy(ws))]
    return ws


def workspace_settings_forget(**_: Any) -> None:
    """Forget the remembered workspace settings (a post_save receiver; tests call it too)."""
    _workspace_memo.clear()


def workspace_settings() -> WorkspaceSettings:
    """The workspace's settings row (created with defaults on first use), read once a request
    and remembered by the process for a second."""
    return remembered("workspace_settings", _load_workspace_settings)


def user_list(*, user: Any, include_inactive: bool = False) -> QuerySet[User]:
    """Users a person may pick as owner or filter by: admins all, others those they can see."""
    qs = User.objects.all() if include_inactive else User.objects.filter(is_active=True)
    if not user.is_authenticated:
        return qs.none()
    condition = owner_filter(user, "pk")
    return qs if condition is None else qs.filter(condition | Q(pk=user.pk))


def user_directory(
    *,
    user: Any,
    q: str = "",
    role: str | None = None,
    team_id: int | None = None,
    is_active: bool | None = None,
) -> QuerySet[User]:
    """Every user with their teams, for anyone signed in: they are who records can be assigned
    to. Narrowed by part of the name or email, role, team and whether they are active."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return User.objects.none()
    qs = User.objects.prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name")))
    if q:
        qs = qs.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
    if role:
        qs = qs.filter(role=role)
    if team_id:
        qs = qs.filter(teams=team_id)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    return qs


def team_list(*, user: Any) -> QuerySet[Team]:
    """Teams a person may filter by: admins all, others their own."""
    if getattr(user, "role", None) == Role.ADMIN:
        return Team.objects.all()
    return Team.objects.filter(members=user)


# A server process remembers a token it has looked up for this long, so a program's burst of
# calls costs one lookup a second instead of one a call. Revoking a token, or changing or
# deactivating its user, forgets every remembered token in the process that made the change;
# other processes notice within this time.
TOKEN_MEMO_SECONDS = 1.0
TOKEN_MEMO_SIZE = 1_000
_token_memo: dict[str, tuple[float, ApiToken]] = {}


def api_token_lookup(*, secret: str) -> ApiToken | None:
    """The live token for a secret sent by a program, with its active user; None otherwise."""
    if not secret or not secret.startswith("cl_"):
        return None
    digest = hashlib.sha256(secret.encode()).hexdigest()
    now = time.monotonic()
    known = _token_memo.get(digest)
    if known is not None and known[0] > now:
        return known[1]
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        _token_memo.pop(digest, None)
        return None
    if len(_token_memo) >= TOKEN_MEMO_SIZE:
        _token_memo.clear()
    _token_memo[digest] = (now + TOKEN_MEMO_SECONDS, token)
    return token


def api_tokens_forget() -> None:
    """Forget the tokens this process remembers: the next call of each looks it up again."""
    _token_memo.clear()


def api_token_list(*, user: Any) -> QuerySet[ApiToken]:
    """A person's own API tokens, live ones first, newest first (admins use the CLI for others)."""
    return ApiToken.objects.filter(user=user).order_by(
        F("revoked_at").desc(nulls_first=True), "-created_at", "-pk"
    )


def api_token_get(*, user: Any, pk: int) -> ApiToken | None:
    """One of the person's own tokens; None for anyone else's (their pages answer 404)."""
    return ApiToken.objects.filter(user=user, pk=pk).first()
