"""The cycle and time-in-stage report against the hand-computed history in conftest.

Closed this year: D1 won (25 d), D4 won (20 d), D2 lost (20 d), D3 lost (30 d), D5 lost (5 d);
D8 (won 2025-12-01 after 30 d) only in the last 12 months. Nearest rank: of n values sorted, the
p-th percentile is value number ceil(p/100 · n).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.reports.cycle import (
    Durations,
    cycle_by_month,
    cycle_by_outcome,
    cycle_report,
    stage_times,
)
from closeloop.analytics.results import report_build

pytestmark = pytest.mark.usefixtures("today")

D = Decimal


def filters(**kw) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.THIS_YEAR)
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset), **kw)


def figures(d: Durations) -> tuple:
    return (d.deals, d.median, d.p75, d.average)


def outcomes(user, **kw) -> dict[str, tuple]:
    return {k: figures(v) for k, v in cycle_by_outcome(user=user, filters=filters(**kw)).items()}


def stages(user, **kw) -> list[tuple]:
    return [
        (stage.name, figures(d["won"])[:3], figures(d["lost"])[:3])
        for stage, d in stage_times(user=user, filters=filters(**kw))
    ]


def test_cycle_length_of_the_deals_won_and_lost_this_year(history, admin):
    assert outcomes(admin) == {
        # won 20, 25: median = 1st of 2 = 20, p75 = 2nd = 25, mean 22.5
        "won": (2, D("20.0"), D("25.0"), D("22.5")),
        # lost 5, 20, 30: median = 2nd of 3 = 20, p75 = 3rd = 30, mean 55 / 3 = 18.3
        "lost": (3, D("20.0"), D("30.0"), D("18.3")),
    }


def test_time_in_each_stage_won_against_lost(history, admin):
    assert stages(admin) == [
        # won D1 5; lost D5 5, D3 10
        ("Demo / meeting", (1, D("5.0"), D("5.0")), (2, D("5.0"), D("10.0"))),
        # won D1 10, D4 10; lost D3 10, D2 20
        ("Proposal", (2, D("10.0"), D("10.0")), (2, D("10.0"), D("20.0"))),
        # won D1 10, D4 10; lost D3 10
        ("Negotiation / commitment", (2, D("10.0"), D("10.0")), (1, D("10.0"), D("10.0"))),
    ]


def test_cycle_by_month_closed_runs_to_this_month(history, admin):
    months = [
        (m.strftime("%Y-%m"), d["won"].deals, d["won"].median, d["lost"].deals, d["lost"].median)
        for m, d in cycle_by_month(user=admin, filters=filters())
    ]
    assert months == [
        ("2026-01", 0, None, 0, None),
        ("2026-02", 1, D("25.0"), 1, D("20.0")),  # D1 won, D2 lost
        ("2026-03", 1, D("20.0"), 1, D("30.0")),  # D4 won, D3 lost
        ("2026-04", 0, None, 1, D("5.0")),  # D5 lost
        ("2026-05", 0, None, 0, None),
        ("2026-06", 0, None, 0, None),  # today is 2026-06-15: no months after it
    ]


def test_last_12_months_take_in_the_imported_deal(history, admin):
    last12 = PeriodPreset.LAST_12_MONTHS
    # won 20, 25, 30 (D8): median = 2nd of 3 = 25, p75 = 3rd = 30, mean 25.0
    assert outcomes(admin, preset=last12)["won"] == (3, D("25.0"), D("30.0"), D("25.0"))
    # D8 spent its 30 days in Negotiation: won 10, 10, 30
    assert stages(admin, preset=last12)[2][1] == (3, D("10.0"), D("30.0"))
    months = cycle_by_month(user=admin, filters=filters(preset=last12))
    by_month = {m.strftime("%Y-%m"): d for m, d in months}
    names = list(by_month)
    assert (names[0], names[-1], len(names)) == ("2025-07", "2026-06", 12)
    december = by_month["2025-12"]
    assert (december["won"].deals, december["won"].median) == (1, D("30.0"))


def test_a_rep_counts_only_their_own(history, rep, outsider):
    # rep: D1 won 25; D2 lost 20, D5 lost 5 (median = 1st of 2 = 5, p75 = 2nd = 20)
    assert outcomes(rep) == {
        "won": (1, D("25.0"), D("25.0"), D("25.0")),
        "lost": (2, D("5.0"), D("20.0"), D("12.5")),
    }
    assert stages(rep) == [
        ("Demo / meeting", (1, D("5.0"), D("5.0")), (1, D("5.0"), D("5.0"))),
        ("Proposal", (1, D("10.0"), D("10.0")), (1, D("20.0"), D("20.0"))),
        ("Negotiation / commitment", (1, D("10.0"), D("10.0")), (0, None, None)),
    ]
    # the outsider's only deal (D7) is still open
    assert outcomes(outsider) == {"won": (0, None, None, None), "lost": (0, None, None, None)}


def test_the_manager_sees_the_team(history, manager):
    # D1–D6 and D8: this year the same closed deals as the admin (D7 is open anyway)
    assert outcomes(manager)["lost"] == (3, D("20.0"), D("30.0"), D("18.3"))


def test_filters_by_source_and_owner(history, admin, teammate):
    # Referral and teammate are both D3 (lost 30) and D4 (won 20)
    expected = {
        "won": (1, D("20.0"), D("20.0"), D("20.0")),
        "lost": (1, D("30.0"), D("30.0"), D("30.0")),
    }
    assert outcomes(admin, source_id=history.referral.pk) == expected
    assert outcomes(admin, owner_id=teammate.pk) == expected
    assert stages(admin, source_id=history.referral.pk)[0] == (
        "Demo / meeting",
        (0, None, None),
        (1, D("10.0"), D("10.0")),
    )


def test_the_report_takes_a_fixed_number_of_queries(history, admin, django_assert_max_num_queries):
    from django.db import connection

    this_year = filters()
    # cycles, stages, stays, months: none per deal; SQLite asks once per month of the period
    # (2026 has 12) instead of truncating a date on every row; whole months read from the rollup
    # cells take fewer
    months = 1 if connection.vendor == "postgresql" else 12
    with django_assert_max_num_queries(3 + months):
        cycle_report(user=admin, filters=this_year)


def test_the_tables_hold_the_figures(history, admin):
    tables = report_build("cycle", user=admin, filters=filters()).tables
    assert tables["cycle"].rows == [
        ["Won", 2, D("20.0"), D("25.0"), D("22.5")],
        ["Lost", 3, D("20.0"), D("30.0"), D("18.3")],
    ]
    assert tables["stages"].rows[0] == [
        "Demo / meeting (optional)",
        1,
        D("5.0"),
        D("5.0"),
        2,
        D("5.0"),
        D("10.0"),
    ]
    assert tables["months"].rows[1] == ["2026-02", 1, D("25.0"), 1, D("20.0")]


def test_the_page_draws_charts_and_tables_and_exports_csv(history, admin_client_):
    response = admin_client_.get("/analytics/cycle/", {"period": "this_year"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<svg") == 3
    for key in ("cycle", "stages", "months"):
        assert f'data-table="{key}"' in body
    assert "nearest-rank method" in body
    export = admin_client_.get("/analytics/cycle/", {"period": "this_year", "export": "cycle"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines == [
        "Outcome,Deals,Median days,75th percentile days,Average days",
        "Won,2,20.0,25.0,22.5",
        "Lost,3,20.0,30.0,18.3",
    ]


def test_a_rep_exports_only_their_own(history, rep_client):
    export = rep_client.get("/analytics/cycle/", {"period": "this_year", "export": "stages"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines == [
        "Stage,Won deals in it,Won median days,Won p75 days,"
        "Lost deals in it,Lost median days,Lost p75 days",
        "Demo / meeting (optional),1,5.0,5.0,1,5.0,5.0",
        "Proposal,1,10.0,10.0,1,20.0,20.0",
        "Negotiation / commitment,1,10.0,10.0,0,,",
    ]


def test_a_page_without_closed_deals_still_draws(history, outsider_client):
    response = outsider_client.get("/analytics/cycle/", {"period": "this_year"})
    assert response.status_code == 200
    export = outsider_client.get("/analytics/cycle/", {"period": "this_year", "export": "cycle"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[1:] == ["Won,0,,,", "Lost,0,,,"]  # D7, the outsider's only deal, is open
