"""The forecast report against the hand-computed history in conftest.

Open on 2026-06-15: D6 (rep, Proposal 50 %, 12000, expected 2026-07-15) and D7 (outsider,
Proposal, 7000, expected 2026-06-30). Closed in the last 12 months, by who sees them: admin D1,
D2, D3, D4, D5, D8 (6); rep D1, D2, D5, D8 (4); outsider none. Reached Proposal (or later, or
won) among the admin's: D1, D2, D3, D4, D8, won D1, D4, D8 → 3 of 5; the rep's: D1, D2, D8,
won D1, D8 → 2 of 3. Demo (optional, only deals that were in it): admin D1, D3, D5 → 1 of 3.
Negotiation: admin D1, D3, D4, D8 → 3 of 4.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.reports.forecast import forecast_build, forecast_notes, forecast_window
from closeloop.pipeline import services
from tests.analytics.conftest import DEMO, PROPOSAL, _deal, on
from tests.factories import lost_reason

pytestmark = pytest.mark.usefixtures("today")

TODAY = dt.date(2026, 6, 15)
D = Decimal


def filters(**kw: Any) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.LAST_12_MONTHS)
    custom = {k: kw.pop(k) for k in ("first", "last") if k in kw}
    return ReportFilters(
        pipeline_id=default_pipeline_id(), period=period_of(preset, **custom), **kw
    )


def month_rows(forecast) -> list[tuple]:
    return [(b.label, b.deals, b.value, b.by_probability, b.by_chance) for b in forecast.months]


def chances(forecast) -> list[tuple]:
    return [(c.stage.name, c.stage.probability, c.rate.k, c.rate.n) for c in forecast.chances]


EMPTY = D("0")


def test_the_admin_sees_both_open_deals_in_the_next_six_months(history, admin):
    forecast = forecast_build(user=admin, filters=filters())
    assert forecast.window.default
    assert (forecast.window.first, forecast.window.last) == (TODAY, dt.date(2026, 11, 30))
    assert month_rows(forecast) == [
        ("Overdue", 0, EMPTY, EMPTY, EMPTY),
        ("2026-06", 1, D("7000"), D("3500"), D("4200")),  # D7: 50 %; 3 of 5 won
        ("2026-07", 1, D("12000"), D("6000"), D("7200")),  # D6
        ("2026-08", 0, EMPTY, EMPTY, EMPTY),
        ("2026-09", 0, EMPTY, EMPTY, EMPTY),
        ("2026-10", 0, EMPTY, EMPTY, EMPTY),
        ("2026-11", 0, EMPTY, EMPTY, EMPTY),
        ("No date", 0, EMPTY, EMPTY, EMPTY),
    ]
    total = forecast.total
    assert (total.deals, total.value, total.by_probability, total.by_chance) == (
        2,
        D("19000"),
        D("9500"),
        D("11400"),
    )
    assert forecast.closed == 6 and not forecast.empirical
    assert forecast.used(total) == D("9500")
    assert chances(forecast) == [
        ("Demo / meeting", 20, 1, 3),
        ("Proposal", 50, 3, 5),
        ("Negotiation / commitment", 80, 3, 4),
    ]
    proposal = forecast.stages[forecast.chances[1].stage.pk]
    assert (proposal.deals, proposal.value, proposal.by_probability) == (2, D("19000"), D("9500"))


def test_fewer_than_30_closed_deals_use_the_stage_probabilities_and_say_why(history, admin):
    notes = forecast_notes(forecast_build(user=admin, filters=filters()))
    assert notes[0].startswith("Weighted value uses the stages' win probabilities: only 6 deals")
    assert "needs at least 30" in notes[0]
    assert "1 Jun 2026 – 30 Nov 2026" not in notes[1]  # the window starts today
    assert "15 Jun 2026 – 30 Nov 2026 (the next six months" in notes[1]


def test_a_rep_sees_only_their_open_deal_and_chances_from_their_closed_deals(history, rep):
    forecast = forecast_build(user=rep, filters=filters())
    assert [r for r in month_rows(forecast) if r[1]] == [
        ("2026-07", 1, D("12000"), D("6000"), D("8000")),  # 12000 × 2 / 3
    ]
    assert forecast.closed == 4
    assert chances(forecast) == [
        ("Demo / meeting", 20, 1, 2),  # D1 won, D5 lost
        ("Proposal", 50, 2, 3),
        ("Negotiation / commitment", 80, 2, 2),
    ]


def test_the_outsider_sees_d7_and_no_history(history, outsider):
    forecast = forecast_build(user=outsider, filters=filters())
    assert [r for r in month_rows(forecast) if r[1]] == [
        ("2026-06", 1, D("7000"), D("3500"), D("3500")),  # no closed deal: the probability
    ]
    assert forecast.closed == 0
    assert chances(forecast)[1] == ("Proposal", 50, 0, 0)


def test_the_period_picks_the_close_months(history, admin):
    this_month = forecast_build(user=admin, filters=filters(preset=PeriodPreset.THIS_MONTH))
    assert [r[:2] for r in month_rows(this_month)] == [
        ("Overdue", 0),
        ("2026-06", 1),
        ("No date", 0),
    ]
    assert this_month.total.deals == 1  # D6 closes in July, outside the period
    year = forecast_build(user=admin, filters=filters(preset=PeriodPreset.THIS_YEAR))
    assert [r[0] for r in month_rows(year)][1:-1] == [f"2026-{m:02}" for m in range(6, 13)]
    # a period that is over shows the next six months, like the default
    last_quarter = forecast_window(period_of(PeriodPreset.LAST_QUARTER, TODAY), TODAY)
    assert (last_quarter.first, last_quarter.last, last_quarter.default) == (
        TODAY,
        dt.date(2026, 11, 30),
        True,
    )
    every = forecast_build(user=admin, filters=filters(preset=PeriodPreset.ALL))
    assert [r[:2] for r in month_rows(every)] == [
        ("Overdue", 0),
        ("2026-06", 1),
        ("2026-07", 1),
        ("No date", 0),
    ]


def test_overdue_no_date_and_other_currencies(history, admin, rep):
    with on("2026-06-01"):
        _deal(
            admin,
            "Late",
            PROPOSAL,
            owner=rep,
            value=1000,
            currency="EUR",
            expected_close_date=dt.date(2026, 3, 31),
        )
        _deal(admin, "Undated", DEMO, owner=rep, value=2000, currency="EUR")
        _deal(
            admin,
            "Dollars",
            PROPOSAL,
            owner=rep,
            value=5000,
            currency="USD",
            expected_close_date=dt.date(2026, 7, 1),
        )
        _deal(
            admin,
            "Far",
            PROPOSAL,
            owner=rep,
            value=9000,
            currency="EUR",
            expected_close_date=dt.date(2027, 1, 5),
        )
    forecast = forecast_build(user=rep, filters=filters())
    assert [r for r in month_rows(forecast) if r[1]] == [
        ("Overdue", 1, D("1000"), D("500"), D("666.67")),  # rep's Proposal chance 2 of 3
        ("2026-07", 2, D("12000"), D("6000"), D("8000")),  # the USD deal counted, not summed
        ("No date", 1, D("2000"), D("400"), D("1000")),  # Demo 20 %; rep's chance 1 of 2
    ]
    assert forecast.other_currency == 1
    assert "1 open deal(s) in other currencies" in forecast_notes(forecast)[2]
    every = forecast_build(user=rep, filters=filters(preset=PeriodPreset.ALL))
    assert [r[0] for r in month_rows(every)][1:-1] == [  # every month up to the latest deal
        "2026-06",
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
        "2027-01",
    ]
    assert month_rows(every)[-2] == ("2027-01", 1, D("9000"), D("4500"), D("6000"))


def test_filters_narrow_the_open_deals_but_not_the_win_chances(history, admin):
    forecast = forecast_build(user=admin, filters=filters(campaign_id=history.spring.pk))
    assert forecast.total.deals == 1  # D6
    assert forecast.closed == 6  # the chances still come from the whole pipeline


@pytest.fixture
def closed_by_rep(admin, rep) -> Any:
    """Closed deals of rep in April 2026 (opened 04-10, closed 04-20), to reach 30."""

    def make(*, won: int, lost: int, demo_lost: int, old: int = 0) -> None:
        price, budget = lost_reason("Price"), lost_reason("No budget")
        deals = []
        with on("2026-04-10"):
            for i in range(won + lost):
                deals.append(_deal(admin, f"P{i}", PROPOSAL, owner=rep, value=1000, currency="EUR"))
            demos = [
                _deal(admin, f"M{i}", DEMO, owner=rep, value=1000, currency="EUR")
                for i in range(demo_lost)
            ]
        with on("2026-04-20"):
            for deal in deals[:won]:
                services.deal_mark_won(actor=admin, deal=deal)
            for deal in deals[won:]:
                services.deal_mark_lost(actor=admin, deal=deal, reason=price)
            for deal in demos:
                services.deal_mark_lost(actor=admin, deal=deal, reason=budget)
        # won more than 12 months ago: outside the history the chances come from
        for i in range(old):
            with on("2025-05-01"):
                deal = _deal(admin, f"Old{i}", PROPOSAL, owner=rep, value=1000, currency="EUR")
            with on("2025-06-20"):
                services.deal_mark_won(actor=admin, deal=deal)

    return make


def test_30_closed_deals_switch_to_the_win_chance_from_history(history, rep, closed_by_rep):
    # rep: D1, D2, D5, D8 + 22 at Proposal (13 won) + 4 lost at Demo = 30 closed
    closed_by_rep(won=13, lost=9, demo_lost=4)
    forecast = forecast_build(user=rep, filters=filters())
    assert forecast.closed == 30 and forecast.empirical
    assert chances(forecast) == [
        ("Demo / meeting", 20, 1, 6),  # D1, D5 and the four lost at Demo
        ("Proposal", 50, 15, 25),  # D1, D2, D8 and the 22; won D1, D8 and 13
        ("Negotiation / commitment", 80, 15, 15),  # every won deal passed it
    ]
    assert forecast.used(forecast.total) == D("7200")  # D6: 12000 × 15 / 25
    notes = forecast_notes(forecast)
    assert notes[0].startswith("Weighted value uses the win chance from history: 30 deals")


def test_29_closed_deals_in_the_last_12_months_are_not_enough(history, rep, closed_by_rep):
    closed_by_rep(won=13, lost=8, demo_lost=4, old=1)  # the old one does not count
    forecast = forecast_build(user=rep, filters=filters())
    assert forecast.closed == 29 and not forecast.empirical
    assert forecast.used(forecast.total) == D("6000")


def test_the_page_states_the_weighting_and_exports_both_tables(history, admin_client_, rep_client):
    response = admin_client_.get("/analytics/forecast/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and 'data-table="months"' in body and 'data-table="stages"' in body
    assert "Weighted value uses the stages&#x27; win probabilities: only 6 deals" in body
    export = admin_client_.get("/analytics/forecast/", {"export": "months"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Expected close,Deals,Value (EUR),Weighted by stage probability (EUR),"
        "Weighted by win chance (EUR)"
    )
    assert lines[2] == "2026-06,1,7000.00,3500.00,4200.00"
    assert lines[-1] == "Total,2,19000.00,9500.00,11400.00"
    stages = rep_client.get("/analytics/forecast/", {"export": "stages"})
    lines = b"".join(stages.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Stage,Deals,Value (EUR),Probability %,Win chance %,Won,Closed,Weighted (EUR)"
    )
    assert lines[1:] == [
        "Demo / meeting,0,0.00,20,50.0,1,2,0.00",
        "Proposal,1,12000.00,50,66.7,2,3,6000.00",
        "Negotiation / commitment,0,0.00,80,100.0,2,2,0.00",
    ]


def test_the_forecast_takes_a_fixed_number_of_queries(
    history, rep, closed_by_rep, django_assert_max_num_queries
):
    closed_by_rep(won=13, lost=9, demo_lost=4)  # more deals, no more queries
    f = filters()
    # stages, chances, open deals, and the workspace settings for the base currency and for the
    # rep's visibility (read by each report_facts call)
    with django_assert_max_num_queries(6):
        forecast_build(user=rep, filters=f)
