"""The lost at stage × reason report against the hand-computed history in conftest.

This year three deals were lost: D2 at Proposal (Price, BigCRM, 5000, rep), D3 at Negotiation
(Price, 20000, teammate), D5 at Demo (No budget, 3000, rep). Closed this year: D1, D2, D3, D4,
D5 (D8 closed in 2025). Reached, among them: Demo (optional, so only deals in it) D1, D3, D5;
Proposal D1–D4; Negotiation D1, D3, D4.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.reports.lost import OTHER_REASONS, lost_report
from closeloop.analytics.stacked import count_top, stacked_hbar_chart
from closeloop.pipeline import services
from tests.analytics.conftest import DEMO, NEGOTIATION, PROPOSAL, on
from tests.factories import lost_reason, stage_named

pytestmark = pytest.mark.usefixtures("today")

D = Decimal


def filters(**kw) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.THIS_YEAR)
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset), **kw)


def tables(user, **kw):
    return {key: t.rows for key, t in lost_report(user=user, filters=filters(**kw)).tables.items()}


@pytest.fixture
def more_losses(history, admin, rep, teammate):
    """Five more deals lost in May 2026 (opened 2026-05-01), to group competitor spellings, leave
    a foreign-currency value out and fold the rarer reasons of the chart:

    X1 rep      Proposal    EUR 1000  Competitor    "bigcrm"
    X2 teammate Negotiation USD 9000  Price         "BIGCRM"
    X3 rep      Demo        EUR  500  Timing        "BigCRM"
    X4 teammate Proposal    EUR 2000  Poor fit      -
    X5 rep      Proposal    EUR  700  Unresponsive  "Acme"
    """
    plan = [
        ("X1", rep, PROPOSAL, "EUR", 1000, "Competitor", "bigcrm"),
        ("X2", teammate, NEGOTIATION, "USD", 9000, "Price", "BIGCRM"),
        ("X3", rep, DEMO, "EUR", 500, "Timing", "BigCRM"),
        ("X4", teammate, PROPOSAL, "EUR", 2000, "Poor fit", ""),
        ("X5", rep, PROPOSAL, "EUR", 700, "Unresponsive", "Acme"),
    ]
    for title, owner, stage, currency, value, reason, competitor in plan:
        with on("2026-05-01"):
            deal = services.deal_create(
                actor=admin,
                title=title,
                stage=stage_named(stage),
                owner=owner,
                value=value,
                currency=currency,
            )
        with on("2026-05-05"):
            services.deal_mark_lost(
                actor=admin, deal=deal, reason=lost_reason(reason), competitor=competitor
            )


def test_losses_at_each_stage_with_their_loss_rate(history, admin):
    result = lost_report(user=admin, filters=filters())
    assert result.notes == [
        "Values add up only the deals in EUR, the base currency; deals in other currencies are "
        "counted but their value is left out."
    ]
    assert [m.text for m in result.sections[0].chart.marks] == [
        "1 (33.3 %)",
        "1 (25.0 %)",
        "1 (33.3 %)",
    ]
    assert result.tables["stages"].rows == [
        ["Demo / meeting (optional)", 1, D("3000"), D("33.3"), 3, D("33.3")],
        ["Proposal", 1, D("5000"), D("33.3"), 4, D("25.0")],
        ["Negotiation / commitment", 1, D("20000"), D("33.3"), 3, D("33.3")],
        ["All stages", 3, D("28000"), D("100.0"), 5, D("60.0")],
    ]


def test_the_stage_by_reason_matrix(history, admin):
    result = lost_report(user=admin, filters=filters())
    table = result.tables["reasons"]
    assert table.headers == ["Stage", "Price", "No budget", "Lost deals", "Value (EUR)"]
    assert table.rows == [
        ["Demo / meeting", 0, 1, 1, D("3000")],
        ["Proposal", 1, 0, 1, D("5000")],
        ["Negotiation / commitment", 1, 0, 1, D("20000")],
        ["All stages", 2, 1, 3, D("28000")],
    ]
    chart = result.sections[1].chart
    assert chart.series == ["Price", "No budget"]
    # one segment per non-empty cell, the bar's total written on its last segment
    assert [(m.series, m.title, m.text) for m in chart.marks] == [
        (1, "Demo / meeting · No budget: 1", "1"),
        (0, "Proposal · Price: 1", "1"),
        (0, "Negotiation / commitment · Price: 1", "1"),
    ]


def test_the_losses_of_each_rep(history, admin):
    result = lost_report(user=admin, filters=filters())
    assert result.tables["reps"].headers == [
        "Rep",
        DEMO,
        PROPOSAL,
        NEGOTIATION,
        "Lost deals",
        "Value (EUR)",
    ]
    assert result.tables["reps"].rows == [
        ["Rita Rep", 1, 1, 0, 2, D("8000")],
        ["Tom Teammate", 0, 0, 1, 1, D("20000")],
        ["All reps", 1, 1, 1, 3, D("28000")],
    ]
    assert [m.title for m in result.sections[2].chart.marks] == [
        f"Rita Rep · {DEMO}: 1",
        f"Rita Rep · {PROPOSAL}: 1",
        f"Tom Teammate · {NEGOTIATION}: 1",
    ]


def test_competitors_we_lose_to(history, admin):
    # none named: D3 (Price, 20000) and D5 (No budget, 3000): a tie on deals, Price has more value
    assert tables(admin)["competitors"] == [
        ["BigCRM", 1, D("33.3"), D("5000"), "Price"],
        ["none named", 2, D("66.7"), D("23000"), "Price"],
    ]


def test_a_rep_counts_only_their_own_losses(history, rep):
    rows = tables(rep)
    # D2 and D5 lost; closed this year D1, D2, D5 (D1 reached every stage, D5 only Demo)
    assert rows["stages"] == [
        ["Demo / meeting (optional)", 1, D("3000"), D("50.0"), 2, D("50.0")],
        ["Proposal", 1, D("5000"), D("50.0"), 2, D("50.0")],
        ["Negotiation / commitment", 0, D("0"), D("0.0"), 1, D("0.0")],
        ["All stages", 2, D("8000"), D("100.0"), 3, D("66.7")],
    ]
    assert rows["reps"] == [
        ["Rita Rep", 1, 1, 0, 2, D("8000")],
        ["All reps", 1, 1, 0, 2, D("8000")],
    ]
    assert rows["competitors"] == [
        ["BigCRM", 1, D("50.0"), D("5000"), "Price"],
        ["none named", 1, D("50.0"), D("3000"), "No budget"],
    ]


def test_an_outsider_has_no_losses(history, outsider):
    rows = tables(outsider)
    assert rows["stages"][-1] == ["All stages", 0, D("0"), None, 0, None]
    assert rows["reps"] == [] and rows["competitors"] == []
    assert lost_report(user=outsider, filters=filters()).sections[1].chart.empty


def test_owner_and_source_filters(history, admin, teammate):
    by_owner = tables(admin, owner_id=teammate.pk)
    # teammate closed D3 (lost at Negotiation) and D4 (won) this year; both reached Proposal
    assert by_owner["stages"] == [
        ["Demo / meeting (optional)", 0, D("0"), D("0.0"), 1, D("0.0")],
        ["Proposal", 0, D("0"), D("0.0"), 2, D("0.0")],
        ["Negotiation / commitment", 1, D("20000"), D("100.0"), 2, D("50.0")],
        ["All stages", 1, D("20000"), D("100.0"), 2, D("50.0")],
    ]
    by_source = tables(admin, source_id=history.website.pk)
    # Website: D1 won, D2 lost at Proposal to BigCRM
    assert by_source["stages"][-1] == ["All stages", 1, D("5000"), D("100.0"), 2, D("50.0")]
    assert by_source["competitors"] == [["BigCRM", 1, D("100.0"), D("5000"), "Price"]]


def test_last_12_months_count_the_imported_win_among_closed_deals(history, admin):
    # D8, imported as won on 2025-12-01, closes in the period: six closed deals, three lost
    assert tables(admin, preset=PeriodPreset.LAST_12_MONTHS)["stages"][-1] == [
        "All stages",
        3,
        D("28000"),
        D("100.0"),
        6,
        D("50.0"),
    ]


def test_spellings_currencies_and_many_reasons(history, more_losses, admin):
    result = lost_report(user=admin, filters=filters())
    t = {key: table.rows for key, table in result.tables.items()}
    # closed this year: D1–D5 and X1–X5; Proposal is reached by X2 too (created at Negotiation)
    assert t["stages"] == [
        ["Demo / meeting (optional)", 2, D("3500"), D("25.0"), 4, D("50.0")],
        ["Proposal", 4, D("8700"), D("50.0"), 8, D("50.0")],
        ["Negotiation / commitment", 2, D("20000"), D("25.0"), 4, D("50.0")],
        ["All stages", 8, D("32200"), D("100.0"), 10, D("80.0")],
    ]
    # most frequent reason first, ties in the order of the reason list
    assert result.tables["reasons"].headers[1:-2] == [
        "Price",
        "Competitor",
        "No budget",
        "Unresponsive",
        "Poor fit",
        "Timing",
    ]
    assert t["reasons"] == [
        ["Demo / meeting", 0, 0, 1, 0, 0, 1, 2, D("3500")],
        ["Proposal", 1, 1, 0, 1, 1, 0, 4, D("8700")],
        ["Negotiation / commitment", 2, 0, 0, 0, 0, 0, 2, D("20000")],
        ["All stages", 3, 1, 1, 1, 1, 1, 8, D("32200")],
    ]
    chart = result.sections[1].chart
    assert chart.series == ["Price", "Competitor", "No budget", "Unresponsive", OTHER_REASONS]
    assert [(m.series, m.title, m.text) for m in chart.marks[:2]] == [
        (2, "Demo / meeting · No budget: 1", ""),
        (4, f"Demo / meeting · {OTHER_REASONS}: 1", "2"),
    ]
    assert t["reps"] == [
        ["Rita Rep", 2, 3, 0, 5, D("10200")],
        ["Tom Teammate", 0, 1, 2, 3, D("22000")],
        ["All reps", 2, 4, 2, 8, D("32200")],
    ]
    # "BigCRM", "bigcrm" and "BIGCRM" are one competitor, named by its most used spelling; X2's
    # USD value is left out of the EUR sums
    assert t["competitors"] == [
        ["BigCRM", 4, D("50.0"), D("6500"), "Price"],
        ["Acme", 1, D("12.5"), D("700"), "Unresponsive"],
        ["none named", 3, D("37.5"), D("25000"), "Price"],
    ]
    assert result.notes[0].endswith("value is left out (1 such lost deal(s) here).")


def test_the_query_count_does_not_grow_with_the_deals(
    history, admin, django_assert_max_num_queries
):
    # stages, settings, reached, stage × reason, rep × stage, reasons, users, competitors
    f = filters()
    with django_assert_max_num_queries(8):
        lost_report(user=admin, filters=f)


def test_the_stacked_chart_adds_the_segments_up():
    chart = stacked_hbar_chart("t", [("a", [2, 0, 1]), ("b", [0, 0, 0]), ("c", [6, 0, 0])], "xyz")
    a0, a2, c0 = chart.marks
    # the axis ends at 8 (four steps of 2); segments follow one another
    plot = 720 - 190 - 70
    assert (a0.x, a2.x) == (190, a0.end_x)
    assert (a0.w, a2.w, c0.w) == (plot * 2 / 8, plot / 8, plot * 6 / 8)
    assert [m.text for m in chart.marks] == ["", "3", "6"]
    assert [label.text for label in chart.labels] == ["a", "b", "c"]
    assert [text for _, text in chart.grid] == ["0", "2", "4", "6", "8"]


def test_count_axes_end_on_round_steps():
    largest = (0, 1, 3, 4, 5, 9, 10, 33, 1234)
    assert [count_top(n) for n in largest] == [4, 4, 4, 4, 8, 12, 12, 40, 1600]


def test_the_page_draws_every_section_and_exports_each_table(history, admin_client_):
    response = admin_client_.get("/analytics/lost/", {"period": "this_year"})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-chart="hbar"') == 4
    for key in ("stages", "reasons", "reps", "competitors"):
        assert f'data-table="{key}"' in body
    assert "<title>Demo / meeting · No budget: 1</title>" in body
    expected = {
        "stages": [
            "Stage,Lost deals,Value (EUR),Share of losses %,Reached it,Loss rate %",
            "Demo / meeting (optional),1,3000.00,33.3,3,33.3",
            "Proposal,1,5000.00,33.3,4,25.0",
            "Negotiation / commitment,1,20000.00,33.3,3,33.3",
            "All stages,3,28000.00,100.0,5,60.0",
        ],
        "reasons": [
            "Stage,Price,No budget,Lost deals,Value (EUR)",
            "Demo / meeting,0,1,1,3000.00",
            "Proposal,1,0,1,5000.00",
            "Negotiation / commitment,1,0,1,20000.00",
            "All stages,2,1,3,28000.00",
        ],
        "reps": [
            "Rep,Demo / meeting,Proposal,Negotiation / commitment,Lost deals,Value (EUR)",
            "Rita Rep,1,1,0,2,8000.00",
            "Tom Teammate,0,0,1,1,20000.00",
            "All reps,1,1,1,3,28000.00",
        ],
        "competitors": [
            "Competitor,Lost deals,Share of losses %,Value (EUR),Top reason",
            "BigCRM,1,33.3,5000.00,Price",
            "none named,2,66.7,23000.00,Price",
        ],
    }
    for key, lines in expected.items():
        export = admin_client_.get("/analytics/lost/", {"period": "this_year", "export": key})
        assert b"".join(export.streaming_content).decode("utf-8-sig").splitlines() == lines


def test_a_rep_page_shows_only_their_deals(history, rep_client):
    export = rep_client.get("/analytics/lost/", {"period": "this_year", "export": "reps"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[1:] == ["Rita Rep,1,1,0,2,8000.00", "All reps,1,1,0,2,8000.00"]
