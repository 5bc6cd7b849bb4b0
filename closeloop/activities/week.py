"""Where a week's activities go on the calendar grid (a pure layout: no queries).

Days run Monday to Sunday in the viewer's zone; each column is a day, each grid row a quarter
hour from 07:00 to 21:00. An activity is placed by its wall-clock time in that zone, so a
meeting in the week of a daylight-saving change still shows at the time it is held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from .choices import ActivityKind
from .models import Activity

FIRST_HOUR = 7
LAST_HOUR = 20  # the last hour row shown: the grid ends at 21:00
SLOT_MINUTES = 15
SLOTS = (LAST_HOUR + 1 - FIRST_HOUR) * 60 // SLOT_MINUTES
NO_END = dt.timedelta(minutes=30)


@dataclass
class WeekItem:
    """One activity in a day column, from row `row` spanning `span` rows."""

    activity: Activity
    day: int
    row: int
    span: int
    starts: dt.datetime
    ends: dt.datetime | None
    earlier: bool = False  # starts before 07:00: shown at the top, marked
    later: bool = False  # starts after 21:00: shown at the bottom, marked


@dataclass
class WeekDay:
    date: dt.date
    is_today: bool
    untimed: list[Activity] = field(default_factory=list)


@dataclass
class Week:
    monday: dt.date
    zone: ZoneInfo
    days: list[WeekDay]
    items: list[WeekItem]

    @property
    def previous(self) -> dt.date:
        return self.monday - dt.timedelta(days=7)

    @property
    def next(self) -> dt.date:
        return self.monday + dt.timedelta(days=7)

    @property
    def hours(self) -> list[tuple[int, int]]:
        """(hour, grid row) of each hour label."""
        step = 60 // SLOT_MINUTES
        return [(h, (h - FIRST_HOUR) * step + 1) for h in range(FIRST_HOUR, LAST_HOUR + 1)]


def week_monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_bounds(monday: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to the next Monday 00:00 on the wall clock (167 or 169 hours in a DST
    week, not 168)."""
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=zone)
    return start, end


def _is_untimed(activity: Activity) -> bool:
    """Tasks (a due time, no length) and activities of a day or more go on top of the day."""
    if activity.kind == ActivityKind.TASK:
        return True
    ends = activity.ends_at
    return bool(ends and activity.due_at and ends - activity.due_at >= dt.timedelta(days=1))


def _minutes(moment: dt.datetime) -> int:
    return (moment.hour - FIRST_HOUR) * 60 + moment.minute


def week_layout(
    activities: list[Activity], *, monday: dt.date, zone: ZoneInfo, today: dt.date
) -> Week:
    """Place the activities of the week starting `monday` on the grid."""
    days = [
        WeekDay(date=monday + dt.timedelta(days=i), is_today=monday + dt.timedelta(days=i) == today)
        for i in range(7)
    ]
    items: list[WeekItem] = []
    for activity in activities:
        if activity.due_at is None:
            continue
        starts = timezone.localtime(activity.due_at, zone)
        index = (starts.date() - monday).days
        if not 0 <= index < 7:
            continue
        if _is_untimed(activity):
            days[index].untimed.append(activity)
            continue
        ends = timezone.localtime(activity.ends_at or activity.due_at + NO_END, zone)
        first = _minutes(starts)
        last = _minutes(ends) if ends.date() == starts.date() else SLOTS * SLOT_MINUTES
        earlier, later = first < 0, first >= SLOTS * SLOT_MINUTES
        first = min(max(first, 0), SLOTS * SLOT_MINUTES - SLOT_MINUTES)
        last = min(max(last, first + SLOT_MINUTES), SLOTS * SLOT_MINUTES)
        row = first // SLOT_MINUTES + 1
        span = max(-(-(last - first) // SLOT_MINUTES), 1)
        items.append(
            WeekItem(
                activity=activity,
                day=index,
                row=row,
                span=span,
                starts=starts,
                ends=timezone.localtime(activity.ends_at, zone) if activity.ends_at else None,
                earlier=earlier,
                later=later,
            )
        )
    return Week(monday=monday, zone=zone, days=days, items=items)


def week_people_label(person: Any, viewer: Any) -> str:
    return "Your" if person.pk == viewer.pk else f"{person.display_name}’s"
