"""The win-rates report against the hand-computed history in conftest.

Closed this year (2026): D1 won, D2 lost, D3 lost, D4 won, D5 lost; D8 was won in 2025-12.
Wilson 95 % intervals, worked by hand with z = 1.96 (centre ± half, both over 1 + z²/n):
2/5 → 11.8–76.9, 1/3 → 6.1–79.2, 1/2 → 9.5–90.5, 0/1 → 0.0–79.3, 1/1 → 20.7–100.0,
0/2 → 0.0–65.8, 3/6 → 18.8–81.2, 1/4 → 4.6–69.9.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.reports.winrates import (
    SIZE_BAND_EDGES,
    band_label,
    winrates_report,
)
from closeloop.pipeline import services
from tests.analytics.conftest import on
from tests.factories import lost_reason, stage_named

pytestmark = pytest.mark.usefixtures("today")

SMALL = "small sample"


def filters(**kw: Any) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.THIS_YEAR)
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset), **kw)


def tables(user: Any, **kw: Any) -> dict[str, list[list[Any]]]:
    result = winrates_report(user=user, filters=filters(**kw))
    return {key: table.rows for key, table in result.tables.items()}


def row(label: str, won: int, closed: int, rate: str, low: str, high: str) -> list[Any]:
    return [label, closed, won, closed - won, D(rate), D(low), D(high), SMALL]


def test_the_overall_win_rate_of_this_year_is_on_top(history, admin):
    result = winrates_report(user=admin, filters=filters())
    assert result.notes[0] == (
        "Overall win rate: 40.0 % — 2 won of 5 deals closed (95 % interval 11.8 %–76.9 %)."
    )


def test_win_rates_by_owner_source_and_campaign(history, admin):
    t = tables(admin)
    assert t["owner"] == [
        row("Rita Rep", 1, 3, "33.3", "6.1", "79.2"),  # D1 won; D2, D5 lost
        row("Tom Teammate", 1, 2, "50.0", "9.5", "90.5"),  # D4 won; D3 lost
    ]
    assert t["source"] == [
        row("Referral", 1, 2, "50.0", "9.5", "90.5"),  # ties on closed: by name
        row("Website", 1, 2, "50.0", "9.5", "90.5"),
        row("(no source)", 0, 1, "0.0", "0.0", "79.3"),  # D5
    ]
    assert t["campaign"] == [
        row("(no campaign)", 1, 4, "25.0", "4.6", "69.9"),  # D1, D2, D3, D5
        row("Spring fair", 1, 1, "100.0", "20.7", "100.0"),  # D4
    ]


def test_products_and_templates_count_deals_through_their_proposals(history, admin):
    t = tables(admin)
    # Oven on D1 (won) and D2 (lost); Cake stand on D4 (won); only D1, D2 used Standard
    assert t["product"] == [
        row("Oven", 1, 2, "50.0", "9.5", "90.5"),
        row("Cake stand", 1, 1, "100.0", "20.7", "100.0"),
    ]
    assert t["template"] == [row("Standard", 1, 2, "50.0", "9.5", "90.5")]


def test_a_deal_with_two_products_counts_in_both_and_a_repeated_line_once(history, admin):
    from closeloop.proposals.models import LineItem, Proposal

    proposal = Proposal.objects.get(deal=history.deals["D1"])
    for product in (history.stand, history.oven):  # D1 now has Oven twice and a Cake stand
        LineItem.objects.create(
            proposal=proposal, product=product, name=product.name, unit_price=1, position=1
        )
    # a second proposal from the same template counts D2 once under Standard
    Proposal.objects.create(
        deal=history.deals["D2"], title="Again", currency="EUR", template=history.standard
    )
    t = tables(admin)
    assert t["product"] == [
        row("Cake stand", 2, 2, "100.0", "34.2", "100.0"),  # D1, D4: 2 of 2
        row("Oven", 1, 2, "50.0", "9.5", "90.5"),
    ]
    assert t["template"] == [row("Standard", 1, 2, "50.0", "9.5", "90.5")]


def test_size_bands_of_the_history(history, admin):
    # D1 10,000 won, D3 20,000 lost; D2 5,000 lost, D4 8,000 won; D5 3,000 lost
    assert tables(admin)["size"] == [
        row("5,000–9,999", 1, 2, "50.0", "9.5", "90.5"),
        row("10,000–49,999", 1, 2, "50.0", "9.5", "90.5"),
        row("1,000–4,999", 0, 1, "0.0", "0.0", "79.3"),
    ]


@pytest.fixture
def edge_deals(history, admin) -> None:
    """Five more deals of the admin, no source or campaign, closed on 2026-05-05: EUR 500 won,
    EUR 700 lost, EUR 1,000 lost (a band's lower edge), EUR 50,000 lost (the top band's edge)
    and USD 2,000 won."""
    with on("2026-05-05"):
        for title, value, currency, won in [
            ("E1", 500, "EUR", True),
            ("E2", 1000, "EUR", False),
            ("E3", 50000, "EUR", False),
            ("E4", 2000, "USD", True),
            ("E5", 700, "EUR", False),
        ]:
            deal = services.deal_create(
                actor=admin,
                title=title,
                stage=stage_named("Proposal"),
                owner=admin,
                value=value,
                currency=currency,
            )
            if won:
                services.deal_mark_won(actor=admin, deal=deal)
            else:
                services.deal_mark_lost(actor=admin, deal=deal, reason=lost_reason("Price"))


def test_size_bands_at_their_edges_and_in_another_currency(edge_deals, admin):
    assert [band_label(i) for i in range(len(SIZE_BAND_EDGES))] == [
        "under 1,000",
        "1,000–4,999",
        "5,000–9,999",
        "10,000–49,999",
        "50,000 and more",
    ]
    assert tables(admin)["size"] == [
        row("under 1,000", 1, 2, "50.0", "9.5", "90.5"),  # E1 won, E5 lost
        row("1,000–4,999", 0, 2, "0.0", "0.0", "65.8"),  # D5, E2
        row("5,000–9,999", 1, 2, "50.0", "9.5", "90.5"),
        row("10,000–49,999", 1, 2, "50.0", "9.5", "90.5"),
        row("50,000 and more", 0, 1, "0.0", "0.0", "79.3"),  # E3
        row("other currency", 1, 1, "100.0", "20.7", "100.0"),  # E4 in USD
    ]
    # every deal counts in the win rate, whatever its currency: 4 of 10 won
    result = winrates_report(user=admin, filters=filters())
    assert result.notes[0] == (
        "Overall win rate: 40.0 % — 4 won of 10 deals closed (95 % interval 16.8 %–68.7 %)."
    )


def test_ten_closed_deals_are_no_longer_a_small_sample(edge_deals, admin):
    # this year "(no campaign)" has D1, D2, D3, D5, E1–E5: 9 deals; the last 12 months add D8
    no_campaign = tables(admin)["campaign"][0]
    assert no_campaign == ["(no campaign)", 9, 3, 6, D("33.3"), D("12.1"), D("64.6"), SMALL]
    t = tables(admin, preset=PeriodPreset.LAST_12_MONTHS)
    assert t["campaign"] == [
        # D1, D8, E1, E4 won of 10: 4/10
        ["(no campaign)", 10, 4, 6, D("40.0"), D("16.8"), D("68.7"), ""],
        row("Spring fair", 1, 1, "100.0", "20.7", "100.0"),
    ]


def test_last_12_months_take_in_the_imported_deal(history, admin):
    t = tables(admin, preset=PeriodPreset.LAST_12_MONTHS)
    # D8 (rep, Website, 4,000, won 2025-12-01) joins: rep 2/4, Website 2/3
    assert t["owner"][0] == row("Rita Rep", 2, 4, "50.0", "15.0", "85.0")
    assert t["source"][0] == row("Website", 2, 3, "66.7", "20.8", "93.9")
    assert t["size"][0] == row("1,000–4,999", 1, 2, "50.0", "9.5", "90.5")


def test_a_rep_counts_only_their_own_deals(history, rep):
    t = tables(rep)
    assert t["owner"] == [row("Rita Rep", 1, 3, "33.3", "6.1", "79.2")]
    assert t["source"] == [
        row("Website", 1, 2, "50.0", "9.5", "90.5"),
        row("(no source)", 0, 1, "0.0", "0.0", "79.3"),
    ]
    assert t["product"] == [row("Oven", 1, 2, "50.0", "9.5", "90.5")]
    result = winrates_report(user=rep, filters=filters())
    assert result.notes[0] == (
        "Overall win rate: 33.3 % — 1 won of 3 deals closed (95 % interval 6.1 %–79.2 %)."
    )


def test_the_manager_sees_the_team_and_the_outsider_nothing_closed(history, manager, outsider):
    assert [r[:3] for r in tables(manager)["owner"]] == [
        ["Rita Rep", 3, 1],
        ["Tom Teammate", 2, 1],
    ]
    result = winrates_report(user=outsider, filters=filters())
    assert result.notes[0].startswith("No deals were won or lost in this period")
    assert all(not table.rows for table in result.tables.values())
    assert all(section.chart.empty for section in result.sections)


def test_filters_narrow_every_section(history, admin):
    t = tables(admin, source_id=history.referral.pk)  # D3 lost, D4 won
    assert t["owner"] == [row("Tom Teammate", 1, 2, "50.0", "9.5", "90.5")]
    assert t["campaign"] == [  # on a tie, "(no campaign)" comes last
        row("Spring fair", 1, 1, "100.0", "20.7", "100.0"),
        row("(no campaign)", 0, 1, "0.0", "0.0", "79.3"),
    ]
    t = tables(admin, product_id=history.oven.pk)  # D1 won, D2 lost
    assert t["owner"] == [row("Rita Rep", 1, 2, "50.0", "9.5", "90.5")]
    assert t["template"] == [row("Standard", 1, 2, "50.0", "9.5", "90.5")]


def test_each_section_is_one_grouped_query(history, admin, django_assert_num_queries):
    f = filters()
    # the base currency (one read of the workspace settings, kept for a request) and one
    # grouped query per section, however many deals there are
    with django_assert_num_queries(1 + 6):
        winrates_report(user=admin, filters=f)


def test_the_page_draws_bars_with_whiskers_and_exports_csv(history, admin_client_):
    response = admin_client_.get("/analytics/win-rates/", {"period": "this_year"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Overall win rate: 40.0 %" in body
    for key in ("owner", "source", "campaign", "product", "template", "size"):
        assert f'data-table="{key}"' in body
    assert body.count('class="whisker"') == 2 + 3 + 2 + 2 + 1 + 3
    assert "small sample" in body and "(no campaign)" in body
    export = admin_client_.get("/analytics/win-rates/", {"period": "this_year", "export": "owner"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines == [
        "Owner,Deals closed,Won,Lost,Win rate %,95 % interval from %,to %,Sample",
        "Rita Rep,3,1,2,33.3,6.1,79.2,small sample",
        "Tom Teammate,2,1,1,50.0,9.5,90.5,small sample",
    ]


def test_the_page_lists_the_report_for_a_rep(history, rep_client):
    response = rep_client.get("/analytics/win-rates/", {"period": "this_year"})
    body = response.content.decode()
    assert "Overall win rate: 33.3 %" in body and "Tom Teammate" not in body
