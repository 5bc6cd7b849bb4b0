"""Free booking slots, as pure functions of the rules, the busy times and the clock.

Weekly availability is wall-clock time in the rep's zone: a 09:00–17:00 Europe/Berlin rule is
09:00 local on both sides of a daylight-saving change, so it is turned into UTC per date (with
zoneinfo), never by adding a fixed offset. Everything returned is an aware UTC datetime; the
pages turn it into the visitor's zone only for display.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from closeloop.core.zones import zone_is_known

Interval = tuple[dt.datetime, dt.datetime]

# Slots start every `duration`, but at least every half hour: a 60-minute meeting can start at
# 09:00 or 09:30, so a short busy spell does not hide a whole hour.
MAX_STEP = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class WeeklyWindow:
    """One stretch of a weekday (0 = Monday) the rep takes meetings, in their local time."""

    weekday: int
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class SlotRules:
    """How a meeting type fits into a calendar: length, gaps around it, how soon and how far."""

    duration: dt.timedelta
    buffer_before: dt.timedelta = dt.timedelta(0)
    buffer_after: dt.timedelta = dt.timedelta(0)
    notice: dt.timedelta = dt.timedelta(0)
    horizon: dt.timedelta = dt.timedelta(days=60)

    @property
    def step(self) -> dt.timedelta:
        return min(self.duration, MAX_STEP)


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone called `name`, or None for anything else (never a file path)."""
    name = (name or "").strip()
    return ZoneInfo(name) if zone_is_known(name) else None


def local_to_utc(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """`at` on `day` on the wall clock of `zone`, in UTC.

    A time that does not exist (skipped by a spring-forward change) is read with the offset in
    force before the change, which puts it that much later on the new clock, as clocks do.
    """
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(dt.UTC)


def _local_windows(
    windows: Iterable[WeeklyWindow], zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    """Whole windows (UTC) of the local dates around [start, end), unclipped, in order."""
    windows = list(windows)
    day = start.astimezone(zone).date() - dt.timedelta(days=1)
    last = end.astimezone(zone).date() + dt.timedelta(days=1)
    result: list[Interval] = []
    while day <= last:
        for window in windows:
            if window.weekday == day.weekday() and window.start < window.end:
                begin = local_to_utc(day, window.start, zone)
                finish = local_to_utc(day, window.end, zone)
                if begin < end and start < finish:
                    result.append((begin, finish))
        day += dt.timedelta(days=1)
    return sorted(result)


def availability(
    windows: Iterable[WeeklyWindow], zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[Interval]:
    """The rep's open hours between `start` and `end` (UTC), clipped to that range, in order."""
    return [
        (max(begin, start), min(finish, end))
        for begin, finish in _local_windows(windows, zone, start, end)
    ]


def overlaps(start: dt.datetime, end: dt.datetime, busy: Sequence[Interval]) -> bool:
    """Whether [start, end) meets any busy interval (touching ends do not count)."""
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def free_slots(
    *,
    windows: Iterable[WeeklyWindow],
    zone: ZoneInfo,
    rules: SlotRules,
    busy: Sequence[Interval],
    now: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
) -> list[dt.datetime]:
    """Start times (UTC) in [start, end) of meetings that fit the rep's week and calendar.

    A slot must lie wholly inside one availability window, start at least `notice` after now
    and no later than `horizon` after now, and keep `buffer_before`/`buffer_after` clear of
    every busy interval.
    """
    earliest = max(start, now + rules.notice)
    latest = min(end, now + rules.horizon)
    slots: list[dt.datetime] = []
    if earliest >= latest:
        return slots
    # Slots start on each window's own grid (09:00, 09:30, …), never on the range's edge, so
    # the times look like times people pick and do not shift with the clock.
    for w_start, w_end in _local_windows(windows, zone, earliest, latest):
        slot = w_start
        while slot + rules.duration <= w_end:
            if earliest <= slot < latest and not overlaps(
                slot - rules.buffer_before, slot + rules.duration + rules.buffer_after, busy
            ):
                slots.append(slot)
            slot += rules.step
    return sorted(set(slots))


@dataclass(frozen=True)
class Member:
    """A rep who can take a team page's meetings: their week, zone, calendar and last booking."""

    key: int
    windows: tuple[WeeklyWindow, ...]
    zone: ZoneInfo
    busy: tuple[Interval, ...]
    last_booked_at: dt.datetime | None = None


def team_free_slots(
    *,
    members: Sequence[Member],
    rules: SlotRules,
    now: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[dt.datetime, list[int]]:
    """Each free start time (UTC, in order) with the members free then: free if anyone is."""
    free: dict[dt.datetime, list[int]] = {}
    for member in members:
        for slot in free_slots(
            windows=member.windows, zone=member.zone, rules=rules, busy=member.busy,
            now=now, start=start, end=end,
        ):  # fmt: skip
            free.setdefault(slot, []).append(member.key)
    return dict(sorted(free.items()))


def round_robin_order(members: Sequence[Member]) -> list[int]:
    """Members by turn: never booked first, then the least recently booked; ties by key."""
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    ordered = sorted(members, key=lambda m: (m.last_booked_at or never, m.key))
    return [m.key for m in ordered]


def group_by_day(slots: Iterable[dt.datetime], zone: ZoneInfo) -> dict[dt.date, list[dt.datetime]]:
    """Slots as the visitor sees them: by their local date, in their zone, in order."""
    days: dict[dt.date, list[dt.datetime]] = {}
    for slot in sorted(slots):
        local = slot.astimezone(zone)
        days.setdefault(local.date(), []).append(local)
    return days


def day_range(first_day: dt.date, days: int, zone: ZoneInfo) -> Interval:
    """Midnight of `first_day` to midnight `days` later on the visitor's clock, in UTC."""
    start = local_to_utc(first_day, dt.time(0), zone)
    end = local_to_utc(first_day + dt.timedelta(days=days), dt.time(0), zone)
    return start, end
