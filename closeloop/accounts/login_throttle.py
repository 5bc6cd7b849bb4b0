"""Login throttling: failed logins counted per email address and per client address.

Past LOGIN_FAILURES_PER_ACCOUNT failures for one email address, or LOGIN_FAILURES_PER_IP from
one address, within LOGIN_FAILURE_MINUTES, every further attempt is refused without checking
the password, with one message that does not say which limit was hit nor whether the account
exists (unknown addresses are counted exactly like real ones). The counts live in the database
(closeloop.core.ratelimit), so every server process shares them, on SQLite and PostgreSQL.

A successful login forgets the failures of its own email address, so a user's earlier typos do
not lock them out later; it never forgets the failures counted for the client address, which
would let an attacker clear the address's count by logging in to an account of their own.

Each failure and each refusal is logged on the `closeloop.security` logger (WARNING) with the
email address and the client address, for the server log and tools such as fail2ban.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math

from django.conf import settings
from django.utils import timezone

from closeloop.core.ratelimit import (
    RateLimited,
    rate_limit_forget,
    rate_limit_hit,
    rate_limit_recent,
)

logger = logging.getLogger("closeloop.security")

THROTTLED = (
    "Too many failed logins for this email address or from your network. "
    "Try again in {minutes} minute{s}."
)


def _email_key(email: str) -> str:
    # a digest: the table stays free of addresses, and long ones never hit the key length
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
    return f"login-fail:email:{digest}"


def _limits(email: str, ip: str) -> list[tuple[str, int]]:
    limits = [
        (_email_key(email), settings.LOGIN_FAILURES_PER_ACCOUNT),
        (f"login-fail:ip:{ip}", settings.LOGIN_FAILURES_PER_IP),
    ]
    return [(key, limit) for key, limit in limits if limit > 0]  # 0 switches a limit off


def _window() -> int:
    return settings.LOGIN_FAILURE_MINUTES * 60


def login_throttle_check(*, email: str, ip: str, now: dt.datetime | None = None) -> None:
    """Raise RateLimited when the email address or the client address has too many recent
    failed logins; the attempt must then not be checked at all."""
    now = now or timezone.now()
    window = _window()
    for key, limit in _limits(email, ip):
        previous, current, start = rate_limit_recent(key=key, window_seconds=window, now=now)
        if previous + current < limit:
            continue
        # the previous window's failures stop counting when the current window ends; the
        # current window's own, one window later
        end = start + dt.timedelta(seconds=window * (2 if current >= limit else 1))
        retry_after = max(1, math.ceil((end - now).total_seconds()))
        minutes = math.ceil(retry_after / 60)
        logger.warning("Login refused (too many failures) for %r from %s", email, ip)
        raise RateLimited(
            THROTTLED.format(minutes=minutes, s="" if minutes == 1 else "s"),
            retry_after=retry_after,
        )


def login_failure_record(*, email: str, ip: str, now: dt.datetime | None = None) -> None:
    """Count one failed login against the email address and the client address."""
    for key, limit in _limits(email, ip):
        rate_limit_hit(key=key, limit=limit, window_seconds=_window(), now=now)
    logger.warning("Failed login for %r from %s", email, ip)


def login_success_record(*, email: str) -> None:
    """Forget the failed logins of this email address (never those of the client address)."""
    rate_limit_forget(key=_email_key(email))
