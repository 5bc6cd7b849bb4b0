"""Leads arriving at the same moment still go round the team in turn (the rule row is locked)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from closeloop.activities.models import Activity
from closeloop.leads import assignment
from closeloop.leads.assignment import RuleInput, assignment_rule_create, lead_assign_auto
from closeloop.leads.models import Lead
from tests.factories import TeamFactory, UserFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_are_fair(monkeypatch):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("in-memory SQLite shares one cache between threads; run on PostgreSQL")
    team = TeamFactory(name="Rush")
    reps = [UserFactory(full_name=f"Rep {n}", teams=[team]) for n in range(3)]
    admin = UserFactory(role="admin")
    assignment_rule_create(actor=admin, data=RuleInput(name="Rush", team=team))
    leads = [Lead.objects.create(last_name=f"Rush {n}") for n in range(12)]
    load_pool = assignment._load_pool

    def slow_load_pool(rules):  # widen the window between reading the rule and writing it
        time.sleep(0.05)
        return load_pool(rules)

    monkeypatch.setattr(assignment, "_load_pool", slow_load_pool)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work(mine: list[Lead]) -> None:
        try:
            start.wait()
            for lead in mine:
                lead_assign_auto(lead=lead)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(leads[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # in the order the assignments happened, the reps take strict turns: nobody was served twice
    # because two runs read the same round-robin position
    served = list(
        Activity.objects.filter(subject="Lead assigned")
        .order_by("pk")
        .values_list("lead__owner", flat=True)
    )
    assert served == [rep.pk for rep in reps] * 4
