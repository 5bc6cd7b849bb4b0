"""Assignment rules: matching order, round-robin fairness, caps, and recorded reassignment."""

from __future__ import annotations

import pytest

from closeloop.accounts.choices import Role
from closeloop.activities.models import Activity, Notification
from closeloop.core.exceptions import DomainError
from closeloop.leads.assignment import (
    RuleInput,
    assignment_preview,
    assignment_rule_create,
    assignment_rule_reorder,
    lead_assign_auto,
    leads_assign_auto_bulk,
)
from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import AssignmentRule, Campaign, Lead, Source
from closeloop.leads.services import LeadInput, lead_bulk_assign, lead_create, lead_update
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def squad():
    team = TeamFactory(name="Inbound")
    reps = [UserFactory(full_name=f"Rep {n}", teams=[team]) for n in range(3)]
    boss = UserFactory(full_name="Boss", role=Role.MANAGER, teams=[team])
    return team, reps, boss


def new_lead(n: int = 0, **extra) -> Lead:
    return lead_create(actor=None, data=LeadInput(last_name=f"Lead {n}", **extra)).lead


def test_round_robin_is_fair_across_three_reps(squad, admin):
    team, reps, boss = squad
    assignment_rule_create(actor=admin, data=RuleInput(name="All", team=team))
    owners = [new_lead(n).owner for n in range(9)]
    assert owners == reps * 3  # in turn, each rep three times; the manager gets none
    assert boss not in owners


def test_round_robin_position_survives_between_calls(squad, admin):
    team, reps, _ = squad
    rule = assignment_rule_create(actor=admin, data=RuleInput(name="All", team=team))
    new_lead(1)
    rule.refresh_from_db()
    assert rule.last_assigned == reps[0]
    assert new_lead(2).owner == reps[1]


def test_reps_at_their_cap_are_skipped(squad, admin):
    team, reps, _ = squad
    Lead.objects.create(last_name="Old", owner=reps[0], status=LeadStatus.NEW)
    Lead.objects.create(last_name="Done", owner=reps[1], status=LeadStatus.QUALIFIED)
    assignment_rule_create(actor=admin, data=RuleInput(name="Capped", team=team, cap_per_rep=1))
    # rep 0 holds one open lead: at cap. rep 1's lead is an outcome, so not counted.
    assert [new_lead(n).owner for n in range(2)] == [reps[1], reps[2]]


def test_everyone_at_cap_leaves_lead_unassigned_and_tells_the_manager(squad, admin):
    team, reps, boss = squad
    for rep in reps:
        Lead.objects.create(last_name="Held", owner=rep, status=LeadStatus.CONTACTED)
    rule = assignment_rule_create(
        actor=admin, data=RuleInput(name="Capped", team=team, cap_per_rep=1)
    )
    lead = new_lead()
    assert lead.owner is None
    note = Notification.objects.get(recipient=boss)
    assert rule.name in note.title and "cap" in note.title
    assert not Notification.objects.filter(recipient__in=reps).exists()


def test_first_matching_rule_by_position_wins(squad, admin):
    team, reps, _ = squad
    specialist = UserFactory(full_name="Sam Specialist")
    referral = Source.objects.get(name="Referral")
    spring = Campaign.objects.create(name="Spring")
    assignment_rule_create(actor=admin, data=RuleInput(name="Catch-all", team=team))
    specific = assignment_rule_create(
        actor=admin,
        data=RuleInput(
            name="German referrals", source=referral, country="de", campaign=spring, user=specialist
        ),
    )
    # the catch-all is first, so it wins even for a matching lead
    assert new_lead(1, source=referral, country="DE", campaign=spring).owner == reps[0]
    assignment_rule_reorder(actor=admin, rule=specific, direction="up")
    assert new_lead(2, source=referral, country="DE", campaign=spring).owner == specialist
    # every condition must hold: a French referral falls through to the catch-all
    assert new_lead(3, source=referral, country="FR", campaign=spring).owner == reps[1]
    assert new_lead(4, source=referral, country="DE").owner == reps[2]


def test_inactive_rules_and_owned_leads_are_left_alone(squad, admin, rep):
    team, _, _ = squad
    assignment_rule_create(actor=admin, data=RuleInput(name="Off", team=team, is_active=False))
    assert new_lead(1).owner is None
    assignment_rule_create(actor=admin, data=RuleInput(name="On", team=team))
    assert new_lead(2, owner=rep).owner == rep


def test_auto_assignment_is_on_the_timeline_and_notifies_the_owner(squad, admin):
    team, reps, _ = squad
    assignment_rule_create(actor=admin, data=RuleInput(name="Inbound RR", team=team))
    lead = new_lead()
    entry = Activity.objects.get(lead=lead, subject="Lead assigned")
    assert entry.body == f"Assigned to {reps[0]} by rule “Inbound RR”"
    note = Notification.objects.get(recipient=reps[0])
    assert lead.full_name in note.title and note.url.endswith(f"/leads/{lead.pk}/")


def test_bulk_assignment_is_in_order_and_notifies_each_owner_once(squad, admin):
    team, reps, _ = squad
    assignment_rule_create(actor=admin, data=RuleInput(name="RR", team=team))
    leads = [Lead.objects.create(last_name=f"Imported {n}") for n in range(6)]
    assert leads_assign_auto_bulk([lead.pk for lead in leads]) == 6
    owners = [Lead.objects.get(pk=lead.pk).owner for lead in leads]
    assert owners == reps * 2
    for rep in reps:
        assert Notification.objects.get(recipient=rep).title == "2 new leads assigned to you"


def test_bulk_assignment_runs_a_fixed_number_of_queries(
    squad, admin, django_assert_max_num_queries
):
    team, _, _ = squad
    assignment_rule_create(actor=admin, data=RuleInput(name="RR", team=team))
    leads = [Lead.objects.create(last_name=f"Imported {n}") for n in range(30)]
    with django_assert_max_num_queries(20):
        leads_assign_auto_bulk([lead.pk for lead in leads])


def test_lead_assign_auto_keeps_an_existing_owner(squad, admin, rep):
    team, _, _ = squad
    assignment_rule_create(actor=admin, data=RuleInput(name="RR", team=team))
    lead = Lead.objects.create(last_name="Mine", owner=rep)
    assert lead_assign_auto(lead=lead) == rep


def test_preview_names_who_gets_the_next_lead(squad, admin):
    team, reps, _ = squad
    rule = assignment_rule_create(actor=admin, data=RuleInput(name="RR", team=team, cap_per_rep=1))
    assert assignment_preview(rules=[rule]) == {rule.pk: reps[0]}
    new_lead(1)
    assert assignment_preview(rules=[rule]) == {rule.pk: reps[1]}
    new_lead(2)
    new_lead(3)
    assert assignment_preview(rules=[rule]) == {rule.pk: None}


def test_manual_reassignment_is_recorded_and_notified(rep, teammate, manager):
    lead = Lead.objects.create(last_name="Moved", owner=rep)
    lead_update(actor=manager, lead=lead, data=LeadInput(last_name="Moved", owner=teammate))
    entry = Activity.objects.get(lead=lead, subject="Lead reassigned")
    assert entry.body == f"Reassigned from {rep} to {teammate} by {manager}"
    assert entry.actor == manager
    note = Notification.objects.get(recipient=teammate)
    assert str(manager) in note.title and lead.full_name in note.title


def test_bulk_reassignment_is_recorded_on_each_lead_and_notified_once(rep, teammate, manager):
    leads = [Lead.objects.create(last_name=f"L{n}", owner=rep) for n in range(3)]
    leads.append(Lead.objects.create(last_name="Already", owner=teammate))
    lead_bulk_assign(actor=manager, lead_ids=[lead.pk for lead in leads], owner=teammate)
    bodies = set(Activity.objects.filter(subject="Lead reassigned").values_list("body", flat=True))
    assert bodies == {f"Reassigned from {rep} to {teammate} by {manager}"}
    assert Activity.objects.filter(subject="Lead reassigned").count() == 3
    assert Notification.objects.get(recipient=teammate).title == f"{manager} assigned you 3 leads"


def test_only_managers_and_admins_manage_rules(team, rep, manager):
    with pytest.raises(DomainError, match="Only admins and managers"):
        assignment_rule_create(actor=rep, data=RuleInput(name="Mine", team=team))
    assert assignment_rule_create(actor=manager, data=RuleInput(name="Ok", team=team)).pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (RuleInput(name=""), "name"),
        (RuleInput(name="No target"), "team"),
        (RuleInput(name="Bad country", country="Germany"), "country"),
        (RuleInput(name="Zero cap", cap_per_rep=0), "cap_per_rep"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(admin, team, data, field):
    if field not in ("team",):
        data.team = team
    with pytest.raises(DomainError) as error:
        assignment_rule_create(actor=admin, data=data)
    assert error.value.field == field


def test_reorder_keeps_positions_unique(admin, team):
    rules = [
        assignment_rule_create(actor=admin, data=RuleInput(name=f"R{n}", team=team))
        for n in range(3)
    ]
    assignment_rule_reorder(actor=admin, rule=rules[2], direction="up")
    assignment_rule_reorder(actor=admin, rule=rules[0], direction="up")  # already first
    names = list(AssignmentRule.objects.values_list("name", flat=True))
    assert names == ["R0", "R2", "R1"]
    assert list(AssignmentRule.objects.values_list("position", flat=True)) == [1, 2, 3]


def test_a_capped_user_rule_without_a_team_warns_the_admins(admin):
    loner = UserFactory(full_name="Lone Wolf")
    Lead.objects.create(last_name="Held", owner=loner)
    assignment_rule_create(actor=admin, data=RuleInput(name="Solo", user=loner, cap_per_rep=1))
    assert new_lead().owner is None
    assert Notification.objects.get(recipient=admin).kind == "assignment_capped"
