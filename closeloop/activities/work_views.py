"""'My work' (open calls, meetings and tasks by when they are due) and the week calendar.

Both read through the activity visibility selector; a manager may open a team member's, an
admin anyone's (`work_people`), everyone else only their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from closeloop.core.http import found_or_404, query_date, query_int

from .models import Activity
from .selectors import activity_calendar, activity_open_for, work_people
from .week import week_bounds, week_layout, week_monday, week_people_label

LATER_LIMIT = 100


def _person(request: HttpRequest) -> tuple[Any, Any]:
    """Whose work is shown (404 for someone the user may not look at), and who may be picked."""
    people = work_people(user=request.user)
    wanted = query_int(request.GET, "user")
    if wanted is None or wanted == request.user.pk:
        return request.user, people
    return found_or_404(people.filter(pk=wanted).first()), people


def _buckets(items: list[Activity], now: dt.datetime) -> dict[str, list[Activity]]:
    """Overdue, today, the next seven days and later, by the viewer's calendar."""
    today = timezone.localdate(now)
    week_end = today + dt.timedelta(days=7)
    buckets: dict[str, list[Activity]] = {"overdue": [], "today": [], "upcoming": [], "later": []}
    for item in items:
        assert item.due_at is not None
        day = timezone.localdate(item.due_at)
        if item.due_at < now:
            buckets["overdue"].append(item)
        elif day == today:
            buckets["today"].append(item)
        elif day <= week_end:
            buckets["upcoming"].append(item)
        elif len(buckets["later"]) < LATER_LIMIT:
            buckets["later"].append(item)
    return buckets


@login_required
@require_GET
def my_work(request: HttpRequest) -> HttpResponse:
    person, people = _person(request)
    now = timezone.now()
    items = list(activity_open_for(user=request.user, owner=person))
    buckets = _buckets(items, now)
    sections = [
        ("overdue", "Overdue", buckets["overdue"]),
        ("today", "Today", buckets["today"]),
        ("upcoming", "Next 7 days", buckets["upcoming"]),
        ("later", "Later", buckets["later"]),
    ]
    return render(
        request,
        "activities/my_work.html",
        {
            "person": person,
            "people": people if len(people) > 1 else [],
            "sections": sections,
            "total": len(items),
            "label": week_people_label(person, request.user),
            "nav": "work",
        },
    )


@login_required
@require_GET
def week(request: HttpRequest) -> HttpResponse:
    person, people = _person(request)
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    monday = week_monday(query_date(request.GET, "date") or today)
    start, end = week_bounds(monday, zone)  # type: ignore[arg-type]
    activities = activity_calendar(user=request.user, person=person, start=start, end=end)
    return render(
        request,
        "activities/week.html",
        {
            "week": week_layout(activities, monday=monday, zone=zone, today=today),  # type: ignore[arg-type]
            "person": person,
            "people": people if len(people) > 1 else [],
            "label": week_people_label(person, request.user),
            "today": today,
            "nav": "work",
        },
    )
