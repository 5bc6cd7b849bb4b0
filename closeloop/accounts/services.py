"""Every write to users, teams and workspace settings goes through these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from closeloop.core.audit import audit_changed, audit_created, audit_stored
from closeloop.core.exceptions import DomainError
from closeloop.core.money import CURRENCY_CODES
from closeloop.core.zones import zone_clean

from .actors import require_admin
from .choices import RepVisibility, Role, TokenScope
from .models import ApiToken, Team, User, WorkspaceSettings
from .selectors import api_tokens_forget, workspace_settings

ADMINS_ONLY = "Only admins can manage users, teams and workspace settings."


@transaction.atomic
def user_create(
    *,
    actor: Any,
    email: str,
    role: str,
    password: str | None,
    full_name: str = "",
    teams: list[Team] | None = None,
) -> User:
    """Add a user who logs in with their email; the password must pass the password rules."""
    require_admin(actor, ADMINS_ONLY)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError(f"“{email}” is not a valid email address.", field="email") from exc
    if role not in Role.values:
        raise DomainError(f"“{role}” is not a role: use admin, manager or rep.", field="role")
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(f"There is already a user with the email {email}.", field="email")
    user = User(email=email, role=role, full_name=(full_name or "").strip()[:150])
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise DomainError(" ".join(exc.messages), field="password") from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    if teams:
        user.teams.set(teams)
    audit_created(actor=actor, obj=user)
    return user


@transaction.atomic
def user_update(*, actor: Any, user: User, role: str, full_name: str, teams: list[Team]) -> User:
    """Change a user's role, name or teams; the last active admin cannot stop being one."""
    require_admin(actor, ADMINS_ONLY)
    if role not in Role.values:
        raise DomainError(f"“{role}” is not a role: use admin, manager or rep.", field="role")
    if user.role == Role.ADMIN and role != Role.ADMIN and _is_last_admin(user):
        raise DomainError("The workspace needs at least one active admin.", field="role")
    user.role = role
    user.full_name = (full_name or "").strip()[:150]
    before = audit_stored(user)
    user.save(update_fields=["role", "full_name"])
    api_tokens_forget()  # a remembered token must not outlive this change
    audit_changed(actor=actor, obj=user, before=before)
    user.teams.set(teams)
    return user


def _is_last_admin(user: User) -> bool:
    return not User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk).exists()


@transaction.atomic
def user_set_active(*, actor: Any, user: User, active: bool) -> User:
    """Deactivate a user (they can no longer log in; their records stay) or reactivate them."""
    require_admin(actor, ADMINS_ONLY)
    if not active and user.pk == getattr(actor, "pk", None):
        raise DomainError("You cannot deactivate yourself.")
    if not active and user.role == Role.ADMIN and _is_last_admin(user):
        raise DomainError("The workspace needs at least one active admin.")
    user.is_active = active
    before = audit_stored(user)
    user.save(update_fields=["is_active"])
    api_tokens_forget()  # a remembered token must not outlive this change
    audit_changed(actor=actor, obj=user, before=before)
    return user


@transaction.atomic
def user_set_password(*, actor: Any, user: User, password: str) -> User:
    """Set a user's password (admins for anyone, everyone for themselves)."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor, ADMINS_ONLY)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    before = audit_stored(user)
    user.save(update_fields=["password"])
    api_tokens_forget()  # a remembered token must not outlive this change
    audit_changed(actor=actor, obj=user, before=before)
    return user


@transaction.atomic
def user_signature_update(*, actor: Any, user: User, signature: str) -> User:
    """Set the signature added under a user's emails (each user their own, admins anyone's)."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor, ADMINS_ONLY)
    signature = "\n".join(line.rstrip() for line in (signature or "").strip().splitlines())
    if len(signature) > 2000:
        raise DomainError("A signature can be at most 2,000 characters long.", field="signature")
    user.signature = signature
    before = audit_stored(user)
    user.save(update_fields=["signature"])
    audit_changed(actor=actor, obj=user, before=before)
    return user


def user_time_zone_update(*, actor: Any, user: User, time_zone: str) -> User:
    """Set the zone a user's pages, invites and booking hours are in (own, or admins any)."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor, ADMINS_ONLY)
    user.time_zone = zone_clean(time_zone)
    before = audit_stored(user)
    user.save(update_fields=["time_zone"])
    audit_changed(actor=actor, obj=user, before=before)
    return user


@transaction.atomic
def team_create(*, actor: Any, name: str) -> Team:
    """Add a team."""
    require_admin(actor, ADMINS_ONLY)
    name = (name or "").strip()
    if not name:
        raise DomainError("A team needs a name.", field="name")
    if Team.objects.filter(name__iexact=name).exists():
        raise DomainError(f"There is already a team called “{name}”.", field="name")
    return Team.objects.create(name=name[:120])


@transaction.atomic
def workspace_update(
    *,
    actor: Any,
    name: str,
    base_currency: str,
    rep_visibility: str,
    send_as_user: bool | None = None,
) -> WorkspaceSettings:
    """Change the workspace name, base currency, what reps may see or whose address mail uses."""
    require_admin(actor, ADMINS_ONLY)
    ws = workspace_settings()
    name = (name or "").strip()
    if not name:
        raise DomainError("The workspace needs a name.", field="name")
    currency = (base_currency or "").strip().upper()
    if currency not in CURRENCY_CODES:
        raise DomainError(f"“{base_currency}” is not a known currency.", field="base_currency")
    if rep_visibility not in RepVisibility.values:
        raise DomainError("Choose what reps may see.", field="rep_visibility")
    ws.name = name[:120]
    ws.base_currency = currency
    ws.rep_visibility = rep_visibility
    if send_as_user is not None:
        if send_as_user and not ws.send_as_user and not settings.EMAIL_ALLOW_USER_FROM:
            raise DomainError(
                "The mail server does not allow sending from users' own addresses "
                "(EMAIL_ALLOW_USER_FROM is off).",
                field="send_as_user",
            )
        ws.send_as_user = send_as_user
    before = audit_stored(ws)
    ws.save()
    audit_changed(actor=actor, obj=ws, before=before)
    return ws


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, actor: Any, user: User, name: str = "", scope: str = TokenScope.READ_WRITE
) -> tuple[ApiToken, str]:
    """Issue an API token for `user`; returns the record and the secret, which is shown once."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor, ADMINS_ONLY)
    if not user.is_active:
        raise DomainError(f"{user.email} is deactivated; activate the user first.")
    if scope not in TokenScope.values:
        raise DomainError(f"“{scope}” is not a token scope: use read or read_write.", field="scope")
    secret = "cl_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=(name or "").strip()[:100],
        prefix=secret[:10],
        digest=_token_digest(secret),
        scope=scope,
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> ApiToken:
    """Stop a token from working, at once (revoking it again keeps the first time)."""
    if actor is not None and actor.pk != token.user_id:
        require_admin(actor, ADMINS_ONLY)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        api_tokens_forget()  # a remembered token must not outlive this change
    return token


TOKEN_TOUCH_SECONDS = 60


def api_token_touch(*, token: ApiToken, now: dt.datetime | None = None) -> bool:
    """Note when a token was last used, writing at most once a minute; True when it wrote.

    Every API request calls this, so it must not write each time: the timestamp read with the
    token decides, and the UPDATE is conditional so several server processes that all read
    an old value still write once between them.
    """
    now = now or timezone.now()
    due = now - dt.timedelta(seconds=TOKEN_TOUCH_SECONDS)
    if token.last_used_at is not None and token.last_used_at > due:
        return False
    written = (
        ApiToken.objects.filter(pk=token.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=due))
        .update(last_used_at=now)
    )
    token.last_used_at = now
    return bool(written)
