"""The funnel report against the hand-computed history in conftest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from closeloop.analytics.choices import PeriodPreset
from closeloop.analytics.filters import ReportFilters, default_pipeline_id, period_of
from closeloop.analytics.reports.funnel import funnel_steps

pytestmark = pytest.mark.usefixtures("today")


def filters(**kw) -> ReportFilters:
    preset = kw.pop("preset", PeriodPreset.THIS_YEAR)
    return ReportFilters(pipeline_id=default_pipeline_id(), period=period_of(preset), **kw)


def counts(steps):
    return [(s.name, s.count, s.conversion) for s in steps]


def test_the_admin_sees_the_whole_funnel_of_this_year(history, admin):
    steps = funnel_steps(user=admin, filters=filters())
    # D1–D7 opened this year (D8 in 2025); Demo entered by D1, D3, D5, D7; Proposal reached by
    # every deal but D5; Negotiation by D1, D3, D4 (and won D1, D4); won D1, D4.
    assert counts(steps) == [
        ("Leads created", 5, None),
        ("Sales-qualified", 3, Decimal("60.0")),
        ("Deals opened", 7, None),
        ("Demo / meeting", 4, Decimal("57.1")),
        ("Proposal", 6, Decimal("85.7")),
        ("Negotiation / commitment", 3, Decimal("50.0")),
        ("Won", 2, Decimal("66.7")),
    ]
    assert [s.drop_off for s in steps] == [None, 2, None, None, 1, 3, 1]
    assert steps[-1].of_first == Decimal("28.6")


def test_a_rep_counts_only_their_own(history, rep):
    steps = funnel_steps(user=rep, filters=filters())
    # D1, D2, D5, D6; leads: the four of rep
    assert counts(steps)[0][1] == 4
    assert [s.count for s in steps[2:]] == [4, 2, 3, 1, 1]


def test_last_12_months_take_in_the_imported_deal(history, admin):
    steps = funnel_steps(user=admin, filters=filters(preset=PeriodPreset.LAST_12_MONTHS))
    assert steps[2].count == 8  # D8 was imported with its 2025 dates
    assert steps[-1].count == 3


def test_filters_by_source_campaign_owner_and_product(history, admin, teammate):
    by = {
        "source_id": history.referral.pk,
        "campaign_id": history.spring.pk,
        "owner_id": teammate.pk,
        "product_id": history.oven.pk,
    }
    opened = {
        k: funnel_steps(user=admin, filters=filters(**{k: v}))[2].count for k, v in by.items()
    }
    assert opened == {"source_id": 2, "campaign_id": 2, "owner_id": 2, "product_id": 2}


def test_the_page_draws_the_chart_and_table_and_exports_csv(history, admin_client_):
    response = admin_client_.get("/analytics/funnel/", {"period": "this_year"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and 'data-table="funnel"' in body
    export = admin_client_.get("/analytics/funnel/", {"period": "this_year", "export": "funnel"})
    lines = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Step,Count,Conversion from previous step %")
    assert lines[-1] == "Won,2,66.7,1,28.6"


def test_a_custom_period_is_read_from_the_dates(history, admin):
    f = ReportFilters.from_query(
        {"from": "2026-01-01", "to": "2026-01-31"}, default_pipeline=default_pipeline_id()
    )
    assert (f.period.first, f.period.last) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert funnel_steps(user=admin, filters=f)[2].count == 2
