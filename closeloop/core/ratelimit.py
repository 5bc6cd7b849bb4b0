"""Fixed-window rate limits counted in the database, so every server process shares them.

Each (key, window) pair is one `RateLimitHit` row. Counting is one statement,
`INSERT … ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count`
(SQLite ≥ 3.35 and PostgreSQL both have it): the first request of a window inserts the row,
later ones increment it, and the row lock (PostgreSQL) or the write lock (SQLite) makes two
requests never read the same count. The API counts every request with it, so it is cheap: one
statement on SQLite, and on PostgreSQL a transaction committed without waiting for the disk.

Call these outside the transaction of the work they protect: a hit must stay counted even
when that work fails and rolls back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from closeloop.core.exceptions import DomainError
from closeloop.leads.models import RateLimitHit

# Rows of windows that ended this long ago are deleted; longer windows are not supported.
PRUNE_AFTER = dt.timedelta(days=1)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class RateLimitState:
    """How many requests a key made in the current window, against its limit."""

    key: str
    count: int
    limit: int
    window_start: dt.datetime
    window_seconds: int
    now: dt.datetime

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def retry_after(self) -> int:
        """Seconds until the next window starts."""
        end = self.window_start + dt.timedelta(seconds=self.window_seconds)
        return max(1, int((end - self.now).total_seconds() + 0.999))


class RateLimited(DomainError):
    """Too many requests in the current window; try again after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def window_start_for(now: dt.datetime, window_seconds: int) -> dt.datetime:
    """The start of the fixed window `now` falls in (windows are aligned to the Unix epoch)."""
    elapsed = int((now - EPOCH).total_seconds())
    return EPOCH + dt.timedelta(seconds=elapsed - elapsed % window_seconds)


def rate_limit_add(key: str, window_start: dt.datetime, amount: int = 1) -> int:
    """Add `amount` to the count of (key, window) and return the new count, in one statement."""
    quote = connection.ops.quote_name
    table = quote(RateLimitHit._meta.db_table)
    key_col, start_col, count_col = (quote(n) for n in ("key", "window_start", "count"))
    # Identifiers come from the model's own metadata; the values are parameters.
    sql = (
        f"INSERT INTO {table} ({key_col}, {start_col}, {count_col}) VALUES (%s, %s, %s) "  # noqa: S608
        f"ON CONFLICT ({key_col}, {start_col}) DO UPDATE "
        f"SET {count_col} = {table}.{count_col} + excluded.{count_col} RETURNING {count_col}"
    )
    params = [key, connection.ops.adapt_datetimefield_value(window_start), amount]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # A count is not worth a disk flush: committed on its own, PostgreSQL would wait for
        # the write-ahead log to reach the disk on every request (5–9 ms here, most of an API
        # call). An asynchronous commit (for this transaction only) may lose the last counts
        # if the machine itself crashes, which only forgives a few requests.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(sql, params)
            row = cursor.fetchone()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
    return int(row[0])


def rate_limit_hit(
    *, key: str, limit: int, window_seconds: int = 60, now: dt.datetime | None = None
) -> RateLimitState:
    """Count one request for `key` in the current window; allowed while the count <= limit."""
    if not 0 < window_seconds <= PRUNE_AFTER.total_seconds():
        raise ValueError(f"window_seconds must be between 1 and {PRUNE_AFTER.total_seconds()}")
    key = key[:200]
    now = now or timezone.now()
    start = window_start_for(now, window_seconds)
    count = rate_limit_add(key, start)
    if count == 1:
        # A new window is a cheap moment to forget old ones; the table stays small.
        rate_limit_prune(now=now)
    return RateLimitState(key, count, limit, start, window_seconds, now)


def rate_limit_enforce(
    *, key: str, limit: int, message: str, window_seconds: int = 60, now: dt.datetime | None = None
) -> RateLimitState:
    """Count one request and raise RateLimited (with `message`) once the limit is passed."""
    state = rate_limit_hit(key=key, limit=limit, window_seconds=window_seconds, now=now)
    if not state.allowed:
        raise RateLimited(message, retry_after=state.retry_after)
    return state


def rate_limit_recent(
    *, key: str, window_seconds: int, now: dt.datetime | None = None
) -> tuple[int, int, dt.datetime]:
    """The counts of `key` in the previous and the current window, and when the current one
    started; reads only (for limits on failures, which count after the attempt).

    Any span of `window_seconds` lies within those two windows, so "previous + current below
    the limit" allows at most `limit` events in any such span, whatever the window edges.
    """
    key = key[:200]
    now = now or timezone.now()
    start = window_start_for(now, window_seconds)
    previous = start - dt.timedelta(seconds=window_seconds)
    counts = dict(
        RateLimitHit.objects.filter(key=key, window_start__in=[previous, start]).values_list(
            "window_start", "count"
        )
    )
    return counts.get(previous, 0), counts.get(start, 0), start


def rate_limit_forget(*, key: str) -> int:
    """Delete every count of `key` (e.g. an account's failed logins after it logged in)."""
    deleted, _ = RateLimitHit.objects.filter(key=key[:200]).delete()
    return deleted


def rate_limit_prune(*, now: dt.datetime | None = None) -> int:
    """Delete the counts of windows that started more than PRUNE_AFTER ago."""
    cutoff = (now or timezone.now()) - PRUNE_AFTER
    deleted, _ = RateLimitHit.objects.filter(window_start__lt=cutoff).delete()
    return deleted


def client_ip(request: HttpRequest) -> str:
    """The address the connection came from.

    X-Forwarded-For is ignored on purpose: any client can send it to dodge the limit. Behind a
    reverse proxy, have the proxy (or the WSGI server) set REMOTE_ADDR to the real address.
    """
    return str(request.META.get("REMOTE_ADDR") or "unknown")
