"""Two visitors booking one slot at the same moment: exactly one gets it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from closeloop.activities.booking.models import Booking
from closeloop.activities.booking.services import SlotTaken, booking_create
from closeloop.activities.booking.services import bookings as services

from .conftest import free_starts, visitor


@pytest.mark.django_db(transaction=True)
def test_two_visitors_racing_for_one_slot(berlin_rep, demo, monkeypatch):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("in-memory SQLite shares one cache between threads; run on PostgreSQL")
    start = free_starts(demo)[0]
    both_checked = threading.Barrier(2)
    book = services._book

    def book_after_both_checked(*args, **kwargs):
        # Both visitors have seen the slot free (outside the lock) before either books it.
        both_checked.wait(timeout=10)
        return book(*args, **kwargs)

    monkeypatch.setattr(services, "_book", book_after_both_checked)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        try:
            booking_create(
                meeting_type=demo, starts_at=start, visitor=visitor(email=f"v{n}@v.example")
            )  # fmt: skip
            outcomes.append("booked")
        except SlotTaken:
            outcomes.append("taken")
        except BaseException as exc:  # reported by the main thread
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "taken"]
    assert Booking.objects.count() == 1
    assert Booking.objects.get().activity.due_at == start
