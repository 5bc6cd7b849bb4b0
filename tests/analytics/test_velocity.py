"""Pipeline velocity against the hand-computed history in conftest.

Closed by month: 2025-12 D8 won (4000, 30 days); 2026-02 D1 won (10000, 25 days), D2 lost;
2026-03 D3 lost, D4 won (8000, 20 days); 2026-04 D5 lost. Open at each month's end (opened
before it, not closed before it): Jan D1, D2; Feb D3; Mar none; Apr none; May D6, D7; now (15
Jun) D6, D7. The rep sees D1, D2, D5, D6, D8.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.reports.velocity import velocity_of, velocity_trend
from closeloop.pipeline import services
from tests.analytics.conftest import PROPOSAL, TODAY, _deal, on

pytestmark = pytest.mark.usefixtures("today")

D = Decimal


def filters(**kw: Any) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.LAST_12_MONTHS)
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset), **kw)


def inputs(user: Any, f: ReportFilters) -> tuple:
    v = velocity_of(user=user, filters=f, period=f.period, now=TODAY)
    return (
        v.open_deals,
        v.won,
        v.lost,
        v.win_rate.value,
        v.average_won_value,
        v.average_cycle_days,
        v.per_day,
    )


def test_the_admin_velocity_of_the_last_12_months(history, admin):
    # 2 open × 3/6 won × 22000/3 ÷ 25 days = 293.33 a day
    assert inputs(admin, filters()) == (2, 3, 3, D("50.0"), D("7333.33"), D("25.0"), D("293.33"))


def test_this_year_leaves_out_the_deal_closed_in_2025(history, admin):
    # 2 × 2/5 × 9000 ÷ 22.5 = 320
    assert inputs(admin, filters(preset=PeriodPreset.THIS_YEAR)) == (
        2,
        2,
        3,
        D("40.0"),
        D("9000.00"),
        D("22.5"),
        D("320.00"),
    )


def test_a_rep_counts_only_their_deals(history, rep, outsider):
    # D6 open; won D8, D1, lost D2, D5: 1 × 1/2 × 7000 ÷ 27.5 = 127.27
    assert inputs(rep, filters()) == (1, 2, 2, D("50.0"), D("7000.00"), D("27.5"), D("127.27"))
    # the outsider has D7 open and nothing closed: no velocity
    assert inputs(outsider, filters()) == (1, 0, 0, None, None, None, None)


def test_open_deals_are_counted_at_the_end_of_a_past_period(history, admin):
    q1 = ReportFilters(
        pipeline_id=default_pipeline_id(),
        period=period_of(PeriodPreset.CUSTOM, first=dt.date(2026, 1, 1), last=dt.date(2026, 2, 28)),
    )
    # open on 1 Mar 00:00: D3 (D4 opened at 09:00 that day); closed D1 won, D2 lost
    assert inputs(admin, q1) == (1, 1, 1, D("50.0"), D("10000.00"), D("25.0"), D("200.00"))


def test_the_trend_covers_the_six_months_up_to_now(history, admin):
    trend = velocity_trend(user=admin, filters=filters(), now=TODAY)
    assert [
        (
            m.label,
            m.open_deals,
            m.won,
            m.lost,
            m.win_rate.value,
            m.average_won_value,
            m.average_cycle_days,
            m.per_day,
        )
        for m in trend
    ] == [
        ("2026-01", 2, 0, 0, None, None, None, None),
        ("2026-02", 1, 1, 1, D("50.0"), D("10000.00"), D("25.0"), D("200.00")),
        ("2026-03", 0, 1, 1, D("50.0"), D("8000.00"), D("20.0"), D("0.00")),
        ("2026-04", 0, 0, 1, D("0.0"), None, None, D("0.00")),  # closed, none won: 0
        ("2026-05", 2, 0, 0, None, None, None, None),
        ("2026-06", 2, 0, 0, None, None, None, None),
    ]
    last_quarter = velocity_trend(
        user=admin, filters=filters(preset=PeriodPreset.LAST_QUARTER), now=TODAY
    )
    assert [m.label for m in last_quarter] == [
        "2025-10",
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
    ]
    assert last_quarter[2].won == 1 and last_quarter[2].per_day == D("0.00")  # D8; none open


def test_won_deals_in_other_currencies_count_in_rate_and_cycle_only(history, admin, rep):
    with on("2026-04-01"):
        deal = _deal(admin, "Dollars", PROPOSAL, owner=rep, value=50000, currency="USD")
    with on("2026-04-11"):
        services.deal_mark_won(actor=admin, deal=deal)
    # won D8, D1, D4 and the USD deal (10 days) of 7 closed; value of the three in EUR
    v = velocity_of(user=admin, filters=filters(), period=filters().period, now=TODAY)
    assert (v.won, v.won_summed, v.average_won_value, v.average_cycle_days) == (
        4,
        3,
        D("7333.33"),
        D("21.3"),
    )
    # 2 × 4/7 × 22000/3 ÷ 21.25 = 176000 / 446.25 = 394.40
    assert v.per_day == D("394.40")


def test_the_page_shows_the_inputs_and_exports_the_trend(history, admin_client_, rep_client):
    response = admin_client_.get("/analytics/velocity/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and 'data-table="velocity"' in body and 'data-table="trend"' in body
    export = admin_client_.get("/analytics/velocity/", {"export": "velocity"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[1:] == [
        "Open deals,2,open at the end of the period (or now)",
        "Win rate %,50.0,3 won of 6 closed in the period",
        "Average won value (EUR),7333.33,3 deal(s) won in the period in EUR",
        'Average cycle (days),25.0,"opening to winning, 3 deal(s) won in the period"',
        "Velocity (EUR per day),293.33,open deals × win rate × value ÷ cycle",
    ]
    trend = rep_client.get("/analytics/velocity/", {"export": "trend"})
    lines = b"".join(trend.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Month,Open deals at month end,Won,Lost,Win rate %,Average won value (EUR),"
        "Average cycle (days),Velocity (EUR per day)"
    )
    # the rep: D1, D2 open at January's end; D1 won, D2 lost in February, nothing open after
    assert lines[1:3] == ["2026-01,2,0,0,,,,", "2026-02,0,1,1,50.0,10000.00,25.0,0.00"]


def test_the_trend_takes_one_query(history, admin, django_assert_max_num_queries):
    f = filters()
    with django_assert_max_num_queries(2):  # the base currency, then all six months at once
        velocity_trend(user=admin, filters=f, now=TODAY)
