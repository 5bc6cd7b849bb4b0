"""Month-by-month figures (range queries per month) against the history in conftest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Count, Q

from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of, report_facts
from closeloop.analytics.months import aggregate_by_month, months_between
from closeloop.analytics.reports.funnel import cohort_rows

pytestmark = pytest.mark.usefixtures("today")


def filters(preset: str = PeriodPreset.THIS_YEAR, **custom) -> ReportFilters:
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset, **custom))


def test_months_between_crosses_the_year():
    assert months_between(dt.date(2025, 11, 20), dt.date(2026, 2, 1)) == [
        dt.date(2025, 11, 1),
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]
    assert months_between(dt.date(2026, 3, 5), dt.date(2026, 3, 31)) == [dt.date(2026, 3, 1)]


def test_cohorts_of_this_year_for_the_admin(history, admin):
    # opened: Jan D1 (won) and D2 (lost); Feb D3 (lost); Mar D4 (won); Apr D5 (lost);
    # May D6 and D7 (both open); no deal opened in June
    assert cohort_rows(user=admin, filters=filters()) == [
        ["2026-01", 2, 0, 1, 1, Decimal("50.0")],
        ["2026-02", 1, 0, 0, 1, Decimal("0.0")],
        ["2026-03", 1, 0, 1, 0, Decimal("100.0")],
        ["2026-04", 1, 0, 0, 1, Decimal("0.0")],
        ["2026-05", 2, 2, 0, 0, None],
    ]


def test_all_time_starts_at_the_oldest_deal_and_skips_empty_months(history, admin):
    rows = cohort_rows(user=admin, filters=filters(PeriodPreset.ALL))
    # D8 was opened on 2025-11-01 and won; nothing was opened in December 2025
    assert rows[0] == ["2025-11", 1, 0, 1, 0, Decimal("100.0")]
    assert [r[0] for r in rows] == [
        "2025-11",
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
    ]


def test_a_rep_gets_only_their_own_cohorts(history, rep):
    # rep: D1, D2 (January), D5 (April), D6 (May)
    assert cohort_rows(user=rep, filters=filters()) == [
        ["2026-01", 2, 0, 1, 1, Decimal("50.0")],
        ["2026-04", 1, 0, 0, 1, Decimal("0.0")],
        ["2026-05", 1, 1, 0, 0, None],
    ]


def test_a_custom_period_counts_its_part_of_a_month(history, admin):
    # 15 January – 10 March: D2 (20 Jan), D3 (1 Feb), D4 (1 Mar); D1 (10 Jan) is before it
    period = filters(PeriodPreset.CUSTOM, first=dt.date(2026, 1, 15), last=dt.date(2026, 3, 10))
    rows = aggregate_by_month(
        report_facts(user=admin, filters=period),
        "created_at",
        period.period,
        n=Count("pk"),
        won=Count("pk", filter=Q(status="won")),
    )
    assert rows == [
        (dt.date(2026, 1, 1), {"n": 1, "won": 0}),
        (dt.date(2026, 2, 1), {"n": 1, "won": 0}),
        (dt.date(2026, 3, 1), {"n": 1, "won": 1}),
    ]


def test_no_deals_no_months(history, outsider):
    period = filters(PeriodPreset.LAST_MONTH)  # May: the outsider's D7 only
    assert cohort_rows(user=outsider, filters=period) == [["2026-05", 1, 1, 0, 0, None]]
    empty = filters(PeriodPreset.ALL)
    qs = report_facts(user=outsider, filters=empty).filter(status="won")
    assert aggregate_by_month(qs, "created_at", empty.period, n=Count("pk")) == []
