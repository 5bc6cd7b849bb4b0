"""The Django admin: leads view-only (trashed too); sources and campaigns saved via services."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from closeloop.leads.models import Campaign, Source

from .conftest import LeadFactory

pytestmark = pytest.mark.django_db


def test_admin_lists_trashed_leads_and_cannot_change_them(admin_client_):
    lead = LeadFactory(last_name="Gone", deleted_at=timezone.now())
    assert "Gone" in admin_client_.get(reverse("admin:leads_lead_changelist")).content.decode()
    assert admin_client_.get(reverse("admin:leads_lead_add")).status_code == 403
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    assert admin_client_.post(url, {"last_name": "Changed"}).status_code == 403


def test_admin_adds_a_campaign_through_the_service(admin_client_):
    url = reverse("admin:leads_campaign_add")
    data = {"name": "Expo", "channel": "event", "starts_on": "2025-05-02", "ends_on": "2025-05-01",
            "cost": "", "currency": "", "utm_campaign": "", "notes": ""}  # fmt: skip
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "The campaign cannot end before it starts." in response.content.decode()
    data["ends_on"] = "2025-05-03"
    assert admin_client_.post(url, data).status_code == 302
    assert Campaign.objects.get().name == "Expo"


def test_admin_refuses_a_source_name_in_other_case(admin_client_):
    response = admin_client_.post(
        reverse("admin:leads_source_add"), {"name": "REFERRAL", "is_active": "on"}
    )
    assert "“REFERRAL” is already a source." in response.content.decode()
    assert (
        admin_client_.post(
            reverse("admin:leads_source_add"), {"name": "Podcast", "is_active": "on"}
        ).status_code
        == 302
    )
    assert Source.objects.filter(name="Podcast").exists()
