"""Leads arriving unowned through web forms and imports are assigned by the rules."""

from __future__ import annotations

import pytest

from closeloop.activities.models import Notification
from closeloop.leads.assignment import RuleInput, assignment_rule_create
from closeloop.leads.models import Lead
from tests.factories import UserFactory
from tests.imports.conftest import _media_and_tasks, run_import  # noqa: F401 (fixtures)
from tests.webforms.conftest import submit, token, webform  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_a_web_form_lead_is_assigned_round_robin(submit, admin, team, rep, teammate):  # noqa: F811
    assignment_rule_create(actor=admin, data=RuleInput(name="Web", team=team))
    submit(last_name="Lovelace", email="ada@analytical.example")
    submit(last_name="Hopper", email="grace@navy.example")
    owners = list(Lead.objects.order_by("pk").values_list("owner", flat=True))
    assert owners == sorted([rep.pk, teammate.pk])


def test_an_import_assigns_its_unowned_leads_once_in_turn(run_import, admin, team, rep, teammate):  # noqa: F811
    third = UserFactory(full_name="Third Rep", teams=[team])
    assignment_rule_create(actor=admin, data=RuleInput(name="Imports", team=team))
    rows = "".join(f"Person{n},p{n}@x.example\n" for n in range(6))
    batch = run_import("Last Name,Email\n" + rows)
    assert batch.created_count == 6
    owners = list(Lead.objects.order_by("pk").values_list("owner", flat=True))
    order = sorted([rep.pk, teammate.pk, third.pk])
    assert owners == order * 2
    # one notification per rep for the whole import, not one per row
    assert Notification.objects.filter(recipient=rep).count() == 1
    assert Notification.objects.get(recipient=rep).title == "2 new leads assigned to you"


def test_a_dry_run_assigns_nothing(run_import, admin, team, rep):  # noqa: F811
    assignment_rule_create(actor=admin, data=RuleInput(name="Imports", team=team))
    run_import("Last Name,Email\nDry,dry@x.example\n", dry_run=True)
    assert not Lead.objects.filter(owner__isnull=False).exists()
