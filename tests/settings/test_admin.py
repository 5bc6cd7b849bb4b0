"""The Django admin shows the pipeline records read-only: changes go through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from closeloop.activities.services import activity_create
from tests.factories import DealFactory, stage_named

pytestmark = pytest.mark.django_db

MODELS = [
    ("pipeline", "pipeline"),
    ("pipeline", "stage"),
    ("pipeline", "lostreason"),
    ("pipeline", "deal"),
    ("pipeline", "stagechange"),
    ("activities", "activity"),
]


@pytest.mark.parametrize(("app", "model"), MODELS)
def test_admins_can_browse_the_records(admin, admin_client_, app, model):
    deal = DealFactory(title="Big rollout", stage=stage_named("Proposal"))
    activity_create(actor=admin, deal=deal, body="Called them")
    response = admin_client_.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == 200
    assert admin_client_.get(reverse(f"admin:{app}_{model}_add")).status_code == 403


def test_the_deal_admin_searches_and_opens_a_deal_read_only(admin_client_):
    deal = DealFactory(title="Big rollout", stage=stage_named("Proposal"))
    DealFactory(title="Small thing")
    response = admin_client_.get(reverse("admin:pipeline_deal_changelist"), {"q": "rollout"})
    assert "Big rollout" in response.content.decode()
    assert "Small thing" not in response.content.decode()
    detail = admin_client_.get(reverse("admin:pipeline_deal_change", args=[deal.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()


def test_the_stages_show_under_their_pipeline(admin_client_):
    pipeline = stage_named("Proposal").pipeline
    response = admin_client_.get(reverse("admin:pipeline_pipeline_change", args=[pipeline.pk]))
    assert "Negotiation / commitment" in response.content.decode()
