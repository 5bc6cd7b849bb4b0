"""Campaign pages (list with counts, detail by status, create/edit) and the sources page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from closeloop.leads.models import Campaign, Source

from .conftest import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = reverse("leads:campaign_list")
NEW_CAMPAIGN = reverse("leads:campaign_create")
SOURCES = reverse("leads:source_list")


def campaign_post(**fields: str) -> dict[str, str]:
    data = {"name": "", "channel": "email", "starts_on": "", "ends_on": "", "cost": "",
            "currency": "EUR", "utm_campaign": "", "notes": ""}  # fmt: skip
    data.update(fields)
    return data


def test_manager_creates_and_edits_a_campaign(manager_client):
    response = manager_client.post(NEW_CAMPAIGN, campaign_post(
        name="Spring fair", channel="event", starts_on="2025-03-01", ends_on="2025-03-03",
        cost="1.200,50", utm_campaign="spring-fair", notes="Booth 12"))  # fmt: skip
    campaign = Campaign.objects.get()
    assert response.url == reverse("leads:campaign_detail", args=[campaign.pk])
    assert (campaign.channel, campaign.cost, campaign.utm_campaign) == (
        "event", Decimal("1200.50"), "spring-fair")  # fmt: skip
    edit = reverse("leads:campaign_edit", args=[campaign.pk])
    assert manager_client.get(edit).context["form"].initial["name"] == "Spring fair"
    response = manager_client.post(edit, campaign_post(name="Spring fair 2025", channel="event"))
    campaign.refresh_from_db()
    assert campaign.name == "Spring fair 2025" and campaign.cost is None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [({"name": "Taken"}, "name", "There is already a campaign called “Taken”."),
     ({"name": "X", "starts_on": "2025-03-02", "ends_on": "2025-03-01"}, "ends_on",
      "The campaign cannot end before it starts."),
     ({"name": "X", "cost": "-5"}, "cost", "The cost cannot be negative."),
     ({"name": "X", "cost": "lots"}, "cost", "“lots” is not an amount.")],
)  # fmt: skip
def test_campaign_form_shows_refusals_on_the_field(manager_client, fields, field, message):
    CampaignFactory(name="Taken")
    response = manager_client.post(NEW_CAMPAIGN, campaign_post(**fields))
    assert response.context["form"].errors[field] == [message]


def test_reps_see_campaigns_but_cannot_change_them(rep_client):
    campaign = CampaignFactory(name="Newsletter")
    assert "Newsletter" in rep_client.get(CAMPAIGNS).content.decode()
    assert rep_client.get(reverse("leads:campaign_detail", args=[campaign.pk])).status_code == 200
    assert rep_client.get(NEW_CAMPAIGN).status_code == 403
    assert rep_client.post(NEW_CAMPAIGN, campaign_post(name="Mine")).status_code == 403
    edit = reverse("leads:campaign_edit", args=[campaign.pk])
    assert rep_client.post(edit, campaign_post(name="Hijacked")).status_code == 403
    assert Campaign.objects.get().name == "Newsletter"


def test_campaign_list_counts_visible_leads(rep_client, rep, outsider):
    campaign = CampaignFactory(name="Webinar")
    CampaignFactory(name="Empty one")
    LeadFactory.create_batch(2, owner=rep, campaign=campaign)
    LeadFactory(owner=None, campaign=campaign)
    LeadFactory(owner=outsider, campaign=campaign)
    counts = {c.name: c.lead_count for c in rep_client.get(CAMPAIGNS).context["campaigns"]}
    assert counts == {"Webinar": 3, "Empty one": 0}


def test_campaign_detail_lists_visible_leads_and_counts_by_status(rep_client, rep, outsider):
    campaign = CampaignFactory(name="Webinar")
    LeadFactory(owner=rep, campaign=campaign, status="new", last_name="Alpha")
    LeadFactory(owner=rep, campaign=campaign, status="contacted", last_name="Beta")
    LeadFactory(owner=None, campaign=campaign, status="contacted", last_name="Gamma")
    LeadFactory(owner=outsider, campaign=campaign, status="qualifying", last_name="Hidden")
    LeadFactory(owner=rep, last_name="Elsewhere")
    response = rep_client.get(reverse("leads:campaign_detail", args=[campaign.pk]))
    counts = {value: n for value, _, n in response.context["status_counts"]}
    assert counts == {
        "new": 1,
        "contacted": 2,
        "qualifying": 0,
        "qualified": 0,
        "nurturing": 0,
        "disqualified": 0,
    }
    assert response.context["total"] == 3
    html = response.content.decode()
    assert "Alpha" in html and "Gamma" in html
    assert "Hidden" not in html and "Elsewhere" not in html


def test_campaign_empty_states(rep_client, manager_client):
    assert "Ask an admin or a manager" in rep_client.get(CAMPAIGNS).content.decode()
    assert "Add your first campaign" in manager_client.get(CAMPAIGNS).content.decode()
    campaign = CampaignFactory(name="Quiet", utm_campaign="quiet")
    html = rep_client.get(reverse("leads:campaign_detail", args=[campaign.pk])).content.decode()
    assert "No leads in this campaign yet" in html and "quiet" in html


def test_unknown_campaign_is_404(rep_client):
    assert rep_client.get(reverse("leads:campaign_detail", args=[999])).status_code == 404


# Sources --------------------------------------------------------------------------------------


def test_sources_page_is_for_admins_and_managers(rep_client, manager_client, admin_client_):
    assert rep_client.get(SOURCES).status_code == 403
    assert rep_client.post(SOURCES, {"name": "Sneaky"}).status_code == 403
    assert not Source.objects.filter(name="Sneaky").exists()
    assert manager_client.get(SOURCES).status_code == 200
    assert admin_client_.get(SOURCES).status_code == 200


def test_sources_are_listed_with_counts(manager_client, rep):
    referral = Source.objects.get(name="Referral")
    LeadFactory.create_batch(2, owner=rep, source=referral)
    response = manager_client.get(SOURCES)
    counts = {s.name: s.lead_count for s in response.context["sources"]}
    assert counts["Referral"] == 2 and counts["Event"] == 0
    assert "Website form" in response.content.decode()


def test_manager_adds_renames_and_retires_a_source(manager_client, rep):
    response = manager_client.post(SOURCES, {"name": "Podcast", "is_active": "on"})
    assert response.url == SOURCES
    podcast = Source.objects.get(name="Podcast")
    lead = LeadFactory(owner=rep, source=podcast)
    manager_client.post(SOURCES, {"source": podcast.pk, "name": "Podcast ads"})
    podcast.refresh_from_db()
    assert (podcast.name, podcast.is_active) == ("Podcast ads", False)
    lead.refresh_from_db()
    assert lead.source == podcast  # the lead keeps its retired source
    form = manager_client.get(reverse("leads:lead_create")).context["form"]
    assert podcast not in form.fields["source"].queryset


def test_duplicate_source_name_is_refused(manager_client):
    response = manager_client.post(SOURCES, {"name": "referral"}, follow=True)
    assert "“referral” is already a source." in [str(m) for m in response.context["messages"]]
    assert Source.objects.filter(name__iexact="referral").count() == 1
