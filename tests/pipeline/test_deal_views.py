"""Deal pages through the HTTP client: detail, create, edit, win/lose/reopen, list and export."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from tests.factories import DealFactory, OrganizationFactory, lost_reason, stage_named

pytestmark = pytest.mark.django_db


def test_detail_shows_fields_progress_and_timeline(rep, rep_client):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"), value=Decimal("1234.50"))
    html = rep_client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    assert deal.title in html
    assert "€1,234.50" in html
    assert 'class="current" aria-current="step">Proposal' in html
    assert "Created in Proposal" in html


def test_add_note_appears_on_timeline(rep, rep_client):
    deal = DealFactory(owner=rep)
    url = reverse("pipeline:deal_note", args=[deal.pk])
    html = rep_client.post(url, {"body": "Called <b>them</b>"}, HTTP_HX_REQUEST="true")
    text = html.content.decode()
    assert "Called &lt;b&gt;them&lt;/b&gt;" in text
    assert 'id="timeline"' in text and "<html" not in text


def test_create_deal_from_form(rep, rep_client):
    org = OrganizationFactory(owner=rep)
    response = rep_client.post(
        reverse("pipeline:deal_create"),
        {
            "title": "New shop fit-out",
            "organization": org.pk,
            "owner": rep.pk,
            "value": "12.500,00",
            "currency": "EUR",
            "stage": stage_named("Proposal").pk,
        },
    )
    deal = Deal.objects.get(title="New shop fit-out")
    assert response.status_code == 302
    assert deal.value == Decimal("12500.00")
    assert deal.stage.name == "Proposal"


def test_create_deal_shows_errors_naming_the_field(rep, rep_client):
    response = rep_client.post(
        reverse("pipeline:deal_create"),
        {
            "title": "",
            "owner": rep.pk,
            "value": "lots",
            "currency": "EUR",
            "stage": stage_named("Proposal").pk,
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required." in html
    assert "“lots” is not an amount." in html
    assert not Deal.objects.exists()


def test_edit_with_stale_version_is_refused(rep, rep_client):
    deal = DealFactory(owner=rep, title="Before")
    data = {
        "title": "Mine",
        "owner": rep.pk,
        "value": "10",
        "currency": "EUR",
        "version": deal.version,
    }
    rep_client.post(reverse("pipeline:deal_edit", args=[deal.pk]), data)
    response = rep_client.post(
        reverse("pipeline:deal_edit", args=[deal.pk]), {**data, "title": "Theirs"}
    )
    assert "changed by someone else" in response.content.decode()
    deal.refresh_from_db()
    assert deal.title == "Mine"


def test_lose_page_requires_reason_then_shows_lost_at_stage(rep, rep_client):
    deal = DealFactory(owner=rep, stage=stage_named("Proposal"))
    url = reverse("pipeline:deal_lose", args=[deal.pk])
    assert "Pick the reason" in rep_client.post(url, {"version": deal.version}).content.decode()
    rep_client.post(url, {"version": deal.version, "reason": lost_reason("Timing").pk})
    html = rep_client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    assert "Lost at Proposal" in html
    assert "Timing" in html


def test_win_and_reopen_from_the_deal_page(rep, rep_client):
    deal = DealFactory(owner=rep)
    rep_client.post(reverse("pipeline:deal_win", args=[deal.pk]), {"version": deal.version})
    deal.refresh_from_db()
    assert deal.status == DealStatus.WON
    rep_client.post(reverse("pipeline:deal_reopen", args=[deal.pk]), {"version": deal.version})
    deal.refresh_from_db()
    assert deal.status == DealStatus.OPEN and deal.won_at is None


def test_list_filters_sorts_and_paginates(rep, rep_client):
    DealFactory(owner=rep, title="Alpha", value=Decimal("10"))
    DealFactory(owner=rep, title="Beta", value=Decimal("30"), status=DealStatus.WON)
    DealFactory(owner=rep, title="Gamma", value=Decimal("20"))
    url = reverse("pipeline:deal_list")
    html = rep_client.get(url, {"sort": "-value"}).content.decode()
    assert html.index("Beta") < html.index("Gamma") < html.index("Alpha")
    open_only = rep_client.get(url, {"status": "open"}).content.decode()
    assert "Beta" not in open_only and "Alpha" in open_only
    found = rep_client.get(url, {"q": "gam"}).content.decode()
    assert "Gamma" in found and "Alpha" not in found
    nothing = rep_client.get(url, {"q": "zzz"}).content.decode()
    assert "No deals match these filters" in nothing


def test_list_query_count_does_not_grow(rep, rep_client, django_assert_max_num_queries):
    DealFactory(owner=rep)
    with django_assert_max_num_queries(20) as few:
        rep_client.get(reverse("pipeline:deal_list"))
    for _ in range(30):
        DealFactory(owner=rep)
    with django_assert_max_num_queries(len(few.captured_queries)):
        rep_client.get(reverse("pipeline:deal_list"))


def test_csv_export_has_ids_and_neutralises_formulas(rep, rep_client, outsider):
    DealFactory(owner=rep, title='=HYPERLINK("http://evil")', value=Decimal("99.50"))
    DealFactory(owner=outsider, title="Not mine")
    response = rep_client.get(reverse("pipeline:deal_list"), {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 1
    assert rows[0]["title"].startswith("'=HYPERLINK")
    assert rows[0]["value"] == "99.50"
    assert rows[0]["id"].isdigit()


def test_names_with_html_are_escaped(rep, rep_client):
    deal = DealFactory(owner=rep, title="<script>alert(1)</script>")
    for url in (
        reverse("pipeline:board"),
        reverse("pipeline:deal_list"),
        reverse("pipeline:deal_detail", args=[deal.pk]),
    ):
        html = rep_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
