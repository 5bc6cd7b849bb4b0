"""The home page's seven-stage strip: figures, period, currencies, links, visibility, queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.models import Notification
from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import Lead
from closeloop.leads.overview import journey_strip, period_for
from closeloop.pipeline.models import Pipeline, Stage
from tests.factories import DealFactory, OrganizationFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db

HOME = reverse("home")


@pytest.fixture
def journey(rep, teammate, outsider):
    """Rep's and outsider's leads and deals, with known figures."""
    now = timezone.now()
    for status, n in ((LeadStatus.NEW, 3), (LeadStatus.CONTACTED, 2), (LeadStatus.QUALIFYING, 1)):
        for i in range(n):
            Lead.objects.create(last_name=f"{status} {i}", owner=rep, status=status)
    Lead.objects.create(last_name="Done", owner=rep, status=LeadStatus.QUALIFIED)
    Lead.objects.create(last_name="Outsider's", owner=outsider, status=LeadStatus.NEW)
    proposal, demo = stage_named("Proposal"), stage_named("Demo / meeting")
    DealFactory(owner=rep, stage=proposal, value=Decimal("1000.50"))
    DealFactory(owner=rep, stage=proposal, value=Decimal("499.50"))
    DealFactory(owner=rep, stage=proposal, value=Decimal("300"), currency="USD")
    DealFactory(owner=rep, stage=demo, value=Decimal("200"))
    DealFactory(owner=outsider, stage=demo, value=Decimal("9999"))
    acme = OrganizationFactory(name="Acme")
    DealFactory(owner=rep, stage=proposal, status="won", won_at=now, value=5000, organization=acme)
    DealFactory(owner=rep, stage=proposal, status="won", won_at=now, value=1000, organization=acme)
    last_year = now - dt.timedelta(days=400)
    DealFactory(owner=rep, stage=proposal, status="won", won_at=last_year, value=777)
    DealFactory(owner=rep, stage=demo, status="lost", lost_at=now, value=250)
    DealFactory(owner=outsider, stage=demo, status="won", won_at=now, value=123456)


def cells_of(strip):
    return {cell.label: cell for cell in strip.cells}


def test_strip_counts_each_stage_for_what_the_rep_sees(journey, rep):
    strip = journey_strip(user=rep, pipeline=default_pipeline(), period=period_for("month"))
    cells = cells_of(strip)
    labels = [cell.label for cell in strip.cells]
    stage_names = list(
        default_pipeline().stages.order_by("position").values_list("name", flat=True)
    )
    assert labels == ["Prospects", "Qualifying", *stage_names, "Won", "Lost", "Post-purchase"]
    assert cells["Prospects"].count == 3  # the outsider's lead is not counted
    assert cells["Qualifying"].count == 3
    assert cells["Proposal"].count == 3
    assert cells["Proposal"].base_value == Decimal("1500.00")
    assert cells["Proposal"].values["USD"] == Decimal("300")
    assert cells["Demo / meeting"].count == 1 and cells["Demo / meeting"].base_value == 200
    assert cells["Won"].count == 2 and cells["Won"].base_value == 6000  # last year's not counted
    assert cells["Lost"].count == 1 and cells["Lost"].base_value == 250
    assert cells["Post-purchase"].count == 1  # two won deals, one customer organization
    assert strip.other_currencies == [("Proposal", "USD", Decimal("300"))]


def test_a_longer_period_counts_older_wins(journey, rep):
    year = journey_strip(user=rep, pipeline=default_pipeline(), period=period_for("year"))
    # last year's win is outside even "this year" (400 days ago)
    assert cells_of(year)["Won"].count == 2


def test_admin_sees_everyone(journey, admin):
    strip = journey_strip(user=admin, pipeline=default_pipeline(), period=period_for("month"))
    cells = cells_of(strip)
    assert cells["Prospects"].count == 4
    assert cells["Won"].count == 3
    assert cells["Demo / meeting"].count == 2


def test_periods_are_calendar_periods():
    now = timezone.make_aware(dt.datetime(2026, 5, 17, 15, 0))
    month, quarter, year = (period_for(k, now) for k in ("month", "quarter", "year"))
    assert (month.first_day, month.last_day) == (dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert (quarter.first_day, quarter.last_day) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert (year.first_day, year.last_day) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    december = period_for("month", timezone.make_aware(dt.datetime(2026, 12, 3)))
    assert december.last_day == dt.date(2026, 12, 31)
    assert period_for("nonsense", now).key == "month"


def test_home_page_shows_the_strip_with_links(journey, rep_client):
    response = rep_client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/leads/?status=new" in html
    assert "/leads/?status=qualifying" in html
    assert "status=won" in html and "closed_from=" in html
    assert "€1,500" in html and "$300" in html
    assert "Follow-up plans for customers are not part of Closeloop yet" in html


def test_won_link_opens_the_deals_won_in_the_period(journey, rep_client, rep):
    strip = journey_strip(user=rep, pipeline=default_pipeline(), period=period_for("month"))
    response = rep_client.get(cells_of(strip)["Won"].url)
    assert response.status_code == 200
    assert len(response.context["page_obj"].object_list) == 2


def test_home_at_a_glance(journey, rep, rep_client):
    Lead.objects.create(
        last_name="Back", owner=rep, status=LeadStatus.NEW, nurture_count=1,
        nurture_returned_at=timezone.now(),
    )  # fmt: skip
    Notification.objects.create(recipient=rep, kind="x", title="Hello")
    strip = rep_client.get(HOME).context["strip"]
    assert strip.my_open_leads == 7
    assert strip.back_from_nurture == 1
    assert strip.unread_notifications == 1


def test_choosing_another_pipeline(journey, rep, rep_client):
    other = Pipeline.objects.create(name="Renewals", position=5)
    Stage.objects.create(pipeline=other, name="Renewal call", position=1)
    DealFactory(owner=rep, stage=Stage.objects.get(name="Renewal call"), value=10)
    cells = cells_of(rep_client.get(HOME, {"pipeline": other.pk}).context["strip"])
    assert cells["Renewal call"].count == 1
    assert "Proposal" not in cells


def test_home_query_count_does_not_grow_with_data(
    journey, rep, rep_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20) as first:
        rep_client.get(HOME)
    for i in range(20):
        DealFactory(owner=rep, stage=stage_named("Proposal"), value=i)
        Lead.objects.create(last_name=f"More {i}", owner=rep)
    with django_assert_max_num_queries(len(first.captured_queries)):
        rep_client.get(HOME)
