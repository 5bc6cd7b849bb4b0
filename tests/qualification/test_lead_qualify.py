"""lead_qualify: exactly one deal, contact and organization; links duplicates; override rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import LeadStatus
from closeloop.leads.qualification import lead_qualify
from closeloop.leads.services import lead_bulk_set_status
from closeloop.people.models import Contact, Organization
from closeloop.pipeline.models import Deal
from tests.factories import ContactEmailFactory, OrganizationFactory, default_pipeline, stage_named

from .conftest import answer, fill_all


def test_conversion_creates_exactly_one_deal_contact_and_organization(lead, rep):
    fill_all(lead)
    answer(
        lead,
        "budget",
        budget_min=Decimal("4000"),
        budget_max=Decimal("6000"),
        budget_currency="EUR",
    )
    deal = lead_qualify(actor=rep, lead=lead, pipeline=default_pipeline())
    assert Deal.objects.count() == 1 and Contact.objects.count() == 1
    assert Organization.objects.count() == 1
    assert deal.stage == default_pipeline().stages.order_by("position").first()
    assert deal.owner == rep and deal.lead == lead and deal.title == "Navy Labs"
    assert deal.value == Decimal("6000.00") and deal.currency == "EUR"
    contact = deal.contact
    assert contact.primary_email == "grace@navy.example"
    assert contact.phones.get().e164 == "+49301234567"
    assert contact.organization == deal.organization
    assert deal.organization.domain == "navy.example"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED and lead.outcome_by == rep
    assert lead.status_before_outcome == LeadStatus.NEW and lead.outcome_at is not None
    assert Activity.objects.filter(lead=lead, subject="Qualified").exists()
    with pytest.raises(DomainError):  # never a second deal
        lead_qualify(actor=rep, lead=lead, pipeline=default_pipeline())
    assert Deal.objects.count() == 1


def test_scorecard_attribution_consent_and_notes_arrive_on_the_deal(lead, rep):
    fill_all(lead)
    answer(lead, "authority", decision_maker="Admiral Rickover", contact_is_decision_maker=False)
    deal = lead_qualify(
        actor=rep,
        lead=lead,
        pipeline=default_pipeline(),
        stage=stage_named("Proposal"),
        title="Compiler licence",
        value=Decimal("1200"),
    )
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal" and deal.title == "Compiler licence"
    assert deal.value == Decimal("1200.00")
    assert deal.source.name == "Referral" and deal.campaign.name == "Spring fair"
    assert (
        deal.utm_source,
        deal.utm_medium,
        deal.utm_campaign,
        deal.utm_term,
        deal.utm_content,
    ) == ("newsletter", "email", "spring", "crm", "banner")
    note = Activity.objects.get(deal=deal, subject=f"From lead #{lead.pk}")
    assert "Score 100 / 100" in note.body
    assert "Authority: Yes — decides: Admiral Rickover; our contact does not decide" in note.body
    assert "Met at the spring fair." in note.body
    assert deal.contact.marketing_consent and deal.contact.consent_method == "web form checkbox"


def test_duplicate_contact_and_organization_are_linked_not_copied(lead, rep):
    fill_all(lead)
    org = OrganizationFactory(name="Navy Laboratories", domain="navy.example", owner=rep)
    existing = ContactEmailFactory(
        email="grace@navy.example", contact__owner=rep, contact__organization=org
    ).contact
    deal = lead_qualify(actor=rep, lead=lead, pipeline=default_pipeline())
    assert deal.contact == existing and deal.organization == org
    assert Contact.objects.count() == 1 and Organization.objects.count() == 1


def test_new_contact_is_refused_when_a_duplicate_exists(lead, rep):
    fill_all(lead)
    ContactEmailFactory(email="grace@navy.example", contact__owner=rep)
    with pytest.raises(DomainError) as error:
        lead_qualify(actor=rep, lead=lead, pipeline=default_pipeline(), contact="new")
    assert error.value.field == "contact" and "Link to it" in error.value.message
    assert Deal.objects.count() == 0
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_a_chosen_contact_and_organization_are_linked(lead, rep):
    fill_all(lead)
    org = OrganizationFactory(name="Elsewhere Inc", owner=rep)
    other = ContactEmailFactory(email="someone@else.example", contact__owner=rep).contact
    deal = lead_qualify(
        actor=rep, lead=lead, pipeline=default_pipeline(), contact=other, organization=org
    )
    assert deal.contact == other and deal.organization == org
    assert Contact.objects.count() == 1


def test_rep_cannot_qualify_below_threshold(lead, rep):
    answer(lead, "budget")
    with pytest.raises(DomainError) as error:
        lead_qualify(actor=rep, lead=lead, pipeline=default_pipeline(), override_reason="please")
    assert error.value.field == "override_reason" and "25" in error.value.message
    assert Deal.objects.count() == 0


def test_manager_override_needs_a_reason_which_is_recorded(lead, manager):
    with pytest.raises(DomainError) as error:
        lead_qualify(actor=manager, lead=lead, pipeline=default_pipeline(), override_reason="  ")
    assert error.value.field == "override_reason"
    assert Deal.objects.count() == 0
    deal = lead_qualify(
        actor=manager,
        lead=lead,
        pipeline=default_pipeline(),
        override_reason="CEO asked for a quote today",
    )
    lead.refresh_from_db()
    assert lead.override_reason == "CEO asked for a quote today"
    assert "CEO asked for a quote today" in Activity.objects.get(deal=deal, kind="note").body


def test_rep_cannot_qualify_another_reps_lead_manager_of_their_team_can(
    others_lead, rep, manager, admin
):
    fill_all(others_lead)
    with pytest.raises(DomainError):
        lead_qualify(actor=rep, lead=others_lead, pipeline=default_pipeline())
    with pytest.raises(DomainError):  # the outsider is not in the manager's team
        lead_qualify(actor=manager, lead=others_lead, pipeline=default_pipeline())
    deal = lead_qualify(actor=admin, lead=others_lead, pipeline=default_pipeline())
    assert deal.owner == others_lead.owner


def test_manager_can_qualify_a_team_reps_lead(lead, manager):
    fill_all(lead)
    deal = lead_qualify(actor=manager, lead=lead, pipeline=default_pipeline())
    assert deal.owner == lead.owner


def test_stage_must_belong_to_the_pipeline(lead, rep, admin):
    from closeloop.pipeline.services import pipeline_create

    fill_all(lead)
    other = pipeline_create(actor=admin, name="Partners")
    with pytest.raises(DomainError) as error:
        lead_qualify(actor=rep, lead=lead, pipeline=other, stage=stage_named("Proposal"))
    assert error.value.field == "stage"


def test_bulk_status_refuses_outcomes_and_leaves_closed_leads_alone(lead, rep):
    for outcome in (LeadStatus.QUALIFIED, LeadStatus.NURTURING, LeadStatus.DISQUALIFIED):
        with pytest.raises(DomainError):
            lead_bulk_set_status(actor=rep, lead_ids=[lead.pk], status=outcome)
    fill_all(lead)
    lead_qualify(actor=rep, lead=lead, pipeline=default_pipeline())
    assert lead_bulk_set_status(actor=rep, lead_ids=[lead.pk], status=LeadStatus.NEW) == 0
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED
