"""The shape every report returns, and the registry the pages are built from.

A report is a function `(user, filters) -> ReportResult`. Its result is a list of sections, each
with a short text, a chart and the table behind the chart; the page draws them in order and the
CSV export of a table is that same table. Reports register themselves with `report_register`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from closeloop.leads.reports import ReportRows

from .charts import Chart
from .filters import ReportFilters


@dataclass(frozen=True)
class Link:
    """A table cell that links somewhere (the CSV gets the text)."""

    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Table:
    """A table of plain values: the page shows it, the CSV export writes it as is."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)

    def export(self) -> tuple[ReportRows, list[tuple[str, Any]]]:
        """Rows and columns for `csv_download`."""
        columns = [
            (header, lambda row, i=i: _plain(row[i])) for i, header in enumerate(self.headers)
        ]
        return ReportRows(self.rows), columns


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Link):
        return value.text
    return value


@dataclass
class Section:
    """One part of a report page: a heading, what it shows in words, a chart, its table."""

    title: str
    text: str = ""
    chart: Chart | None = None
    table: Table | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportResult:
    """A whole report for one set of filters."""

    sections: list[Section]
    notes: list[str] = field(default_factory=list)  # said once, above the sections

    @property
    def tables(self) -> dict[str, Table]:
        return {s.table.key: s.table for s in self.sections if s.table is not None}


@dataclass(frozen=True)
class ReportKind:
    """A report page: its address key, title, one line on what it answers, how it is built."""

    key: str
    title: str
    summary: str
    build: Callable[..., ReportResult]
    position: int = 100
    date_basis: str = ""  # which deals the period selects, said under the filters


REPORTS: dict[str, ReportKind] = {}


def report_register(kind: ReportKind) -> ReportKind:
    REPORTS[kind.key] = kind
    return kind


def report_kinds() -> list[ReportKind]:
    import closeloop.analytics.reports  # noqa: F401  (each module registers its report)

    return sorted(REPORTS.values(), key=lambda k: (k.position, k.key))


def report_build(key: str, *, user: Any, filters: ReportFilters) -> ReportResult:
    report_kinds()
    return REPORTS[key].build(user=user, filters=filters)
