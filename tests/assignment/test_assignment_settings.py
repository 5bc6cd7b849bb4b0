"""Settings › Assignment rules through the HTTP client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from closeloop.leads.models import AssignmentRule, Lead, Source
from closeloop.leads.services import LeadInput, lead_create

pytestmark = pytest.mark.django_db

RULES = reverse("settings:assignment_rules")
CREATE = reverse("settings:assignment_rule_create")


def test_manager_adds_a_rule_and_sees_who_gets_the_next_lead(manager_client, team, rep, teammate):
    referral = Source.objects.get(name="Referral")
    response = manager_client.post(
        CREATE,
        {"name": "Referrals", "source": referral.pk, "country": "de", "team": team.pk,
         "cap_per_rep": "5", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    assert (rule.source, rule.country, rule.team, rule.cap_per_rep) == (referral, "DE", team, 5)
    html = manager_client.get(RULES).content.decode()
    first = min(rep, teammate, key=lambda u: u.pk)
    assert "Referrals" in html and str(first) in html
    lead = lead_create(
        actor=None, data=LeadInput(last_name="Kunde", source=referral, country="DE")
    ).lead
    assert lead.owner == first


def test_a_rule_without_team_or_user_is_refused_on_the_form(manager_client):
    response = manager_client.post(CREATE, {"name": "Nobody", "is_active": "on"})
    assert response.status_code == 200
    assert "Choose either a team (round-robin) or one user." in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_edit_switch_off_move_and_delete(admin_client_, team, rep):
    admin_client_.post(CREATE, {"name": "First", "team": team.pk, "is_active": "on"})
    admin_client_.post(CREATE, {"name": "Second", "user": rep.pk, "is_active": "on"})
    first, second = AssignmentRule.objects.order_by("position")
    edit = reverse("settings:assignment_rule_edit", args=[first.pk])
    assert admin_client_.get(edit).status_code == 200
    admin_client_.post(
        edit, {"name": "Renamed", "team": team.pk, "cap_per_rep": "2", "is_active": "on"}
    )
    first.refresh_from_db()
    assert (first.name, first.cap_per_rep) == ("Renamed", 2)

    admin_client_.post(
        reverse("settings:assignment_rule_move", args=[second.pk]), {"direction": "up"}
    )
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Second", "Renamed"]

    admin_client_.post(
        reverse("settings:assignment_rule_toggle", args=[second.pk]), {"is_active": "false"}
    )
    second.refresh_from_db()
    assert not second.is_active
    assert "(off)" in admin_client_.get(RULES).content.decode()

    admin_client_.post(reverse("settings:assignment_rule_delete", args=[second.pk]))
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Renamed"]


def test_reps_cannot_open_or_change_the_rules(rep_client, team):
    assert rep_client.get(RULES).status_code == 403
    assert rep_client.post(CREATE, {"name": "Mine", "team": team.pk}).status_code == 403
    assert not AssignmentRule.objects.exists()


def test_settings_tab_links_the_page(manager_client):
    html = manager_client.get(reverse("settings:lost_reasons")).content.decode()
    assert RULES in html


def test_unowned_web_leads_follow_the_rules(manager_client, team, rep):
    manager_client.post(CREATE, {"name": "Everyone", "user": rep.pk, "is_active": "on"})
    lead = lead_create(actor=None, data=LeadInput(email="web@example.org")).lead
    assert Lead.objects.get(pk=lead.pk).owner == rep
