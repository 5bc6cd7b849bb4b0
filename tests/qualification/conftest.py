"""Leads to qualify: a rep's lead with attribution, and helpers to fill its scorecard."""

from __future__ import annotations

import pytest

from closeloop.accounts.selectors import workspace_settings
from closeloop.leads.choices import CriterionStatus
from closeloop.leads.models import Lead, QualificationCriterion, Source
from closeloop.leads.qualification import scorecard_update
from tests.leads_ui.conftest import CampaignFactory, LeadFactory


@pytest.fixture(autouse=True)
def _workspace(db: None) -> None:
    """Settings and defaults exist (a transactional test may have flushed the migrations' rows)."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_settings()
    workspace_defaults_ensure()


def criterion(key: str) -> QualificationCriterion:
    return QualificationCriterion.objects.get(key=key)


def answer(lead: Lead, key: str, status: str = CriterionStatus.YES, **details: object) -> None:
    """Answer one criterion as the lead's owner would."""
    scorecard_update(actor=None, lead=lead, criterion=criterion(key), status=status, **details)
    lead.refresh_from_db()


def fill_all(lead: Lead) -> None:
    for key in ("budget", "authority", "need", "timeline"):
        answer(lead, key)


@pytest.fixture
def lead(rep) -> Lead:  # type: ignore[no-untyped-def]
    return LeadFactory(
        owner=rep,
        first_name="Grace",
        last_name="Hopper",
        email="grace@navy.example",
        phone="+49 30 1234567",
        phone_e164="+49301234567",
        company_name="Navy Labs",
        company_domain="navy.example",
        source=Source.objects.get_or_create(name="Referral")[0],
        campaign=CampaignFactory(name="Spring fair"),
        utm_source="newsletter",
        utm_medium="email",
        utm_campaign="spring",
        utm_term="crm",
        utm_content="banner",
        marketing_consent=True,
        consent_method="web form checkbox",
        notes="Met at the spring fair.",
    )


@pytest.fixture
def others_lead(outsider) -> Lead:  # type: ignore[no-untyped-def]
    return LeadFactory(owner=outsider, first_name="Otto", last_name="Else")
