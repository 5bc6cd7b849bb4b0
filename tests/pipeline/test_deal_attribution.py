"""A deal's source and campaign: set on the deal form, shown on the deal page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from closeloop.core.exceptions import DomainError
from closeloop.leads.models import Campaign, Source
from closeloop.pipeline.models import Deal
from closeloop.pipeline.services import deals as deal_services
from tests.factories import DealFactory, stage_named

pytestmark = pytest.mark.django_db


def _post(rep, **extra):
    return {"title": "Shop fit-out", "owner": rep.pk, "value": "100", "currency": "EUR",
            "stage": stage_named("Proposal").pk, **extra}  # fmt: skip


def test_create_with_source_and_campaign(rep, rep_client):
    campaign = Campaign.objects.create(name="Spring fair")
    event = Source.objects.get(name="Event")
    response = rep_client.post(
        reverse("pipeline:deal_create"), _post(rep, source=event.pk, campaign=campaign.pk)
    )
    deal = Deal.objects.get(title="Shop fit-out")
    assert response.status_code == 302
    assert (deal.source, deal.campaign) == (event, campaign)
    html = rep_client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    assert "Spring fair" in html and reverse("leads:campaign_detail", args=[campaign.pk]) in html
    assert '<dd id="deal-source">Event</dd>' in html


def test_edit_changes_the_campaign_and_the_timeline_says_so(rep, rep_client):
    old, new = Campaign.objects.create(name="Old"), Campaign.objects.create(name="New")
    deal = DealFactory(owner=rep, campaign=old)
    response = rep_client.post(
        reverse("pipeline:deal_edit", args=[deal.pk]),
        {**_post(rep, campaign=new.pk), "title": deal.title, "version": deal.version},
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.campaign == new and deal.source is None


def test_retired_sources_are_not_offered_except_the_deals_own(rep, rep_client):
    retired = Source.objects.create(name="Old fair", is_active=False)
    html = rep_client.get(reverse("pipeline:deal_create")).content.decode()
    assert "Old fair" not in html
    deal = DealFactory(owner=rep, source=retired)
    html = rep_client.get(reverse("pipeline:deal_edit", args=[deal.pk])).content.decode()
    assert "Old fair" in html


def test_service_refuses_what_is_not_a_source_or_campaign(rep):
    with pytest.raises(DomainError, match="Unknown campaign"):
        deal_services.deal_create(actor=rep, title="X", campaign="Spring")  # type: ignore[arg-type]
