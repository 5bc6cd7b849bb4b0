"""Surveys: settings rules, the invite email and its signed link, answering, the 7-day change
window, the detractor task and the promoter thank-you (through a real SMTP server)."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from closeloop.activities.models import Activity, Notification
from closeloop.aftersales.models import FollowUpPlan, PlanStep, PlanStepTemplate, PlanTemplate
from closeloop.aftersales.plans import plan_step_run
from closeloop.aftersales.referrals import referral_contact, referral_url
from closeloop.aftersales.surveys import (
    SALT,
    LinkExpired,
    LinkInvalid,
    SurveyClosed,
    invite_from_token,
    invite_token,
    invite_url,
    is_detractor,
    is_promoter,
    survey_answer,
    survey_invite_send,
    survey_save,
)
from closeloop.core.exceptions import DomainError
from closeloop.messaging.models import Message
from tests.factories import ContactFactory
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def test_detractor_and_promoter_bands() -> None:
    assert [s for s in range(11) if is_detractor("nps", s)] == [0, 1, 2, 3, 4, 5, 6]
    assert [s for s in range(11) if is_promoter("nps", s)] == [9, 10]
    assert [s for s in range(1, 6) if is_detractor("csat", s)] == [1, 2]
    assert [s for s in range(1, 6) if is_promoter("csat", s)] == [5]


def test_settings_rules(admin, rep, nps_survey) -> None:
    base = dict(
        name="X", kind="nps", question="Q?", comment_label="", email_subject="S",
        email_body="B",
    )  # fmt: skip
    with pytest.raises(DomainError, match="Only admins and managers"):
        survey_save(actor=rep, questions=[], **base)
    six = [{"label": f"Q{n}", "kind": "text"} for n in range(6)]
    with pytest.raises(DomainError, match="at most 5 extra questions"):
        survey_save(actor=admin, questions=six, **base)
    with pytest.raises(DomainError, match="Unknown merge field"):
        survey_save(actor=admin, questions=[], **{**base, "email_body": "{{ deal.nope }}"})
    with pytest.raises(DomainError, match="exists already"):
        survey_save(actor=admin, questions=[], **{**base, "name": "after purchase nps"})
    assert nps_survey.questions == [
        {"key": "q1", "label": "Was the delivery on time?", "kind": "yesno"},
        {"key": "q2", "label": "How easy was ordering?", "kind": "scale"},
    ]


@time_machine.travel(T0, tick=False)  # the token carries its signing time
def test_invite_queues_a_personal_email_with_a_signed_link(rep, bakery_deal, nps_survey) -> None:
    invite = survey_invite_send(
        actor=rep, survey=nps_survey, contact=bakery_deal.contact, deal=bakery_deal
    )
    message = invite.message
    assert invite.owner == rep and invite.email == "lena@bakery.example"
    assert message.to == ["lena@bakery.example"] and not message.marketing
    assert message.subject == "How did we do, Lena?"
    url = invite_url(invite)
    assert url.endswith(f"/s/{invite_token(invite)}/")
    assert message.text_body == (
        f"Hello Lena,\n\nplease tell us how we did on New website:\n\n{url}"
    )
    assert f'href="{url}"' in message.html_body
    assert invite_from_token(invite_token(invite)) == invite
    # the email is on the customer's timeline
    assert Activity.objects.filter(kind="email", deal=bakery_deal, contact=invite.contact).exists()


def test_a_contact_without_email_cannot_be_asked(rep, nps_survey) -> None:
    with pytest.raises(DomainError, match="has no email address"):
        survey_invite_send(actor=rep, survey=nps_survey, contact=ContactFactory(owner=rep))


def test_tampered_foreign_and_expired_tokens(rep, bakery_deal, csat_survey) -> None:
    with time_machine.travel(T0, tick=False):
        invite = survey_invite_send(actor=rep, survey=csat_survey, contact=bakery_deal.contact)
        token = invite_token(invite)
    with time_machine.travel(T0 + dt.timedelta(days=29), tick=False):
        assert invite_from_token(token) == invite
        for bad in (token[:-2] + "xx", "", "abc", signing.dumps({"i": invite.pk}, salt="other")):
            with pytest.raises(LinkInvalid):
                invite_from_token(bad)
        with pytest.raises(LinkInvalid):  # genuine signature, no such invite
            invite_from_token(signing.dumps({"i": invite.pk + 99}, salt=SALT, compress=True))
    expired = time_machine.travel(T0 + dt.timedelta(days=30, seconds=1), tick=False)
    with expired, pytest.raises(LinkExpired):
        invite_from_token(token)


def _invite(rep: Any, deal: Any, survey: Any) -> Any:
    return survey_invite_send(actor=rep, survey=survey, contact=deal.contact, deal=deal)


def test_detractor_gets_one_service_task_and_a_notification(rep, bakery_deal, nps_survey) -> None:
    invite = _invite(rep, bakery_deal, nps_survey)
    response = survey_answer(
        invite=invite, score="3", comment="Late and buggy", answers={"q1": "no", "q2": "2"}
    )
    task = response.service_task
    assert task.kind == "task" and task.owner == rep and task.done_at is None
    assert task.subject == "Unhappy customer: call Lena Lind"
    assert task.deal == bakery_deal and task.contact == bakery_deal.contact
    assert task.body == (
        "How likely are you to recommend us? 3 of 10\nWas the delivery on time? no\n"
        "How easy was ordering? 2\nComment: Late and buggy"
    )
    note = Notification.objects.get(recipient=rep, kind="survey_detractor")
    assert note.title == "Lena Lind is unhappy: After purchase NPS score 3"
    assert note.url == f"/deals/{bakery_deal.pk}/"
    # a change is judged again, but never makes a second task
    survey_answer(invite=invite, score="1")
    survey_answer(invite=invite, score="6")
    assert Activity.objects.filter(kind="task").count() == 1
    assert Notification.objects.filter(kind="survey_detractor").count() == 1
    subjects = list(
        Activity.objects.filter(kind="note", deal=bakery_deal)
        .order_by("pk")
        .values_list("subject", flat=True)
    )
    assert subjects == [
        "NPS survey answered: 3",
        "NPS survey answer changed: 3 → 1",
        "NPS survey answer changed: 1 → 6",
    ]


def test_answers_are_checked(rep, bakery_deal, nps_survey, csat_survey) -> None:
    nps = _invite(rep, bakery_deal, nps_survey)
    for score in ("11", "-1", "", "7.5", "x"):
        with pytest.raises(DomainError, match="from 0 to 10"):
            survey_answer(invite=nps, score=score)
    with pytest.raises(DomainError, match="yes or no"):
        survey_answer(invite=nps, score="8", answers={"q1": "maybe"})
    with pytest.raises(DomainError, match="from 1 to 5"):
        survey_answer(invite=nps, score="8", answers={"q2": "9"})
    csat = _invite(rep, bakery_deal, csat_survey)
    with pytest.raises(DomainError, match="from 1 to 5"):
        survey_answer(invite=csat, score="0")
    assert survey_answer(invite=csat, score="3").service_task is None  # neutral: no task


def test_the_answer_can_be_changed_for_seven_days(rep, bakery_deal, csat_survey) -> None:
    with time_machine.travel(T0, tick=False):
        invite = _invite(rep, bakery_deal, csat_survey)
        survey_answer(invite=invite, score="4")
    with time_machine.travel(T0 + dt.timedelta(days=6, hours=23), tick=False):
        changed = survey_answer(invite=invite, score="2", comment="Actually not great")
        assert changed.answered_at == T0 and changed.changed_at == timezone.now()
    closed = time_machine.travel(T0 + dt.timedelta(days=7), tick=False)
    with closed, pytest.raises(SurveyClosed, match="can no longer be changed"):
        survey_answer(invite=invite, score="5")
    invite.response.refresh_from_db()
    assert invite.response.score == 2


@pytest.fixture
def defaults_first(transactional_db: None) -> None:
    """A transactional test starts from an emptied database: pipelines before the deal."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()


@pytest.mark.django_db(transaction=True)  # the outbox hands messages on after commit
def test_promoter_gets_one_thank_you_with_their_referral_link(
    defaults_first, rep, bakery_deal, nps_survey, smtp_server
) -> None:
    invite = _invite(rep, bakery_deal, nps_survey)
    response = survey_answer(invite=invite, score="10", comment="Great!")
    assert response.thanked_at is not None and response.service_task is None
    survey_answer(invite=invite, score="9")  # still a promoter: no second thank-you
    survey_answer(invite=invite, score="5")  # a detractor now: a task, the thank-you stays one
    run_worker()
    received = [
        email.message_from_bytes(e.content, policy=policy.default)
        for e in smtp_server.recorder.envelopes
    ]
    assert [m["Subject"] for m in received] == [
        "How did we do, Lena?",
        "Thank you for your answer",
    ]
    thanks = received[1]
    assert thanks["To"] == "lena@bakery.example"
    assert thanks["Reply-To"] == "rep@example.com"
    text = thanks.get_body(("plain",)).get_content().replace("\r\n", "\n")
    # the link is signed with its time, so compare what it leads to, not its text
    found = re.search(r"This is your personal link to pass on:\n\n(\S+)\n", text)
    prefix = referral_url(bakery_deal.contact).rsplit("/r/", 1)[0]
    assert found and found.group(1).startswith(f"{prefix}/r/")
    assert referral_contact(found.group(1).split("/r/")[1].rstrip("/")) == bakery_deal.contact
    assert text.startswith("Hello Lena,")
    assert Message.objects.filter(subject="Thank you for your answer").count() == 1
    assert Activity.objects.filter(kind="task").count() == 1


def test_csat_five_is_thanked(rep, bakery_deal, csat_survey) -> None:
    invite = _invite(rep, bakery_deal, csat_survey)
    assert survey_answer(invite=invite, score="5").thanked_at is not None


@time_machine.travel(T0, tick=False)
def test_survey_step_of_a_follow_up_plan(rep, bakery_deal, csat_survey) -> None:
    template = PlanTemplate.objects.create(name="After a sale")
    step_template = PlanStepTemplate.objects.create(
        plan=template, kind="survey", title="Ask", survey=csat_survey, offset_days=14
    )
    plan = FollowUpPlan.objects.create(
        template=template, name="After a sale", deal=bakery_deal, owner=rep, won_at=T0,
        contact=bakery_deal.contact, organization=bakery_deal.organization,
    )  # fmt: skip
    step = PlanStep.objects.create(
        plan=plan, template=step_template, kind="survey", title="Ask", due_at=T0
    )
    assert plan_step_run(step_id=step.pk) == "done"  # through the plans' runner registry
    step.refresh_from_db()
    invite = step.survey_invite
    assert step.result == f"Survey sent to {invite.email}" and step.message == invite.message
    assert invite.deal == bakery_deal and invite.owner == rep and invite.sent_by is None
    assert invite.message.text_body.startswith(f"Please answer here: {invite_url(invite)}\n")
