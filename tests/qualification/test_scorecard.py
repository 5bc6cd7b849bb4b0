"""The score: weighted, partly counts half, custom criteria and weights, bulk recompute."""

from __future__ import annotations

import pytest

from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import CriterionStatus, LeadStatus
from closeloop.leads.models import QualificationCriterion
from closeloop.leads.qualification import (
    criterion_create,
    criterion_delete,
    criterion_update,
    disqualify_reason_create,
    lead_score_gaps,
    qualification_settings_update,
    scorecard_update,
)
from tests.leads_ui.conftest import LeadFactory

from .conftest import answer, criterion


def test_equal_weights_yes_and_partly(lead):
    answer(lead, "budget")
    assert lead.score == 25
    answer(lead, "need", CriterionStatus.PARTLY)
    assert lead.score == 38  # 25 + 12.5, halves round up
    answer(lead, "authority", CriterionStatus.NO)
    assert lead.score == 38
    assert [g.criterion.key for g in lead_score_gaps(lead)] == ["authority", "need", "timeline"]


def test_update_records_a_timeline_entry_with_the_score(lead, rep):
    scorecard_update(
        actor=rep,
        lead=lead,
        criterion=criterion("budget"),
        status="yes",
        budget_min=1000,
        budget_max=5000,
        budget_currency="eur",
    )
    entry = Activity.objects.filter(lead=lead, subject="Scorecard updated").get()
    assert "Budget: Unknown → Yes" in entry.body and "Score 0 → 25" in entry.body
    item = lead.scorecard.get()
    assert item.budget_currency == "EUR" and item.budget_max == 5000


def test_budget_range_must_be_ordered(lead, rep):
    with pytest.raises(DomainError) as error:
        scorecard_update(
            actor=rep,
            lead=lead,
            criterion=criterion("budget"),
            status="yes",
            budget_min=5000,
            budget_max=1000,
        )
    assert error.value.field == "budget_max"


def test_rep_cannot_score_another_reps_lead(others_lead, rep):
    with pytest.raises(DomainError):
        scorecard_update(actor=rep, lead=others_lead, criterion=criterion("need"), status="yes")


def test_custom_criterion_and_weights_recompute_open_leads(lead, admin):
    answer(lead, "budget")
    answer(lead, "need")
    assert lead.score == 50
    closed = LeadFactory(status=LeadStatus.DISQUALIFIED, score=7)
    custom = criterion_create(actor=admin, name="Fits our niche", weight=50)
    assert custom.key == "fits-our-niche" and not custom.is_builtin
    lead.refresh_from_db()
    assert lead.score == 33  # 50 of 150
    answer(lead, custom.key)
    assert lead.score == 67
    weights = {c.pk: 0 for c in QualificationCriterion.objects.all()}
    weights[criterion("budget").pk] = 10
    weights[criterion("timeline").pk] = 30
    qualification_settings_update(actor=admin, weights=weights, threshold=70)
    lead.refresh_from_db()
    assert lead.score == 25  # budget yes (10) of 40
    closed.refresh_from_db()
    assert closed.score == 7  # outcomes keep the score they ended with


def test_deactivating_a_criterion_drops_it_from_the_score(lead, admin):
    answer(lead, "budget")
    need = criterion("need")
    criterion_update(
        actor=admin, criterion=need, name="Need", question="", weight=25, is_active=False
    )
    lead.refresh_from_db()
    assert lead.score == 33
    assert "need" not in [g.criterion.key for g in lead_score_gaps(lead)]


def test_builtin_criteria_cannot_be_deleted_custom_ones_can(admin, lead):
    with pytest.raises(DomainError):
        criterion_delete(actor=admin, criterion=criterion("budget"))
    custom = criterion_create(actor=admin, name="Champion", weight=25)
    answer(lead, custom.key)
    assert lead.score == 20
    criterion_delete(actor=admin, criterion=custom)
    lead.refresh_from_db()
    assert lead.score == 0


def test_only_admins_change_the_scorecard(manager):
    with pytest.raises(DomainError):
        criterion_create(actor=manager, name="Champion")
    with pytest.raises(DomainError):
        disqualify_reason_create(actor=manager, name="Too small")


def test_some_weight_must_remain(admin):
    weights = {c.pk: 0 for c in QualificationCriterion.objects.all()}
    with pytest.raises(DomainError):
        qualification_settings_update(actor=admin, weights=weights, threshold=60)
    assert QualificationCriterion.objects.filter(weight=25).count() == 4
