"""Where a report's figures are added up: the rollup cells for the whole months of its period,
the facts for the rest.

`report_rows(Model, …)` returns the deals a report counts as a `Rows`: a list of parts whose
figures add up — the cells of `Model` for every whole month (of the server's time zone) inside
the period, and the facts for the hours or days before the first and after the last of those
months. The cells carry the facts' own field names, and every count is `Sum("deals")` (a fact
counts 1 through an annotation), so one query runs on either; `Rows` runs it on each part and
adds the results up. When the cells cannot answer — a source, campaign or product filter (no
cell has them all), an owner restriction on a model without owners — the facts answer alone,
as they always could. Months are grouped by the cells' month only when the viewer's time zone
is the server's; otherwise by the facts, per local month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Max, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import TruncMonth
from django.utils import timezone

from closeloop.accounts.visibility import owner_filter
from closeloop.pipeline.models import DealFacts, StageStay
from closeloop.pipeline.rollups.models import Cell, StayCell

from .filters import Period, ReportFilters, month_start, report_narrowed
from .months import month_span, months_between
from .stats import percentile_of_counts


def deals(condition: Q | None = None) -> Sum:
    """The number of deals (matching `condition`) in a part: cells add their counts up."""
    return Sum("deals", filter=condition, default=0)


@dataclass
class Part:
    """One addend: a queryset over cells or facts. `month` is the one month a facts fragment
    lies in (None for the cells, which say their month, and for facts over many months)."""

    qs: QuerySet
    cells: bool
    month: dt.date | None = None


@dataclass
class Rows:
    """The parts whose figures add up to a report's figures (see the module's docstring)."""

    parts: list[Part]
    date_field: str
    period: Period
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def from_cells(self) -> bool:
        return any(p.cells for p in self.parts)

    def _each(self, method: str, *args: Any, **kwargs: Any) -> Rows:
        parts = [Part(getattr(p.qs, method)(*args, **kwargs), p.cells, p.month) for p in self.parts]
        return Rows(parts, self.date_field, self.period, self.extra)

    def filter(self, *args: Any, **kwargs: Any) -> Rows:
        return self._each("filter", *args, **kwargs)

    def annotate(self, **kwargs: Any) -> Rows:
        return self._each("annotate", **kwargs)

    def annotate_facts(self, **kwargs: Any) -> Rows:
        """Annotate the facts parts only: what the cells store as a column (a size band)."""
        parts = [
            p if p.cells else Part(p.qs.annotate(**kwargs), False, p.month) for p in self.parts
        ]
        return Rows(parts, self.date_field, self.period, self.extra)

    def aggregate(self, **aggregates: Any) -> dict[str, Any]:
        """`aggregates` (sums and counts of deals only: they must add up) over every part."""
        total: dict[str, Any] = {}
        for part in self.parts:
            _add(total, part.qs.aggregate(**aggregates))
        return total

    def group(self, *fields: str, **aggregates: Any) -> list[dict[str, Any]]:
        """`values(*fields).annotate(**aggregates)` over every part, added up per group.
        Expressions to group by go in as annotations first (`annotate`)."""
        merged: dict[tuple, dict[str, Any]] = {}
        for part in self.parts:
            for row in part.qs.values(*fields).annotate(**aggregates).order_by():
                key = tuple(row[f] for f in fields)
                _add(merged.setdefault(key, dict(zip(fields, key, strict=True))), row, aggregates)
        return list(merged.values())

    def by_month(self, *fields: str, **aggregates: Any) -> list[dict[str, Any]]:
        """Like `group`, with the local calendar month (a date, key "month") as one more field."""
        merged: dict[tuple, dict[str, Any]] = {}
        for grouping in self._monthly(fields):
            for row in grouping.qs.annotate(**aggregates).order_by():
                month = grouping.month_of(row)
                key = (month, *(row[f] for f in fields))
                base = {"month": month, **{f: row[f] for f in fields}}
                _add(merged.setdefault(key, base), row, aggregates)
        return sorted(merged.values(), key=lambda r: r["month"])

    def monthly_percentiles(
        self, key: str, value: str, count: Sum, percentiles: tuple[int, ...]
    ) -> dict[tuple[dt.date, Any], tuple[int, dict[int, int]]]:
        """Per local month and `key`: how many (`count`) and the nearest-rank percentiles of
        `value` (the smallest value with at least p % of the count at or below it), worked out
        by the database with window functions: a histogram of a million deals by month never
        comes into Python. Each month lies in one part (the cells hold whole months, the facts
        the rest), so no two parts' percentiles need combining."""
        found: dict[tuple[dt.date, Any], tuple[int, dict[int, int]]] = {}
        for grouping in self._monthly((key, value)):
            grouped = grouping.qs.annotate(n=count).order_by()
            for row in percentile_rows(grouped, grouping.by, value, percentiles):
                month = grouping.month_of(row)
                values = found.setdefault((month, row[key]), (row["total"], {}))[1]
                for p in percentiles:
                    if row[f"p{p}"]:
                        values[p] = row[value]
        return found

    def percentiles(
        self, by: tuple[str, ...], value: str, count: Sum, percentiles: tuple[int, ...]
    ) -> dict[tuple, Spread]:
        """Per `by` key: how many (`count`), the sum of `value` over them and its nearest-rank
        percentiles. One part (all time, or whole months: the cells alone) is worked out by the
        database (`percentile_rows`); several parts' histograms are added up here first, as a
        percentile of a sum is not the sum of percentiles."""
        if len(self.parts) == 1:
            grouped = self.parts[0].qs.values(*by, value).annotate(n=count).order_by()
            found: dict[tuple, Spread] = {}
            for row in percentile_rows(grouped, by, value, percentiles):
                key = tuple(row[k] for k in by)
                spread = found.setdefault(key, Spread(row["total"], row["weighted"]))
                spread.values.update({p: row[value] for p in percentiles if row[f"p{p}"]})
            return found
        counts: dict[tuple, list[tuple[int, int]]] = {}
        for row in self.group(*by, value, n=count):
            counts.setdefault(tuple(row[k] for k in by), []).append((row[value], row["n"]))
        return {
            key: Spread(
                sum(n for _, n in pairs),
                sum(v * n for v, n in pairs),
                {p: v for p in percentiles if (v := percentile_of_counts(pairs, p)) is not None},
            )
            for key, pairs in counts.items()
            if any(n for _, n in pairs)
        }

    def _monthly(self, fields: tuple[str, ...]) -> Iterable[Grouping]:
        """The queries whose rows are per local month: `values()` over `fields` (and the month,
        where a query spans several), each saying which month a row is of."""
        for part in self.parts:
            if part.cells:
                yield Grouping(part.qs.values("month", *fields), ("month", *fields[:-1]))
            elif part.month is not None:
                yield Grouping(part.qs.values(*fields), fields[:-1], month=part.month)
            else:
                yield from _facts_by_month(part.qs, self.date_field, self.period, fields)


@dataclass
class Spread:
    """A histogram's figures: how many, the sum of their values, and percentile → value."""

    count: int
    total: int
    values: dict[int, int] = field(default_factory=dict)


@dataclass
class Grouping:
    """A `values()` query of rows within months: `month` is the month of all of them, else
    each row says its own ("month" from the cells, "month_of" truncated from the facts). `by`
    are the columns that, with the month, key a histogram (all but the value)."""

    qs: QuerySet
    by: tuple[str, ...]
    month: dt.date | None = None

    def month_of(self, row: dict[str, Any]) -> dt.date:
        if self.month is not None:
            return self.month
        if "month_of" in row:
            # the ORM makes the truncated month aware; a raw row has it naive, in local time
            value = row["month_of"]
            return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
        return _date(row["month"])


def _date(value: Any) -> dt.date:
    # a raw SQLite row holds the cells' month as text
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def percentile_rows(
    grouped: QuerySet, by: tuple[str, ...], value: str, percentiles: tuple[int, ...]
) -> Iterable[dict[str, Any]]:
    """The rows of `grouped` (`values(*by, value).annotate(n=…)`: a histogram per `by`, or
    one histogram without `by`) at
    which a running total of `n`, in `value` order, first reaches each p % of the histogram's
    total: `(cum - n) * 100 < p * total <= cum * 100`, whole numbers only, so both databases
    agree with `stats.percentile_of_counts` to the unit. Each row carries its histogram's
    `total` count, the `weighted` sum of its values and a flag `p<p>` per percentile it is."""
    sql, params = grouped.query.sql_with_params()
    quote = connection.ops.quote_name
    partition = f"PARTITION BY {', '.join(quote(k) for k in by)}" if by else ""
    flags = ", ".join(
        f"CASE WHEN (w.cum - w.n) * 100 < {p} * w.total AND {p} * w.total <= w.cum * 100 "
        f"THEN 1 ELSE 0 END AS {quote(f'p{p}')}"
        for p in percentiles
    )
    wanted = " OR ".join(
        f"((w.cum - w.n) * 100 < {p} * w.total AND {p} * w.total <= w.cum * 100)"
        for p in percentiles
    )
    windowed = (
        f"SELECT g.*, SUM(g.n) OVER ({partition} ORDER BY g.{quote(value)} "  # noqa: S608
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum, "
        f"SUM(g.n) OVER ({partition}) AS total, "
        f"SUM(g.n * g.{quote(value)}) OVER ({partition}) AS weighted FROM ({sql}) g"
    )
    # names are quoted by the backend and the percentiles are the caller's whole numbers;
    # every value from outside stays a parameter of the inner query
    statement = f"SELECT w.*, {flags} FROM ({windowed}) w WHERE w.total > 0 AND ({wanted})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        names = [column[0] for column in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            row["total"], row["weighted"] = int(row["total"]), int(row["weighted"])
            yield row


def _add(total: dict[str, Any], row: dict[str, Any], only: Iterable[str] | None = None) -> None:
    for name in only if only is not None else row:
        value = row[name]
        if value is None:
            total.setdefault(name, None)
        elif total.get(name) is None:
            total[name] = value
        else:
            total[name] += value


def _facts_by_month(
    qs: QuerySet, date_field: str, period: Period, fields: tuple[str, ...]
) -> Iterable[Grouping]:
    """Per local month over facts: one GROUP BY on PostgreSQL, a range query per month on
    SQLite (where truncating is a Python call per row)."""
    if connection.vendor == "postgresql":
        by_month = qs.annotate(month_of=TruncMonth(date_field)).values("month_of", *fields)
        yield Grouping(by_month, ("month_of", *fields[:-1]))
        return
    first, last = period.first, period.last
    if first is None or last is None:
        bounds = qs.aggregate(low=Min(date_field), high=Max(date_field))
        if bounds["low"] is None:
            return
        first = first or timezone.localtime(bounds["low"]).date()
        last = last or timezone.localtime(bounds["high"]).date()
    for month in months_between(first, last):
        start, end = month_span(month)
        in_month = {f"{date_field}__gte": start, f"{date_field}__lt": end}
        yield Grouping(qs.filter(**in_month).values(*fields), fields[:-1], month=month)


def _cell_month(moment: dt.datetime) -> dt.datetime:
    """The start of the cells' month `moment` falls in (server's zone), as an aware datetime."""
    zone = timezone.get_default_timezone()
    day = timezone.localtime(moment, zone).date().replace(day=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), zone)


def _next_cell_month(moment: dt.datetime) -> dt.datetime:
    start = _cell_month(moment)
    if start == moment:
        return start
    zone = timezone.get_default_timezone()
    after = month_start(timezone.localtime(start, zone).date(), 1)
    return timezone.make_aware(dt.datetime.combine(after, dt.time.min), zone)


def _same_zone() -> bool:
    return timezone.get_current_timezone_name() == timezone.get_default_timezone_name()


def cells_usable(model: type[Cell], *, user: Any, filters: ReportFilters) -> bool:
    """Whether `model`'s cells can count for these filters (see the module's docstring)."""
    if filters.source_id or filters.campaign_id or filters.product_id:
        return False
    if not model.has_owner:
        return not (filters.owner_id or filters.team_id) and owner_filter(user, "owner") is None
    return True


def report_rows(
    model: type[Cell],
    *,
    user: Any,
    filters: ReportFilters,
    period: Period | None = None,
    monthly: bool = False,
    **cell_filters: Any,
) -> Rows:
    """The deals (or, for `StayCell`, the stays) a report adds up with `model`'s cells, visible
    to `user`, matching the filters, with the model's date in `period` (the filters' by
    default). `cell_filters` narrow the cells only (TraitCell's `trait`); `monthly` says the
    caller groups by month, which the cells can do only in the server's time zone."""
    period = period or filters.period
    facts_model = StageStay if model is StayCell else DealFacts
    basis = model.basis

    def facts(start: dt.datetime | None, end: dt.datetime | None) -> QuerySet:
        qs = report_narrowed(facts_model.objects.all(), user, filters, deal_field="deal_id")
        qs = qs.filter(model.facts_filter).annotate(deals=Value(1))
        if start is not None:
            qs = qs.filter(**{f"{basis}__gte": start})
        if end is not None:
            qs = qs.filter(**{f"{basis}__lt": end})
        return qs

    start, end = period.start, period.end
    if not cells_usable(model, user=user, filters=filters) or (monthly and not _same_zone()):
        return Rows([Part(facts(start, end), False)], basis, period)
    first = _next_cell_month(start) if start else None
    last = _cell_month(end) if end else None
    if first is not None and last is not None and first >= last:
        return Rows([Part(facts(start, end), False)], basis, period)
    zone = timezone.get_default_timezone()
    cells = report_narrowed(
        model._default_manager.filter(**cell_filters), user, filters, deal_field=""
    )
    if first is not None:
        cells = cells.filter(month__gte=timezone.localtime(first, zone).date())
    if last is not None:
        cells = cells.filter(month__lt=timezone.localtime(last, zone).date())
    parts = [Part(cells, True)]
    if start is not None and first is not None and start < first:
        parts.append(
            Part(facts(start, first), False, timezone.localtime(start, zone).date().replace(day=1))
        )
    if end is not None and last is not None and last < end:
        parts.append(Part(facts(last, end), False, timezone.localtime(last, zone).date()))
    return Rows(parts, basis, period)
