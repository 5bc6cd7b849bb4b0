"""Every report says the same from the rollup cells as from the facts alone: for each report,
period (whole months, all time, days cut mid-month), viewer, and in another time zone, the
tables and notes are equal with the cells and with them switched off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from closeloop.analytics import cells
from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.figures import dashboard_build
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.results import report_build, report_kinds

pytestmark = pytest.mark.usefixtures("today")

PERIODS = [
    period_of(PeriodPreset.LAST_12_MONTHS),
    period_of(PeriodPreset.THIS_YEAR),
    period_of(PeriodPreset.ALL),
    period_of(PeriodPreset.CUSTOM, first=dt.date(2026, 1, 20), last=dt.date(2026, 3, 5)),
    period_of(PeriodPreset.CUSTOM, first=dt.date(2025, 11, 1), last=dt.date(2026, 4, 1)),
]


def _said(result: Any) -> list[Any]:
    """What a report shows: its notes, and each section's text, notes and table rows."""
    shown: list[Any] = [list(result.notes)]
    for section in result.sections:
        table = section.table
        shown.append(
            (section.title, section.text, list(section.notes), table.rows if table else None)
        )
    return shown


def _everything(user: Any) -> list[Any]:
    pipeline = default_pipeline_id()
    out = []
    for period in PERIODS:
        filters = ReportFilters(pipeline_id=pipeline, period=period)
        for kind in report_kinds():
            out.append(
                (kind.key, period, _said(report_build(kind.key, user=user, filters=filters)))
            )
        board = dashboard_build(user=user, filters=filters)
        figures = [(f.key, f.value, f.previous, f.note) for f in board.figures]
        reps = [(r.name, r.won, r.lost, r.won_value) for r in board.reps]
        out.append(("dashboard", period, figures, reps))
    return out


@pytest.mark.parametrize("who", ["admin", "manager", "rep"])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_reports_read_the_same_from_cells_and_from_facts(history, who, zone, request, monkeypatch):
    user = request.getfixturevalue(who)
    with timezone.override(zone):
        from_cells = _everything(user)
        monkeypatch.setattr(cells, "cells_usable", lambda *a, **k: False)
        from_facts = _everything(user)
    assert from_cells == from_facts


def test_whole_months_are_read_from_the_cells(history, admin):
    filters = ReportFilters(
        pipeline_id=default_pipeline_id(), period=period_of(PeriodPreset.LAST_12_MONTHS)
    )
    from closeloop.pipeline.rollups.models import ClosedCell

    rows = cells.report_rows(ClosedCell, user=admin, filters=filters)
    assert [p.cells for p in rows.parts] == [True]
    cut = ReportFilters(
        pipeline_id=filters.pipeline_id,
        period=period_of(PeriodPreset.CUSTOM, first=dt.date(2025, 11, 1), last=dt.date(2026, 4, 1)),
    )
    rows = cells.report_rows(ClosedCell, user=admin, filters=cut)
    assert [(p.cells, p.month) for p in rows.parts] == [(True, None), (False, dt.date(2026, 4, 1))]


@pytest.mark.django_db
def test_monthly_percentiles_from_the_database_match_counting_them_in_python():
    """The window-function percentiles agree with `percentile_of_counts` to the unit, on
    random histograms with ties at the boundaries (small counts, few distinct values)."""
    import random

    from closeloop.analytics.filters import Period
    from closeloop.analytics.stats import percentile_of_counts
    from closeloop.pipeline.models import Pipeline
    from closeloop.pipeline.rollups.models import CycleCell

    rng = random.Random(11)
    pipeline = Pipeline.objects.first()
    assert pipeline is not None
    expected: dict[tuple[dt.date, str], tuple[int, dict[int, int | None]]] = {}
    for month_no in range(1, 13):
        month = dt.date(2025, month_no, 1)
        for status in ("won", "lost"):
            counts: dict[int, int] = {}
            for _ in range(rng.randint(1, 6)):
                value = rng.randint(0, 12)
                counts[value] = counts.get(value, 0) + rng.randint(1, 4)
            for value, n in counts.items():
                CycleCell.objects.create(
                    cell=f"{month}|{status}|{value}", pipeline=pipeline, month=month,
                    status=status, cycle_tenths=value, deals=n,
                )  # fmt: skip
            pairs = list(counts.items())
            expected[(month, status)] = (
                sum(counts.values()),
                {p: percentile_of_counts(pairs, p) for p in (1, 25, 50, 75, 90, 100)},
            )
    rows = cells.Rows(
        [cells.Part(CycleCell.objects.filter(pipeline=pipeline), True)],
        "closed_at",
        Period(PeriodPreset.CUSTOM, None, None),
    )
    found = rows.monthly_percentiles(
        "status", "cycle_tenths", cells.deals(), (1, 25, 50, 75, 90, 100)
    )
    assert found == expected
