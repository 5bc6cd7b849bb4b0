"""A pipeline's proposal automation: win on acceptance, the proposal and negotiation stages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from closeloop.core.exceptions import DomainError
from closeloop.pipeline import services
from tests.factories import stage_named

pytestmark = pytest.mark.django_db


def test_a_manager_sets_the_automation_on_the_pipeline_page(manager_client, sales):
    page = manager_client.get(reverse("settings:pipelines")).content.decode()
    assert "Win the deal when the customer accepts a proposal" in page
    demo, negotiation = stage_named("Demo / meeting"), stage_named("Negotiation / commitment")
    response = manager_client.post(
        reverse("settings:pipeline_automation", args=[sales.pk]),
        {"win_on_acceptance": "on", "proposal_stage": demo.pk, "negotiation_stage": negotiation.pk},
    )
    assert response.status_code == 302
    sales.refresh_from_db()
    assert sales.win_on_acceptance
    assert (sales.proposal_stage, sales.negotiation_stage) == (demo, negotiation)

    response = manager_client.post(
        reverse("settings:pipeline_automation", args=[sales.pk]),
        {"proposal_stage": negotiation.pk, "negotiation_stage": demo.pk},
    )
    assert response.status_code == 200
    assert "comes before the proposal stage" in response.content.decode()
    sales.refresh_from_db()
    assert sales.win_on_acceptance


def test_reps_may_not_and_stages_must_be_the_pipelines_own(rep, rep_client, admin, sales):
    other = services.pipeline_create(actor=admin, name="Partners")
    response = rep_client.post(reverse("settings:pipeline_automation", args=[sales.pk]), {})
    assert response.status_code == 403
    with pytest.raises(DomainError, match="not a stage of"):
        services.pipeline_automation_set(
            actor=admin,
            pipeline=sales,
            win_on_acceptance=False,
            proposal_stage=other.stages.first(),
            negotiation_stage=None,
        )
    with pytest.raises(DomainError, match="Only admins and managers"):
        services.pipeline_automation_set(
            actor=rep,
            pipeline=sales,
            win_on_acceptance=True,
            proposal_stage=None,
            negotiation_stage=None,
        )
