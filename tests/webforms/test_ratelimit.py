"""The database rate limiter: fixed windows, per key, forgotten after a day."""

from __future__ import annotations

import datetime as dt

import pytest

from closeloop.core.ratelimit import (
    RateLimited,
    rate_limit_enforce,
    rate_limit_hit,
    window_start_for,
)
from closeloop.leads.models import RateLimitHit

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2025, 3, 1, 12, 0, 5, tzinfo=dt.UTC)


def test_counts_each_request_in_the_window():
    counts = [rate_limit_hit(key="k", limit=3, now=NOON).count for _ in range(4)]
    assert counts == [1, 2, 3, 4]
    assert RateLimitHit.objects.get(key="k").count == 4


def test_allowed_up_to_the_limit_then_refused():
    states = [rate_limit_hit(key="k", limit=2, now=NOON) for _ in range(3)]
    assert [s.allowed for s in states] == [True, True, False]
    assert states[-1].retry_after == 55  # the minute window started at 12:00:00


def test_resets_in_the_next_window():
    for _ in range(3):
        rate_limit_hit(key="k", limit=2, now=NOON)
    later = NOON + dt.timedelta(seconds=60)
    state = rate_limit_hit(key="k", limit=2, now=later)
    assert state.count == 1 and state.allowed
    assert state.window_start == dt.datetime(2025, 3, 1, 12, 1, tzinfo=dt.UTC)


def test_keys_are_counted_apart():
    rate_limit_hit(key="a", limit=1, now=NOON)
    assert rate_limit_hit(key="b", limit=1, now=NOON).count == 1


def test_windows_are_aligned():
    assert window_start_for(NOON, 60) == dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert window_start_for(NOON, 3600) == dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_enforce_raises_with_retry_after():
    rate_limit_enforce(key="k", limit=1, message="Slow down.", now=NOON)
    with pytest.raises(RateLimited) as caught:
        rate_limit_enforce(key="k", limit=1, message="Slow down.", now=NOON)
    assert caught.value.message == "Slow down."
    assert caught.value.retry_after == 55


def test_old_windows_are_pruned_when_a_new_window_starts():
    rate_limit_hit(key="old", limit=1, now=NOON - dt.timedelta(days=2))
    rate_limit_hit(key="recent", limit=1, now=NOON - dt.timedelta(hours=1))
    rate_limit_hit(key="new", limit=1, now=NOON)
    assert set(RateLimitHit.objects.values_list("key", flat=True)) == {"recent", "new"}


def test_a_window_longer_than_the_pruning_age_is_refused():
    with pytest.raises(ValueError):
        rate_limit_hit(key="k", limit=1, window_seconds=3 * 86400)


@pytest.mark.django_db(transaction=True)
def test_counts_outside_a_transaction_are_kept():
    """As the API counts: on its own, committed at once (on PostgreSQL in one round trip,
    without waiting for the disk), and the connection is left as it was found."""
    from django.db import connection

    counts = [rate_limit_hit(key="own", limit=3, now=NOON).count for _ in range(3)]
    assert counts == [1, 2, 3]
    assert connection.get_autocommit() and not connection.in_atomic_block
    assert RateLimitHit.objects.get(key="own").count == 3
