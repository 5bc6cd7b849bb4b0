"""Slot computation: weekly hours on the rep's wall clock, across zones and DST changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from closeloop.activities.booking.slots import (
    Member,
    SlotRules,
    WeeklyWindow,
    availability,
    day_range,
    free_slots,
    group_by_day,
    round_robin_order,
    team_free_slots,
    zone_or_none,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
WEEKDAYS_9_TO_5 = [WeeklyWindow(d, dt.time(9), dt.time(17)) for d in range(5)]
HOUR = SlotRules(duration=dt.timedelta(hours=1), notice=dt.timedelta(0))


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def slots_between(
    start: dt.datetime,
    end: dt.datetime,
    *,
    windows=WEEKDAYS_9_TO_5,
    zone=BERLIN,
    rules=HOUR,
    busy=(),
    now: dt.datetime | None = None,
):
    return free_slots(
        windows=windows, zone=zone, rules=rules, busy=list(busy),
        now=now or start - dt.timedelta(days=1), start=start, end=end,
    )  # fmt: skip


def test_a_berlin_day_in_winter_is_08_to_16_utc():
    slots = slots_between(utc(2026, 1, 12), utc(2026, 1, 13))  # a Monday
    assert slots[0] == utc(2026, 1, 12, 8) and slots[-1] == utc(2026, 1, 12, 15)
    assert len(slots) == 15  # 09:00, 09:30 … 16:00 local: a one-hour meeting every half hour


def test_berlin_hours_stay_9_to_5_local_across_the_march_change():
    # Europe/Berlin springs forward on Sunday 29 March 2026: Friday is UTC+1, Monday UTC+2.
    slots = slots_between(utc(2026, 3, 27), utc(2026, 3, 31))
    by_day = group_by_day(slots, BERLIN)
    assert sorted(by_day) == [dt.date(2026, 3, 27), dt.date(2026, 3, 30)]
    for day, local in by_day.items():
        assert local[0].time() == dt.time(9) and local[-1].time() == dt.time(16), day
    assert by_day[dt.date(2026, 3, 27)][0] == utc(2026, 3, 27, 8)
    assert by_day[dt.date(2026, 3, 30)][0] == utc(2026, 3, 30, 7)


def test_berlin_hours_stay_9_to_5_local_across_the_october_change():
    # Falls back on Sunday 25 October 2026.
    slots = slots_between(utc(2026, 10, 23), utc(2026, 10, 27))
    by_day = group_by_day(slots, BERLIN)
    assert by_day[dt.date(2026, 10, 23)][0] == utc(2026, 10, 23, 7)  # CEST
    assert by_day[dt.date(2026, 10, 26)][0] == utc(2026, 10, 26, 8)  # CET


def test_new_york_visitor_sees_berlin_hours_shift_in_the_weeks_the_changes_differ():
    # The US springs forward on 8 March 2026, Europe on 29 March: for those three weeks Berlin
    # is 5 hours ahead of New York instead of 6.
    before = group_by_day(slots_between(utc(2026, 3, 2), utc(2026, 3, 3)), NEW_YORK)
    between = group_by_day(slots_between(utc(2026, 3, 9), utc(2026, 3, 10)), NEW_YORK)
    after = group_by_day(slots_between(utc(2026, 3, 30), utc(2026, 3, 31)), NEW_YORK)
    assert before[dt.date(2026, 3, 2)][0].time() == dt.time(3)  # 09:00 CET = 03:00 EST
    assert between[dt.date(2026, 3, 9)][0].time() == dt.time(4)  # 09:00 CET = 04:00 EDT
    assert after[dt.date(2026, 3, 30)][0].time() == dt.time(3)  # 09:00 CEST = 03:00 EDT


def test_new_york_visitor_in_the_week_of_the_us_autumn_change():
    # Europe falls back on 25 October 2026, the US a week later on 1 November: in between,
    # 09:00 Berlin (CET) is 04:00 in New York (EDT); after both, 03:00 (EST).
    week = group_by_day(slots_between(utc(2026, 10, 26), utc(2026, 11, 3)), NEW_YORK)
    assert week[dt.date(2026, 10, 30)][0].time() == dt.time(4)  # Friday before the US change
    assert week[dt.date(2026, 11, 2)][0].time() == dt.time(3)  # Monday after it
    assert week[dt.date(2026, 11, 2)][-1].time() == dt.time(10)  # 16:00 Berlin
    assert dt.date(2026, 11, 1) not in week  # Sunday: no hours


def test_visitor_days_are_the_visitors_own_dates():
    # A Tokyo visitor sees Monday's Berlin afternoon on their Tuesday... after midnight.
    tokyo = ZoneInfo("Asia/Tokyo")
    slots = slots_between(utc(2026, 1, 12), utc(2026, 1, 13))
    by_day = group_by_day(slots, tokyo)
    assert sorted(by_day) == [dt.date(2026, 1, 12), dt.date(2026, 1, 13)]
    assert by_day[dt.date(2026, 1, 12)][0].time() == dt.time(17)  # 09:00 CET
    assert by_day[dt.date(2026, 1, 13)][0].time() == dt.time(0)  # 16:00 CET


def test_day_range_follows_the_visitors_midnights_across_their_change():
    start, end = day_range(dt.date(2026, 3, 7), 7, NEW_YORK)
    assert start == utc(2026, 3, 7, 5)  # midnight EST
    assert end == utc(2026, 3, 14, 5 - 1)  # midnight EDT: the week is an hour short
    assert end - start == dt.timedelta(days=7, hours=-1)


def test_a_window_on_the_skipped_hour_is_read_as_clocks_do():
    # 02:00–04:00 on the spring-forward night: 02:00 does not exist; the window is 03:00–04:00.
    windows = [WeeklyWindow(6, dt.time(2), dt.time(4))]
    assert availability(windows, BERLIN, utc(2026, 3, 28), utc(2026, 3, 30)) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    ]


def test_busy_time_is_excluded_with_its_buffers():
    rules = SlotRules(
        duration=dt.timedelta(minutes=30),
        buffer_before=dt.timedelta(minutes=15),
        buffer_after=dt.timedelta(minutes=15),
    )
    busy = [(utc(2026, 1, 12, 10), utc(2026, 1, 12, 11))]  # 11:00–12:00 Berlin
    slots = slots_between(utc(2026, 1, 12), utc(2026, 1, 13), rules=rules, busy=busy)
    local = {s.astimezone(BERLIN).strftime("%H:%M") for s in slots}
    # 10:30 would end at 11:00 but its 15-minute buffer after runs into the meeting; 12:00
    # starts right after the meeting but needs 15 minutes before.
    assert {"10:00", "12:30"} <= local
    assert not local & {"10:30", "11:00", "11:30", "12:00"}


def test_touching_a_busy_interval_is_fine_without_buffers():
    busy = [(utc(2026, 1, 12, 9), utc(2026, 1, 12, 10))]  # 10:00–11:00 Berlin
    local = [
        s.astimezone(BERLIN).strftime("%H:%M")
        for s in slots_between(utc(2026, 1, 12), utc(2026, 1, 13), busy=busy)
    ]
    assert "09:00" in local and "11:00" in local
    assert "09:30" not in local and "10:00" not in local and "10:30" not in local


def test_notice_period_hides_slots_too_soon():
    rules = SlotRules(duration=dt.timedelta(hours=1), notice=dt.timedelta(hours=4))
    now = utc(2026, 1, 12, 8, 10)  # 09:10 Berlin
    slots = slots_between(utc(2026, 1, 12), utc(2026, 1, 13), rules=rules, now=now)
    assert slots[0] == utc(2026, 1, 12, 12, 30)  # 13:30 Berlin: the first on the grid after 13:10


def test_horizon_hides_slots_too_far_ahead():
    rules = SlotRules(duration=dt.timedelta(hours=1), horizon=dt.timedelta(days=2))
    now = utc(2026, 1, 12, 6)
    slots = slots_between(utc(2026, 1, 12), utc(2026, 1, 20), rules=rules, now=now)
    assert {s.date() for s in slots} == {dt.date(2026, 1, 12), dt.date(2026, 1, 13)}
    assert max(slots) <= now + dt.timedelta(days=2)


def test_slots_must_fit_inside_a_window():
    windows = [WeeklyWindow(0, dt.time(9), dt.time(10, 15))]
    rules = SlotRules(duration=dt.timedelta(minutes=45))
    slots = slots_between(utc(2026, 1, 12), utc(2026, 1, 13), windows=windows, rules=rules)
    assert [s.astimezone(BERLIN).time() for s in slots] == [dt.time(9), dt.time(9, 30)]


def test_no_windows_no_slots():
    assert slots_between(utc(2026, 1, 12), utc(2026, 1, 19), windows=[]) == []


def test_team_slot_is_free_when_any_member_is():
    morning = (WeeklyWindow(0, dt.time(9), dt.time(12)),)
    afternoon = (WeeklyWindow(0, dt.time(13), dt.time(17)),)
    members = [
        Member(key=1, windows=morning, zone=BERLIN, busy=()),
        Member(key=2, windows=afternoon, zone=NEW_YORK, busy=()),  # 19:00–23:00 Berlin
        Member(
            key=3, windows=morning, zone=BERLIN, busy=((utc(2026, 1, 12, 8), utc(2026, 1, 12, 9)),)
        ),
    ]
    free = team_free_slots(
        members=members, rules=HOUR, now=utc(2026, 1, 11), start=utc(2026, 1, 12),
        end=utc(2026, 1, 13),
    )  # fmt: skip
    assert free[utc(2026, 1, 12, 8)] == [1]  # 09:00 Berlin: member 3 is busy
    assert free[utc(2026, 1, 12, 10)] == [1, 3]
    assert free[utc(2026, 1, 12, 18)] == [2]  # 13:00 New York
    assert list(free) == sorted(free)


def test_round_robin_prefers_never_booked_then_least_recent_then_lowest_key():
    members = [
        Member(key=5, windows=(), zone=BERLIN, busy=(), last_booked_at=utc(2026, 1, 2)),
        Member(key=3, windows=(), zone=BERLIN, busy=(), last_booked_at=utc(2026, 1, 1)),
        Member(key=9, windows=(), zone=BERLIN, busy=()),
        Member(key=4, windows=(), zone=BERLIN, busy=()),
    ]
    assert round_robin_order(members) == [4, 9, 3, 5]


def test_zone_names_are_validated():
    assert zone_or_none("Europe/Berlin") == BERLIN
    for bad in ["", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", None]:
        assert zone_or_none(bad) is None


@given(
    offset_minutes=st.integers(min_value=0, max_value=60 * 24 * 400),
    zone_name=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]),
)
def test_every_slot_is_inside_the_rep_hours_on_the_rep_clock(offset_minutes, zone_name):
    zone = ZoneInfo(zone_name)
    start = utc(2026, 1, 1) + dt.timedelta(minutes=offset_minutes)
    for slot in slots_between(start, start + dt.timedelta(days=3), zone=zone):
        local_start = slot.astimezone(zone)
        local_end = (slot + HOUR.duration).astimezone(zone)
        assert local_start.weekday() < 5
        assert dt.time(9) <= local_start.time() and local_end.time() <= dt.time(17)
        assert start <= slot < start + dt.timedelta(days=3)
