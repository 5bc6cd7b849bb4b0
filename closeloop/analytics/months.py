"""Figures per calendar month without truncating a date on every row.

`TruncMonth` on SQLite calls a Python function for every row (django_datetime_trunc): on a
million deals that alone takes seconds. Instead each month is one range query on the date
column, which an index answers directly: the rows of the period, read once, plus one short query
per month. PostgreSQL truncates natively, so there it stays one GROUP BY.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import Max, Min, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from .filters import Period, day_start, month_start


def month_span(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local calendar month starting on `month` as [start, end) datetimes."""
    return day_start(month), day_start(month_start(month, 1))


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first days of the calendar months from `first`'s to `last`'s, in order."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = month_start(month, 1)
    return months


def aggregate_by_month(
    qs: QuerySet, field: str, period: Period, **aggregates: Any
) -> list[tuple[dt.date, dict[str, Any]]]:
    """`aggregates` over `qs` for each local calendar month of `field` (a datetime), oldest
    first; months without a row are left out (as a GROUP BY would)."""
    if connection.vendor == "postgresql":
        # date_trunc is native there: one GROUP BY beats a query per month (fifty for all time)
        grouped = (
            qs.annotate(month=TruncMonth(field))
            .values("month")
            .annotate(**aggregates)
            .order_by("month")
        )
        return [
            (timezone.localtime(r.pop("month")).date(), r)
            for r in grouped
            if any(v for k, v in r.items() if k != "month")
        ]
    first, last = period.first, period.last
    if first is None or last is None:
        bounds = qs.aggregate(low=Min(field), high=Max(field))
        if bounds["low"] is None:
            return []
        first = first or timezone.localtime(bounds["low"]).date()
        last = last or timezone.localtime(bounds["high"]).date()
    rows = []
    for month in months_between(first, last):
        in_month = {
            f"{field}__gte": day_start(month),
            f"{field}__lt": day_start(month_start(month, 1)),
        }
        values = qs.filter(**in_month).aggregate(**aggregates)
        if any(values.values()):
            rows.append((month, values))
    return rows
