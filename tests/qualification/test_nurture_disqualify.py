"""Nurture returns on its date exactly once (task, worker and sweep); discard and reopen."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from closeloop.activities.models import Activity, Notification
from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import DisqualifyReason
from closeloop.leads.qualification import (
    lead_disqualify,
    lead_nurture,
    lead_nurture_return_due,
    lead_qualify,
    lead_reopen,
)
from closeloop.leads.tasks import lead_nurture_return_task
from tests.factories import default_pipeline
from tests.worker import run_worker

from .conftest import answer, fill_all

TODAY = timezone.localdate()


def _at(days: int) -> dt.datetime:
    """Noon, `days` from today: the time-travel destination."""
    return timezone.make_aware(dt.datetime.combine(TODAY + dt.timedelta(days=days), dt.time(12)))


def _travel(days: int):  # type: ignore[no-untyped-def]
    return mock.patch("django.utils.timezone.now", return_value=_at(days))


@pytest.fixture
def nurtured(lead, rep):  # type: ignore[no-untyped-def]
    answer(lead, "need")
    return lead_nurture(
        actor=rep, lead=lead, reason="Budget frozen until Q3", until=TODAY + dt.timedelta(days=10)
    )


def test_nurture_parks_the_lead_and_queues_its_return(nurtured, rep):
    assert nurtured.status == LeadStatus.NURTURING
    assert nurtured.outcome_by == rep and nurtured.nurture_reason == "Budget frozen until Q3"
    job = DBTaskResult.objects.get()
    assert job.task_path.endswith("lead_nurture_return_task")
    assert job.run_after.date() == TODAY + dt.timedelta(days=10)
    assert job.args_kwargs["kwargs"] == {"lead_id": nurtured.pk}


@pytest.mark.django_db(transaction=True)
def test_worker_returns_the_lead_on_its_date_exactly_once(nurtured, rep):
    with _travel(5):
        run_worker()  # not due yet: the job waits
    nurtured.refresh_from_db()
    assert nurtured.status == LeadStatus.NURTURING
    with _travel(10):
        run_worker()
        assert lead_nurture_return_due() == 0  # the sweep finds nothing left
        lead_nurture_return_task.call(lead_id=nurtured.pk)  # the job run a second time
        call_command("nurture_sweep")
    nurtured.refresh_from_db()
    assert nurtured.status == LeadStatus.NEW and nurtured.nurture_count == 1
    assert nurtured.nurture_returned_at == _at(10)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    note = Notification.objects.get(recipient=rep)
    assert "back from nurture" in note.title
    assert "Budget (unknown)" in note.body and "Need" not in note.body
    assert Activity.objects.filter(lead=nurtured, subject="Back from nurture").count() == 1


def test_sweep_alone_brings_back_a_lead_whose_job_was_lost(nurtured):
    DBTaskResult.objects.all().delete()
    assert lead_nurture_return_due(now=_at(9)) == 0
    assert lead_nurture_return_due(now=_at(11)) == 1
    assert lead_nurture_return_due(now=_at(12)) == 0
    nurtured.refresh_from_db()
    assert nurtured.status == LeadStatus.NEW and nurtured.nurture_count == 1


def test_renurtured_to_a_later_date_the_old_job_does_nothing(nurtured, rep):
    lead_reopen(actor=rep, lead=nurtured)
    lead_nurture(
        actor=rep,
        lead=nurtured,
        reason="Call after the summer",
        until=TODAY + dt.timedelta(days=30),
    )
    assert lead_nurture_return_due(now=_at(10)) == 0
    assert lead_nurture_return_due(now=_at(30)) == 1
    nurtured.refresh_from_db()
    assert nurtured.nurture_count == 1


def test_trashed_leads_never_come_back(nurtured, rep):
    from closeloop.leads.services import lead_trash

    lead_trash(actor=rep, lead=nurtured)
    assert lead_nurture_return_due(now=_at(10)) == 0
    assert not Notification.objects.exists()


def test_nurture_needs_a_reason_and_a_future_date(lead, rep):
    with pytest.raises(DomainError) as error:
        lead_nurture(actor=rep, lead=lead, reason="", until=TODAY + dt.timedelta(days=3))
    assert error.value.field == "reason"
    with pytest.raises(DomainError) as error:
        lead_nurture(actor=rep, lead=lead, reason="Later", until=TODAY)
    assert error.value.field == "until"


def test_remind_me_to_email_makes_a_task_for_the_owner_before_the_date(lead, manager, rep):
    lead_nurture(
        actor=manager,
        lead=lead,
        reason="Later",
        until=TODAY + dt.timedelta(days=20),
        remind_to_email=True,
        email_template_note="Send the case study",
    )
    task = Activity.objects.get(lead=lead, kind="task")
    assert task.owner == rep and task.done_at is None
    assert TODAY < timezone.localdate(task.due_at) < TODAY + dt.timedelta(days=20)
    assert task.body == "Send the case study"


def test_disqualify_with_reason_and_reopen(lead, rep):
    reason = DisqualifyReason.objects.get(name="No budget")
    lead_disqualify(actor=rep, lead=lead, reason=reason, note="Startup, no funding yet")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED and lead.disqualify_reason == reason
    assert lead.outcome_note == "Startup, no funding yet"
    with pytest.raises(DomainError):  # an outcome is final until reopened
        lead_nurture(actor=rep, lead=lead, reason="x", until=TODAY + dt.timedelta(days=2))
    lead_reopen(actor=rep, lead=lead)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.disqualify_reason is None
    subjects = list(Activity.objects.filter(lead=lead).values_list("subject", flat=True))
    assert "Discarded" in subjects and "Reopened" in subjects


def test_disqualify_reason_rules(lead, rep):
    other = DisqualifyReason.objects.get(name="Other")
    with pytest.raises(DomainError) as error:
        lead_disqualify(actor=rep, lead=lead, reason=other, note="")
    assert error.value.field == "note"
    retired = DisqualifyReason.objects.get(name="Spam")
    retired.is_active = False
    retired.save()
    with pytest.raises(DomainError) as error:
        lead_disqualify(actor=rep, lead=lead, reason=retired)
    assert error.value.field == "reason"


def test_rep_cannot_discard_another_reps_lead(others_lead, rep):
    with pytest.raises(DomainError):
        lead_disqualify(
            actor=rep, lead=others_lead, reason=DisqualifyReason.objects.get(name="Spam")
        )


def test_qualified_leads_cannot_be_reopened(lead, rep):
    fill_all(lead)
    lead_qualify(actor=rep, lead=lead, pipeline=default_pipeline())
    with pytest.raises(DomainError):
        lead_reopen(actor=rep, lead=lead)
