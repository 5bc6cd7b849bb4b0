"""POST /api/v1/leads/{id}/qualify, /nurture, /disqualify: the same rules, 4xx naming the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from closeloop.accounts.services import api_token_create
from closeloop.leads.choices import LeadStatus
from closeloop.pipeline.models import Deal

from .conftest import fill_all


@pytest.fixture
def token(rep) -> str:  # type: ignore[no-untyped-def]
    return api_token_create(actor=None, user=rep)[1]


def _post(token: str, path: str, payload: dict):  # type: ignore[no-untyped-def]
    return Client().post(
        f"/api/v1/leads/{path}",
        payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_qualify_over_the_api(token, lead):
    fill_all(lead)
    response = _post(token, f"{lead.pk}/qualify", {"title": "API deal", "value": "500"})
    assert response.status_code == 201, response.content
    body = response.json()
    deal = Deal.objects.get()
    assert body["deal_id"] == deal.pk and body["lead"]["status"] == LeadStatus.QUALIFIED
    assert deal.title == "API deal" and deal.value == 500 and deal.lead_id == lead.pk


def test_below_threshold_is_400_naming_the_field(token, lead):
    response = _post(token, f"{lead.pk}/qualify", {})
    assert response.status_code == 400
    assert "override_reason" in response.json()["fields"]
    assert not Deal.objects.exists()


def test_another_reps_lead_is_404(token, others_lead):
    fill_all(others_lead)
    assert _post(token, f"{others_lead.pk}/qualify", {}).status_code == 404
    assert _post(token, f"{others_lead.pk}/disqualify", {"reason": "Spam"}).status_code == 404


def test_nurture_and_disqualify_over_the_api(token, lead):
    until = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = _post(token, f"{lead.pk}/nurture", {"reason": "Next year", "until": until})
    assert response.status_code == 200 and response.json()["nurture_until"] == until
    response = _post(token, f"{lead.pk}/disqualify", {"reason": "Spam"})
    assert response.status_code == 400 and "reopen" in response.json()["message"]


def test_unknown_reason_and_past_date_are_named(token, lead):
    response = _post(token, f"{lead.pk}/disqualify", {"reason": "Bored"})
    assert response.status_code == 400 and "reason" in response.json()["fields"]
    response = _post(token, f"{lead.pk}/nurture", {"reason": "x", "until": "2001-01-01"})
    assert response.status_code == 400 and "until" in response.json()["fields"]
