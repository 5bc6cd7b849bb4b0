"""The manager dashboard and the rep's "My figures" on the home page, against the history in
conftest plus the activities below.

Activities logged (`notes` fixture; "change" entries are automatic and never count):
rep on D1 2026-01-12 (note), rep on D2 2026-02-01 (call), teammate on D3 2026-02-02 (note),
outsider on D7 2026-05-12 (note), rep on their lead of 2026-04-05 2026-06-10 (call),
rep on D8 2025-11-05 (note), rep on D1 2026-03-01 (change: not counted).

This year (2026) against 2025, as the admin sees it: opened D1–D7 = 7 against D8 = 1; won D1,
D4 = 2 (10 000 + 8 000 = 18 000 EUR) against D8 (4 000); lost D2, D3, D5, so the win rate is
2 / 5 = 40.0 % against 1 / 1 = 100.0 %; average cycle of the won (25 + 20) / 2 = 22.5 days
against 30.0; activities 5 against 1. Open today: D6 12 000 and D7 7 000 = 19 000, both in
Proposal (50 %): weighted 9 500.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.figures import key_figures, my_figures, rep_rows
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.leads.models import Lead
from closeloop.pipeline import services
from tests.factories import DealFactory, lost_reason

pytestmark = pytest.mark.usefixtures("today")


def filters(**kw: Any) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.THIS_YEAR)
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset), **kw)


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T10:00:00+00:00")


@pytest.fixture
def notes(history: Any, rep: Any, teammate: Any, outsider: Any) -> None:
    d = history.deals
    lead = Lead.objects.get(last_name="2026-04-05")
    for actor, deal, kind, day in [
        (rep, d["D1"], ActivityKind.NOTE, "2026-01-12"),
        (rep, d["D2"], ActivityKind.CALL, "2026-02-01"),
        (teammate, d["D3"], ActivityKind.NOTE, "2026-02-02"),
        (outsider, d["D7"], ActivityKind.NOTE, "2026-05-12"),
        (rep, d["D8"], ActivityKind.NOTE, "2025-11-05"),
        (rep, d["D1"], ActivityKind.CHANGE, "2026-03-01"),
    ]:
        Activity.objects.create(
            kind=kind, subject="Talked", actor=actor, owner=actor, deal=deal, created_at=at(day)
        )
    Activity.objects.create(
        kind=ActivityKind.CALL, subject="Called", actor=rep, owner=rep, lead=lead,
        created_at=at("2026-06-10"),
    )  # fmt: skip


def table(figures: list[Any]) -> dict[str, tuple[Any, Any]]:
    return {f.key: (f.value, f.previous) for f in figures}


def test_the_admins_key_figures_for_this_year_against_last_year(notes, admin):
    figures = key_figures(user=admin, filters=filters())
    assert table(figures) == {
        "opened": (7, 1),
        "won": (2, 1),
        "won_value": (Decimal("18000.00"), Decimal("4000.00")),
        "win_rate": (Decimal("40.0"), Decimal("100.0")),
        "cycle": (Decimal("22.5"), Decimal("30.0")),
        "activities": (5, 1),
        "open_value": (Decimal("19000.00"), None),
        "weighted_value": (Decimal("9500.00"), None),
    }
    assert [f.trend for f in figures] == ["up", "up", "up", "down", "down", "up", "", ""]
    assert figures[6].note == "2 open deals today."
    query = filters().query()
    assert {f.key: f.url for f in figures} == {
        "opened": f"/analytics/funnel/?{query}",
        "won": f"/analytics/win-rates/?{query}",
        "won_value": f"/analytics/team/?{query}",
        "win_rate": f"/analytics/win-rates/?{query}",
        "cycle": f"/analytics/cycle/?{query}",
        "activities": f"/analytics/team/?{query}",
        "open_value": f"/analytics/forecast/?{query}",
        "weighted_value": f"/analytics/forecast/?{query}",
    }


def test_all_time_has_nothing_to_compare_with(notes, admin):
    figures = key_figures(user=admin, filters=filters(preset=PeriodPreset.ALL))
    assert table(figures)["opened"] == (8, None)
    assert table(figures)["won_value"] == (Decimal("22000.00"), None)
    assert table(figures)["win_rate"] == (Decimal("50.0"), None)  # 3 won, 3 lost
    assert table(figures)["activities"] == (6, None)
    assert {f.trend for f in figures} == {""}


def test_a_manager_sees_their_teams_figures(notes, manager):
    # not the outsider's D7 nor its activity
    assert table(key_figures(user=manager, filters=filters())) == {
        "opened": (6, 1),
        "won": (2, 1),
        "won_value": (Decimal("18000.00"), Decimal("4000.00")),
        "win_rate": (Decimal("40.0"), Decimal("100.0")),
        "cycle": (Decimal("22.5"), Decimal("30.0")),
        "activities": (4, 1),
        "open_value": (Decimal("12000.00"), None),
        "weighted_value": (Decimal("6000.00"), None),
    }


def test_per_owner_table_of_this_year(notes, admin, rep, teammate):
    rows = rep_rows(user=admin, filters=filters())
    assert [(r.name, r.won, r.lost, r.won_value, r.win_rate) for r in rows] == [
        ("Rita Rep", 1, 2, Decimal("10000.00"), Decimal("33.3")),
        ("Tom Teammate", 1, 1, Decimal("8000.00"), Decimal("50.0")),
    ]
    assert rows[0].url == f"/analytics/win-rates/?{filters(owner_id=rep.pk).query()}"


def test_other_currencies_are_counted_not_added(notes, admin, rep):
    DealFactory(owner=rep, currency="USD", value=Decimal("999"))
    figures = table(key_figures(user=admin, filters=filters()))
    assert figures["open_value"] == (Decimal("19000.00"), None)
    assert key_figures(user=admin, filters=filters())[6].note == (
        "3 open deals today. 1 open deal in other currencies not added."
    )


def test_the_dashboard_page_shows_figures_insights_and_owners(notes, admin_client_):
    body = admin_client_.get("/analytics/", {"period": "this_year"}).content.decode()
    assert "1 Jan 2026 – 31 Dec 2026, against 1 Jan 2025 – 31 Dec 2025" in body
    query = filters().query().replace("&", "&amp;")
    assert f'<a href="/analytics/funnel/?{query}">' in body
    assert f'<a href="/analytics/forecast/?{query}">' in body
    assert '<strong class="key-figure-value">€18,000</strong>' in body
    assert "▲ previous: €4,000" in body
    assert '<strong class="key-figure-value">40.0 %</strong>' in body
    assert "▼ previous: 100.0 %" in body
    assert '<strong class="key-figure-value">22.5 days</strong>' in body
    assert '<strong class="key-figure-value">€9,500</strong>' in body
    # the top insight: the two rotting deals (too few closed deals for any test)
    assert "2 open deals rotting in Proposal" in body
    assert "<td>1</td><td>2</td><td>€10,000</td><td>33.3 %</td>" in body
    assert "<td>1</td><td>1</td><td>€8,000</td><td>50.0 %</td>" in body


def test_the_dashboard_defaults_to_this_month(notes, admin_client_):
    body = admin_client_.get("/analytics/").content.decode()
    assert "1 Jun 2026 – 30 Jun 2026, against 1 May 2026 – 31 May 2026" in body
    assert 'data-figure="opened"' in body
    opened = body.split('data-figure="opened"')[1].split("</li>")[0]
    # nothing opened in June; D6 and D7 in May
    assert '<strong class="key-figure-value">0</strong>' in opened
    assert "▼ previous: 2" in opened
    assert "No deals were closed in the period." in body


def test_a_rep_sees_only_their_own_on_the_dashboard(notes, rep_client, rep):
    body = rep_client.get("/analytics/", {"period": "this_year"}).content.decode()
    opened = body.split('data-figure="opened"')[1].split("</li>")[0]
    assert '<strong class="key-figure-value">4</strong>' in opened  # D1, D2, D5, D6
    assert "Tom Teammate" not in body.split('aria-label="By owner"')[1]
    assert "1 open deal rotting in Proposal" in body  # D6 only


def test_the_dashboard_query_count_does_not_grow_with_deals(notes, admin_client_, rep):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client_.get("/analytics/", {"period": "this_year"})
        assert response.status_code == 200
        return len(queries.captured_queries)

    before = count()
    for i in range(15):
        deal = DealFactory(owner=rep, value=Decimal("100"))
        if i % 3 == 0:
            services.deal_mark_lost(actor=rep, deal=deal, reason=lost_reason("Price"))
    assert count() == before


def test_my_figures_this_month_against_last_month(notes, rep):
    mine = my_figures(user=rep, pipeline_id=default_pipeline_id())
    assert mine.filters.owner_id == rep.pk
    assert (mine.filters.period.first, mine.filters.period.last) == (
        dt.date(2026, 6, 1),
        dt.date(2026, 6, 30),
    )
    assert table(mine.figures) == {
        "opened": (0, 1),  # D6 opened in May
        "won": (0, 0),
        "won_value": (Decimal("0.00"), Decimal("0.00")),
        "win_rate": (None, None),
        "cycle": (None, None),
        "activities": (1, 0),  # the call on 2026-06-10
        "open_value": (Decimal("12000.00"), None),
        "weighted_value": (Decimal("6000.00"), None),
    }


def test_my_figures_of_this_year_count_only_the_reps_deals(notes, rep):
    assert table(key_figures(user=rep, filters=filters(owner_id=rep.pk))) == {
        "opened": (4, 1),
        "won": (1, 1),
        "won_value": (Decimal("10000.00"), Decimal("4000.00")),
        "win_rate": (Decimal("33.3"), Decimal("100.0")),
        "cycle": (Decimal("25.0"), Decimal("30.0")),
        "activities": (3, 1),
        "open_value": (Decimal("12000.00"), None),
        "weighted_value": (Decimal("6000.00"), None),
    }


def test_the_home_page_shows_my_figures_with_links_to_my_reports(notes, rep_client, rep):
    body = rep_client.get("/").content.decode()
    assert 'aria-label="My figures"' in body
    assert 'class="journey"' in body  # the journey strip stays
    query = filters(preset=PeriodPreset.THIS_MONTH, owner_id=rep.pk).query().replace("&", "&amp;")
    assert f'<a href="/analytics/funnel/?{query}">' in body
    assert f'<a href="/analytics/forecast/?{query}">' in body
    block = body.split('aria-label="My figures"', 1)[1]
    assert '<strong class="key-figure-value">€12,000</strong>' in block
    assert '<strong class="key-figure-value">€6,000</strong>' in block
