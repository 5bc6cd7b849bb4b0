"""Deal imports carry history: stage, status, dates and lost reason, as StageChange rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import RowOutcome
from closeloop.leads.imports.services import import_undo
from closeloop.leads.models import ImportRow
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal, StageChange
from tests.factories import lost_reason, stage_named

pytestmark = pytest.mark.django_db

HEADER = (
    "Deal Name,Pipeline,Deal Stage,Amount,Currency,Create Date,Close Date,Deal owner,"
    "Closed Lost Reason,Record ID\n"
)


def test_a_won_deal_gets_its_history(run_import, manager):
    batch = run_import(
        HEADER
        + 'Bakery POS,Sales,Closed Won,"1,250.50",EUR,2024-01-10,2024-02-20,'
        + "manager@example.com,,HS-1\n",
        kind="deals",
    )
    assert batch.created_count == 1, list(ImportRow.objects.values_list("error", flat=True))
    deal = Deal.objects.get()
    assert (deal.status, deal.stage, deal.owner, deal.value) == (
        DealStatus.WON,
        stage_named("Negotiation / commitment"),
        manager,
        Decimal("1250.50"),
    )
    assert deal.created_at.date() == dt.date(2024, 1, 10) and deal.won_at.date() == dt.date(
        2024, 2, 20
    )
    history = list(StageChange.objects.filter(deal=deal).order_by("changed_at"))
    assert [(h.from_status, h.to_status) for h in history] == [("", "open"), ("open", "won")]
    assert history[0].changed_at == deal.created_at and history[1].changed_at == deal.won_at
    assert deal.import_batch == batch and deal.external_id == "HS-1"


def test_a_lost_deal_keeps_its_stage_and_an_unknown_reason_becomes_other(run_import):
    run_import(
        "Title,Stage,Status,Created,Lost date,Lost reason\n"
        "Fleet,Proposal,lost,2024-03-01,2024-03-05,Went with cousin\n"
        "Audit,Proposal,Lost,2024-03-01,2024-03-06,price\n",
        kind="deals",
    )
    fleet, audit = Deal.objects.get(title="Fleet"), Deal.objects.get(title="Audit")
    assert (fleet.status, fleet.stage) == (DealStatus.LOST, stage_named("Proposal"))
    assert fleet.lost_reason == lost_reason("Other")
    assert "Went with cousin" in fleet.lost_note
    assert audit.lost_reason == lost_reason("Price")


def test_open_deals_use_close_date_as_expected_close(run_import):
    run_import(HEADER + "Open one,,Proposal,100,,2024-01-01,2031-05-01,,,\n", kind="deals")
    deal = Deal.objects.get()
    assert deal.status == DealStatus.OPEN and deal.expected_close_date == dt.date(2031, 5, 1)
    assert StageChange.objects.filter(deal=deal).count() == 1


@pytest.mark.parametrize(
    ("row", "error"),
    [
        (
            "Late,,Closed Won,1,,2024-03-01,2024-01-01,,,\n",
            "Won date: 2024-01-01 is before the deal was created",
        ),
        (
            "NoDate,,Closed Won,1,,2024-03-01,,,,\n",
            "Won date: a won deal needs the date it was won",
        ),
        ("Future,,Proposal,1,,2099-01-01,,,,\n", "Created: 2099-01-01 is in the future"),
        ("Stage,,Imaginary stage,1,,,,,,\n", "Stage: “Imaginary stage” is not a stage of Sales"),
        ("Money,,Proposal,lots,,,,,,\n", "Value: “lots” is not an amount"),
        ("Owner,,Proposal,1,,,,nobody@x.example,,\n", "Owner: no user “nobody@x.example”"),
        ("Curr,,Proposal,1,XYZ,,,,,\n", "Currency: “XYZ” is not a known currency code"),
    ],
)
def test_bad_deal_rows_fail_naming_field_and_problem(run_import, row, error):
    batch = run_import(HEADER + row + "Fine,,Proposal,5,,2024-01-01,,,,\n", kind="deals")
    assert batch.created_count == 1 and batch.failed_count == 1
    assert ImportRow.objects.get(outcome=RowOutcome.FAILED).error.startswith(error)


def test_ambiguous_dates_need_a_date_order(run_import):
    rows = HEADER + "A,,Closed Won,1,,01/02/2024,03/04/2024,,,\n"
    with pytest.raises(DomainError, match="choose the date order"):
        run_import(rows, kind="deals")
    run_import(rows, kind="deals", date_order="dmy")
    deal = Deal.objects.get()
    assert deal.created_at.date() == dt.date(2024, 2, 1) and deal.won_at.date() == dt.date(
        2024, 4, 3
    )


def test_deal_update_and_undo_by_external_id(run_import, admin):
    run_import(HEADER + "Old title,,Proposal,100,,2024-01-01,,,,X-1\n", kind="deals")
    batch = run_import("Record ID,Amount,Deal Name\nX-1,900,New title\nX-2,1,Missing\n",
                       kind="deals", mode="update", match_on="external_id")  # fmt: skip
    deal = Deal.objects.get()
    assert (deal.title, deal.value, batch.updated_count, batch.skipped_count) == (
        "New title",
        900,
        1,
        1,
    )
    import_undo(actor=admin, batch=batch)
    deal.refresh_from_db()
    assert (deal.title, deal.value) == ("Old title", 100)


def test_same_external_id_twice_is_a_duplicate(run_import):
    batch = run_import(
        HEADER + "A,,Proposal,1,,,,,,D-1\nA again,,Proposal,1,,,,,,D-1\n", kind="deals"
    )
    assert (batch.created_count, batch.skipped_count) == (1, 1)


ATTRIBUTION_HEADER = "Deal Name,Amount,Currency,Deal owner,Source,Campaign\n"


def test_source_and_campaign_columns_are_mapped_by_name_and_value(run_import, manager):
    from closeloop.leads.models import Campaign, Source

    spring = Campaign.objects.create(name="Spring fair")
    batch = run_import(
        ATTRIBUTION_HEADER
        + "One,100,EUR,manager@example.com,event,spring fair\n"
        + "Two,100,EUR,manager@example.com,Trade show,SF 2024\n"
        + "Three,100,EUR,manager@example.com,,\n",
        kind="deals",
        value_mapping={"campaign": {"SF 2024": str(spring.pk)}},
    )
    assert batch.created_count == 3, list(ImportRow.objects.values_list("error", flat=True))
    deals = {d.title: d for d in Deal.objects.select_related("source", "campaign")}
    assert (deals["One"].source.name, deals["One"].campaign) == ("Event", spring)
    assert (deals["Two"].source.name, deals["Two"].campaign) == ("Trade show", spring)
    assert Source.objects.filter(name="Trade show").exists()  # an unknown source is added
    assert (deals["Three"].source, deals["Three"].campaign) == (None, None)


def test_an_unknown_campaign_fails_the_row_naming_the_column(run_import, manager):
    batch = run_import(
        ATTRIBUTION_HEADER + "One,100,EUR,manager@example.com,,Nobody knows\n", kind="deals"
    )
    assert batch.failed_count == 1
    error = ImportRow.objects.get().error
    assert "Campaign" in error and "Nobody knows" in error
