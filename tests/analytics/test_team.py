"""The team effectiveness report against the hand-computed history in conftest, plus the
activities and targets below.

Activities (all at 09:00 UTC unless said; "counts for" is who gets it in the report):
  2025-12-10 note by rep                                  → rep (not in 2026)
  2025-12-20 call planned by rep for 2026-01-03, done then → rep (done in 2026)
  2026-02-02 note by rep on D1                            → rep
  2026-02-02 note by manager                              → manager
  2026-02-03 email by rep on D2                           → rep
  2026-03-01 call planned by rep for 03-05, done 03-05    → rep
  2026-03-10 meeting planned by rep for 03-20, cancelled  → nobody
  2026-04-01 demo planned by rep, owner teammate, done    → teammate (the owner)
  2026-05-11 note by outsider                             → outsider
  2026-06-01 task planned by rep for 06-20, still open    → nobody
  (completing and cancelling also write "change" entries → nobody)
In 2026: rep 4, teammate 1, outsider 1, manager 1. Last 12 months: rep 5.

Targets (set by admin): rep won value 2025-12 5000, 2026-01 8000, 2026-02 8000; rep 2026-03
deals won 2 and deals created 3; teammate won value 2026-02 10000; manager deals created 2026-04 1;
outsider won value 2026-05 5000.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from closeloop.activities import services as activities
from closeloop.activities.choices import ActivityKind
from closeloop.analytics.choices import PeriodPreset, TargetMetric
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.reports.team import activity_counts, team_figures
from closeloop.analytics.services import sales_target_set
from tests.analytics.conftest import on

pytestmark = pytest.mark.usefixtures("today")

D = Decimal


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


@pytest.fixture
def team_history(history, admin, manager, rep, teammate, outsider) -> Any:
    d = history.deals
    with on("2025-12-10"):
        activities.activity_create(actor=rep, body="Intro", deal=d["D8"])
    with on("2025-12-20"):
        early = activities.activity_schedule(
            actor=rep,
            kind=ActivityKind.CALL,
            subject="New year call",
            starts_at=at("2026-01-03"),
            deal=d["D8"],
        )
    with on("2026-01-03"):
        activities.activity_complete(actor=rep, activity=early)
    with on("2026-02-02"):
        activities.activity_create(actor=rep, body="Called back", deal=d["D1"])
        activities.activity_create(actor=manager, body="Coaching notes", deal=d["D1"])
    with on("2026-02-03"):
        activities.activity_create(
            actor=rep, kind=ActivityKind.EMAIL, body="Offer sent", deal=d["D2"]
        )
    with on("2026-03-01"):
        call = activities.activity_schedule(
            actor=rep,
            kind=ActivityKind.CALL,
            subject="Check-in",
            starts_at=at("2026-03-05"),
            deal=d["D1"],
        )
    with on("2026-03-05"):
        activities.activity_complete(actor=rep, activity=call)
    with on("2026-03-10"):
        meeting = activities.activity_schedule(
            actor=rep,
            kind=ActivityKind.MEETING,
            subject="Visit",
            deal=d["D2"],
            starts_at=at("2026-03-20"),
            send_invites=False,
        )
    with on("2026-03-12"):
        activities.activity_cancel(actor=rep, activity=meeting, send_invites=False)
    with on("2026-04-01"):
        demo = activities.activity_schedule(
            actor=rep,
            owner=teammate,
            kind=ActivityKind.DEMO,
            subject="Demo for D4's friend",
            deal=d["D4"],
            starts_at=at("2026-04-02"),
            send_invites=False,
        )
    with on("2026-04-02"):
        activities.activity_complete(actor=teammate, activity=demo)
    with on("2026-05-11"):
        activities.activity_create(actor=outsider, body="Lunch", deal=d["D7"])
    with on("2026-06-01"):
        activities.activity_schedule(
            actor=rep,
            kind=ActivityKind.TASK,
            subject="Follow up",
            starts_at=at("2026-06-20"),
            deal=d["D6"],
        )
    for who, month, metric, amount in [
        (rep, "2025-12", TargetMetric.WON_VALUE, 5000),
        (rep, "2026-01", TargetMetric.WON_VALUE, 8000),
        (rep, "2026-02", TargetMetric.WON_VALUE, 8000),
        (rep, "2026-03", TargetMetric.WON_DEALS, 2),
        (rep, "2026-03", TargetMetric.NEW_DEALS, 3),
        (teammate, "2026-02", TargetMetric.WON_VALUE, 10000),
        (manager, "2026-04", TargetMetric.NEW_DEALS, 1),
        (outsider, "2026-05", TargetMetric.WON_VALUE, 5000),
    ]:
        sales_target_set(
            actor=admin,
            user=who,
            month=dt.date.fromisoformat(f"{month}-01"),
            metric=metric,
            amount=amount,
        )
    return history


def filters(**kw: Any) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.THIS_YEAR)
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset), **kw)


def figures(row: Any, stages: list) -> list:
    return [
        row.name,
        row.created,
        row.activities,
        row.won,
        row.lost,
        row.won_value,
        row.rate.value,
        row.rate.interval,
        row.average_won_value,
        row.median_cycle,
        [row.conversion(s) for s in stages],
    ]


def test_the_admin_sees_every_rep_with_every_figure(team_history, admin):
    stages, rows, total = team_figures(user=admin, filters=filters())
    assert [s.name for s in stages] == ["Demo / meeting", "Proposal", "Negotiation / commitment"]
    # Wilson 95 %: 1 of 3 → 6.1–79.2 %, 1 of 2 → 9.5–90.5 %, 2 of 5 → 11.8–76.9 %
    assert [figures(r, stages) for r in [*rows, total]] == [
        ["Mia Manager", 0, 1, 0, 0, D(0), None, None, None, None, [None, None, None]],
        ["Otto Outsider", 1, 1, 0, 0, D(0), None, None, None, None, [D(100), D(0), None]],
        [
            "Rita Rep",
            4,  # D1, D2, D5, D6
            4,
            1,  # D1 won; D2, D5 lost
            2,
            D(10000),
            D("33.3"),
            (D("6.1"), D("79.2")),
            D("10000.00"),
            D("25.0"),
            # Demo: D1, D5 → D1 went on; Proposal: D1, D2, D6 → D1; Negotiation: D1 → won
            [D("50.0"), D("33.3"), D("100.0")],
        ],
        [
            "Tom Teammate",
            2,  # D3, D4
            1,
            1,
            1,
            D(8000),
            D("50.0"),
            (D("9.5"), D("90.5")),
            D("8000.00"),
            D("20.0"),
            # Demo: D3 → on; Proposal: D3, D4 → both on; Negotiation: D3 lost, D4 won
            [D("100.0"), D("100.0"), D("50.0")],
        ],
        [
            "Everyone shown",
            7,
            7,
            2,
            3,
            D(18000),
            D("40.0"),
            (D("11.8"), D("76.9")),
            D("9000.00"),
            D("20.0"),  # nearest rank of 20 and 25 days
            [D("75.0"), D("50.0"), D("66.7")],
        ],
    ]


def test_targets_are_summed_over_the_months_and_compared(team_history, admin):
    _, rows, total = team_figures(user=admin, filters=filters())
    table = {
        r.name: [(r.targets.get(m), r.actual(m), r.attainment(m)) for m in TargetMetric]
        for r in [*rows, total]
    }
    assert table == {
        "Mia Manager": [(None, D(0), None), (None, 0, None), (D(1), 0, D("0.0"))],
        "Otto Outsider": [(D(5000), 0, D("0.0")), (None, 0, None), (None, 1, None)],
        # 8000 + 8000 in 2026 (the 2025-12 target is outside this year)
        "Rita Rep": [(D(16000), 10000, D("62.5")), (D(2), 1, D("50.0")), (D(3), 4, D("133.3"))],
        "Tom Teammate": [(D(10000), 8000, D("80.0")), (None, 1, None), (None, 2, None)],
        "Everyone shown": [
            (D(31000), 18000, D("58.1")),
            (D(2), 2, D("100.0")),
            (D(4), 7, D("175.0")),
        ],
    }


def test_a_month_counts_its_target_and_the_actual_of_that_month(team_history, admin):
    february = ReportFilters(
        pipeline_id=default_pipeline_id(),
        period=period_of(PeriodPreset.CUSTOM, first=dt.date(2026, 2, 1), last=dt.date(2026, 2, 28)),
    )
    _, rows, _ = team_figures(user=admin, filters=february)
    # D3 opened by teammate; D1 won and D2 lost (rep); two rep activities, one of the manager
    # (the manager has no deal and no target in February, so no row)
    assert [(r.name, r.created, r.won, r.lost, r.activities) for r in rows] == [
        ("Rita Rep", 0, 1, 1, 2),
        ("Tom Teammate", 1, 0, 0, 0),
    ]
    # rep: 10000 won of 8000; teammate: nothing of 10000
    assert [r.attainment(TargetMetric.WON_VALUE) for r in rows] == [D("125.0"), D("0.0")]


def test_last_12_months_take_in_the_imported_deal_and_last_years_target(team_history, admin, rep):
    _, rows, _ = team_figures(user=admin, filters=filters(preset=PeriodPreset.LAST_12_MONTHS))
    r = next(r for r in rows if r.user_id == rep.pk)
    # D8 (imported: opened 2025-11-01, won 2025-12-01 after 30 days) joins D1, D2, D5, D6
    assert (r.created, r.won, r.lost, r.won_value, r.activities) == (5, 2, 2, D(14000), 5)
    assert (r.rate.value, r.average_won_value, r.median_cycle) == (
        D("50.0"),
        D("7000.00"),
        D("25.0"),
    )
    assert r.targets[TargetMetric.WON_VALUE] == D(21000)
    assert r.attainment(TargetMetric.WON_VALUE) == D("66.7")


def test_a_rep_sees_only_their_own_row_and_a_manager_their_team(
    team_history, rep, manager, outsider
):
    _, rows, total = team_figures(user=rep, filters=filters())
    assert [(r.name, r.created, r.activities) for r in rows] == [("Rita Rep", 4, 4)]
    assert total.targets == {TargetMetric.WON_VALUE: D(16000), **{
        TargetMetric.WON_DEALS: D(2), TargetMetric.NEW_DEALS: D(3)}}  # fmt: skip
    _, rows, _ = team_figures(user=manager, filters=filters())
    assert [r.name for r in rows] == ["Mia Manager", "Rita Rep", "Tom Teammate"]
    _, rows, _ = team_figures(user=outsider, filters=filters())
    assert [(r.name, r.created, r.activities) for r in rows] == [("Otto Outsider", 1, 1)]


def test_team_owner_and_source_filters(team_history, admin, teammate, team):
    _, rows, _ = team_figures(user=admin, filters=filters(team_id=team.pk))
    assert [r.name for r in rows] == ["Mia Manager", "Rita Rep", "Tom Teammate"]
    _, rows, _ = team_figures(user=admin, filters=filters(owner_id=teammate.pk))
    assert [r.name for r in rows] == ["Tom Teammate"]
    # Referral deals are teammate's; the others show only because of their targets
    _, rows, _ = team_figures(user=admin, filters=filters(source_id=team_history.referral.pk))
    assert [(r.name, r.created, r.won) for r in rows] == [
        ("Mia Manager", 0, 0),
        ("Otto Outsider", 0, 0),
        ("Rita Rep", 0, 0),
        ("Tom Teammate", 2, 1),
    ]


def test_activities_are_counted_in_one_grouped_query(
    team_history, rep, teammate, django_assert_num_queries
):
    with django_assert_num_queries(1):
        counts = activity_counts(user_ids=[rep.pk, teammate.pk], period=period_of("this_year"))
    assert counts == {rep.pk: 4, teammate.pk: 1}


def test_the_report_runs_a_fixed_number_of_queries(team_history, admin, django_assert_num_queries):
    f = filters()
    # stages, cohort, closed, median cycles per rep and of everyone, target holders,
    # activities, targets, names (+ the workspace settings for the base currency, read once
    # per request)
    with django_assert_num_queries(10):
        team_figures(user=admin, filters=f)


def test_other_currencies_are_counted_but_not_summed(team_history, admin, rep):
    from closeloop.pipeline import services
    from tests.factories import stage_named

    with on("2026-06-01"):
        deal = services.deal_create(
            actor=admin,
            title="Dollars",
            stage=stage_named("Proposal"),
            owner=rep,
            value=999,
            currency="USD",
        )
    with on("2026-06-02"):
        services.deal_mark_won(actor=admin, deal=deal)
    _, rows, _ = team_figures(user=admin, filters=filters())
    r = next(r for r in rows if r.user_id == rep.pk)
    assert (r.won, r.won_value, r.average_won_value) == (2, D(10000), D("10000.00"))
    page = team_report_notes(admin)
    assert page == [
        "1 won deal(s) in other currencies than EUR count as deals won but are not in the won "
        "value or the average."
    ]


def team_report_notes(user: Any) -> list[str]:
    from closeloop.analytics.reports.team import team_report

    return team_report(user=user, filters=filters()).notes


def test_the_page_draws_the_chart_and_both_tables_and_exports_csv(team_history, admin_client_):
    response = admin_client_.get("/analytics/team/", {"period": "this_year"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Won value against target" in body
    assert 'data-table="targets"' in body and 'data-table="reps"' in body
    export = admin_client_.get("/analytics/team/", {"period": "this_year", "export": "reps"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Rep,Deals created,Activities,Deals won,Deals lost,Won value (EUR),Win rate %,"
        "Win rate low %,Win rate high %,Average won value (EUR),"
        "Median cycle of won deals (days),Conversion at Demo / meeting (optional) %,"
        "Conversion at Proposal %,Conversion at Negotiation / commitment %"
    )
    assert lines[3] == "Rita Rep,4,4,1,2,10000.00,33.3,6.1,79.2,10000.00,25,50.0,33.3,100.0"
    assert lines[-1] == "Everyone shown,7,7,2,3,18000.00,40.0,11.8,76.9,9000.00,20,75.0,50.0,66.7"
    export = admin_client_.get("/analytics/team/", {"period": "this_year", "export": "targets"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Rep,Won value target,Won value,Won value attainment %,Deals won target,Deals won,"
        "Deals won attainment %,Deals created target,Deals created,Deals created attainment %"
    )
    assert lines[3] == "Rita Rep,16000.00,10000.00,62.5,2,1,50.0,3,4,133.3"


def test_a_rep_page_shows_only_their_row(team_history, rep_client):
    response = rep_client.get("/analytics/team/", {"period": "this_year", "export": "reps"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["Rita Rep", "Everyone shown"]
