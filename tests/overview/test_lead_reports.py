"""Lead reports: each figure from known data, visibility, filters and the CSV exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import Campaign, DisqualifyReason, Lead, Source
from closeloop.leads.reports import ReportFilters, lead_report
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

REPORTS = reverse("leads:reports")
START = timezone.make_aware(dt.datetime(2026, 3, 1, 9, 0))


def lead(owner, status=LeadStatus.NEW, *, days=None, created=START, **fields) -> Lead:
    """A lead created at `created`; `days` later it reached its outcome."""
    outcome_at = created + dt.timedelta(days=days) if days is not None else None
    return Lead.objects.create(
        last_name="L", owner=owner, status=status, created_at=created, outcome_at=outcome_at,
        **fields,
    )  # fmt: skip


@pytest.fixture
def data(rep, outsider):
    referral = Source.objects.get(name="Referral")
    web = Source.objects.get(name="Website form")
    spring = Campaign.objects.create(name="Spring")
    budget = DisqualifyReason.objects.get(name="No budget")
    spam = DisqualifyReason.objects.get(name="Spam")
    # Referral: 4 leads, 2 qualified (after 2 and 4 days), 1 of them won
    won_lead = lead(rep, LeadStatus.QUALIFIED, days=2, source=referral, campaign=spring)
    lead(rep, LeadStatus.QUALIFIED, days=4, source=referral, campaign=spring)
    lead(rep, LeadStatus.DISQUALIFIED, days=1, source=referral, disqualify_reason=budget)
    lead(rep, LeadStatus.NEW, source=referral)
    # Website form: 2 leads, 1 qualified after 10 days, 1 discarded as spam
    lead(rep, LeadStatus.QUALIFIED, days=10, source=web)
    lead(rep, LeadStatus.DISQUALIFIED, days=3, source=web, disqualify_reason=budget)
    # no source: nurtured twice with the same reason written differently, one came back
    lead(rep, LeadStatus.NURTURING, days=5, nurture_reason="Next year ", nurture_count=1)
    lead(rep, LeadStatus.NURTURING, days=7, nurture_reason="next year", nurture_count=1)
    back = lead(rep, LeadStatus.CONTACTED, nurture_count=1, nurture_returned_at=START)
    DealFactory(owner=rep, lead=won_lead, status="won", won_at=START, value=Decimal("10"))
    DealFactory(owner=rep, lead=back, status="open", value=Decimal("10"))
    # the outsider's leads: never in the rep's report
    lead(outsider, LeadStatus.DISQUALIFIED, days=30, source=referral, disqualify_reason=spam)
    lead(outsider, LeadStatus.QUALIFIED, days=30, source=referral, nurture_count=2)
    return {"referral": referral, "web": web, "spring": spring}


def rows_by_name(rows):
    return {row.name: row for row in rows}


def test_conversion_by_source(data, rep):
    report = lead_report(user=rep, filters=ReportFilters())
    assert report.total == 9
    rows = rows_by_name(report.by_source)
    referral = rows["Referral"]
    assert (referral.leads, referral.qualified, referral.won) == (4, 2, 1)
    assert referral.qualified_rate == Decimal("50.0") and referral.won_rate == Decimal("25.0")
    web = rows["Website form"]
    assert (web.leads, web.qualified, web.won) == (2, 1, 0)
    assert rows["(none)"].leads == 3
    assert report.by_source[0].name == "Referral"  # biggest first


def test_conversion_by_campaign(data, rep):
    rows = rows_by_name(lead_report(user=rep, filters=ReportFilters()).by_campaign)
    assert (rows["Spring"].leads, rows["Spring"].qualified, rows["Spring"].won) == (2, 2, 1)
    assert rows["Spring"].qualified_rate == Decimal("100.0")
    assert rows["(none)"].leads == 7


def test_time_to_outcome_median_and_p75(data, rep):
    durations = {r.outcome: r for r in lead_report(user=rep, filters=ReportFilters()).durations}
    qualified = durations[LeadStatus.QUALIFIED]  # 2, 4, 10 days
    assert qualified.leads == 3
    assert qualified.median_days == Decimal("4.0")
    assert qualified.p75_days == Decimal("7.0")  # halfway between 4 and 10
    discarded = durations[LeadStatus.DISQUALIFIED]  # 1, 3 days
    assert (discarded.median_days, discarded.p75_days) == (Decimal("2.0"), Decimal("2.5"))
    nurturing = durations[LeadStatus.NURTURING]  # 5, 7 days
    assert nurturing.median_days == Decimal("6.0")


def test_outcomes_by_reason(data, rep):
    reasons = [
        (r.outcome, r.reason, r.leads)
        for r in lead_report(user=rep, filters=ReportFilters()).reasons
    ]
    assert reasons == [("Discarded", "No budget", 2), ("Nurturing", "Next year", 2)]


def test_nurtured_leads_that_came_back(data, rep, admin):
    nurture = lead_report(user=rep, filters=ReportFilters()).nurture
    assert (nurture.nurtured, nurture.still_nurturing, nurture.came_back) == (3, 2, 1)
    assert (nurture.qualified, nurture.won) == (0, 0)
    assert nurture.came_back_rate == Decimal("33.3")
    everyone = lead_report(user=admin, filters=ReportFilters()).nurture
    # the outsider's lead was nurtured twice, came back and was qualified
    assert (everyone.nurtured, everyone.came_back, everyone.qualified) == (4, 2, 1)


def test_filters_narrow_every_table(data, rep):
    only_web = lead_report(user=rep, filters=ReportFilters(source_id=data["web"].pk))
    assert only_web.total == 2
    assert [r.name for r in only_web.by_source] == ["Website form"]
    later = lead_report(user=rep, filters=ReportFilters(created_from=dt.date(2026, 3, 2)))
    assert later.total == 0
    assert lead_report(user=rep, filters=ReportFilters(campaign_id=data["spring"].pk)).total == 2


def test_manager_sees_the_team_not_other_teams(data, manager, admin):
    assert lead_report(user=manager, filters=ReportFilters()).total == 9
    assert lead_report(user=admin, filters=ReportFilters()).total == 11


def test_outsider_sees_only_their_own(data, outsider_client):
    response = outsider_client.get(REPORTS)
    assert response.status_code == 200
    assert response.context["report"].total == 2


def test_reports_page_shows_the_tables(data, rep_client):
    response = rep_client.get(REPORTS, {"source": data["referral"].pk})
    html = response.content.decode()
    assert response.status_code == 200
    for heading in (
        "Conversion by source",
        "Conversion by campaign",
        "Time from creation to outcome",
        "Outcomes by reason",
        "Nurtured leads that came back",
    ):
        assert heading in html
    assert "50.0%" in html and "25.0%" in html


def test_reports_page_query_count_is_fixed(data, rep_client, rep, django_assert_max_num_queries):
    with django_assert_max_num_queries(20) as first:
        rep_client.get(REPORTS)
    for _ in range(10):
        lead(rep, LeadStatus.QUALIFIED, days=1, source=data["web"])
    with django_assert_max_num_queries(len(first.captured_queries)):
        rep_client.get(REPORTS)


def csv_lines(response) -> list[str]:
    return b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()


def test_csv_export_of_each_table(data, rep_client):
    sources = csv_lines(rep_client.get(REPORTS, {"export": "sources"}))
    assert sources[0] == "Source,Leads,Qualified,Qualified %,Won,Won %"
    assert "Referral,4,2,50.0,1,25.0" in sources
    campaigns = csv_lines(rep_client.get(REPORTS, {"export": "campaigns"}))
    assert "Spring,2,2,100.0,1,50.0" in campaigns
    durations = csv_lines(rep_client.get(REPORTS, {"export": "durations"}))
    assert "Sales-qualified,3,4.0,7.0" in durations
    reasons = csv_lines(rep_client.get(REPORTS, {"export": "reasons"}))
    assert reasons[1:] == ["Discarded,No budget,2", "Nurturing,Next year,2"]
    nurture = csv_lines(rep_client.get(REPORTS, {"export": "nurture"}))
    assert nurture[1] == "3,2,1,33.3,0,0"


def test_csv_export_respects_visibility_and_filters(data, outsider_client):
    lines = csv_lines(outsider_client.get(REPORTS, {"export": "sources"}))
    assert lines[1:] == ["Referral,2,1,50.0,0,0.0"]


def test_unknown_export_is_404(rep_client):
    assert rep_client.get(REPORTS, {"export": "nope"}).status_code == 404
