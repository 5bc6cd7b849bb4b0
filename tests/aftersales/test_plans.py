"""Follow-up plans run: started by a win, each step once on its day, through the real worker."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from closeloop.activities.models import Activity
from closeloop.aftersales import plans as plan_services
from closeloop.aftersales.models import Coupon, FollowUpPlan, PlanStep
from closeloop.aftersales.plan_tasks import plan_step_run_task
from closeloop.aftersales.plans import (
    STEP_RUNNERS,
    StepInput,
    plan_cancel,
    plan_delivery_set,
    plan_step_run,
    plan_step_skip,
    plan_step_template_add,
    plan_steps_run_due,
    plan_template_create,
    plan_template_set_active,
)
from closeloop.core.exceptions import DomainError
from closeloop.messaging.consent import suppression_add
from closeloop.messaging.models import Message
from closeloop.pipeline.services import deal_mark_won, deal_reopen
from closeloop.proposals.models import LineItem, Product, Proposal
from tests.worker import run_worker

from .plan_setup import T0, at, email_templates, welcome_plan


@pytest.fixture(autouse=True)
def _defaults(db: None) -> None:
    """A transactional test starts from a flushed database: put the default pipeline back (a
    serialized rollback would clash with the content types Django recreates after a flush)."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()


def _states(plan: FollowUpPlan) -> list[str]:
    return list(plan.steps.order_by("position").values_list("state", flat=True))


def _tasks(deal) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        Activity.objects.filter(deal=deal, kind="task")
        .order_by("pk")
        .values_list("subject", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_time_travel_from_the_win_to_the_last_step(admin, rep, bakery_deal, smtp_server):
    welcome_plan(admin)
    bakery_deal.contact.marketing_consent = True  # the offer (step 4) is marketing
    bakery_deal.contact.save()
    with at(0):
        deal_mark_won(actor=rep, deal=bakery_deal)
        plan = FollowUpPlan.objects.get()
        assert plan.won_at == T0 and plan.owner == rep and plan.contact == bakery_deal.contact
        due = list(plan.steps.order_by("position").values_list("due_at", flat=True))
        assert due == [
            T0,
            T0 + dt.timedelta(days=3),
            T0 + dt.timedelta(days=14),
            T0 + dt.timedelta(days=30),
            None,
        ]
        # one delayed job per dated step, waiting for its day
        jobs = DBTaskResult.objects.filter(task_path__endswith="plan_step_run_task")
        assert sorted(j.run_after for j in jobs) == due[:4]
        run_worker()
    assert _states(plan) == ["done", "pending", "pending", "pending", "pending"]
    task = Activity.objects.get(deal=bakery_deal, kind="task")
    assert (task.subject, task.body, task.owner, task.due_at) == (
        "Call to say thanks",
        "Ask how the launch went.",
        rep,
        T0,
    )
    with at(2.99):
        run_worker()
    assert _states(plan)[1] == "pending" and smtp_server.recorder.messages() == []
    with at(3):
        run_worker()
    [thanks] = smtp_server.recorder.messages()
    assert thanks["Subject"] == "Thank you, Lena" and thanks["To"] == "lena@bakery.example"
    assert "Hello Lena, thank you for New website." in thanks.get_body(("plain",)).get_content()
    assert thanks["Reply-To"] == "rep@example.com"
    with at(14):
        run_worker()
    loyalty = Coupon.objects.get(origin="plan", kind="percent")
    assert loyalty.value == Decimal("10.00") and loyalty.contact == bakery_deal.contact
    assert loyalty.expires_at == T0 + dt.timedelta(days=44)
    assert plan.steps.get(position=3).result == (
        f"Coupon {loyalty.code}: 10.00 % off, valid until 2026-04-15"
    )
    with at(30):
        run_worker()
    gift = Coupon.objects.get(origin="plan", kind="amount")
    assert (gift.value, gift.currency) == (Decimal("50.00"), "EUR")
    offer = smtp_server.recorder.messages()[1]
    assert offer["Subject"] == "A gift for Bakery Lind"
    body = offer.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith(f"Your code: {gift.code}\n\n--\nNo more emails like this: ")
    unsubscribe = str(offer["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith("<http") and "/u/" in unsubscribe
    assert offer["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert _states(plan) == ["done", "done", "done", "done", "pending"]
    plan.refresh_from_db()
    assert plan.state == "running"  # the delivery step still waits for its date
    with at(31):
        plan_delivery_set(actor=rep, plan=plan, date=dt.date(2026, 4, 10))
    last = plan.steps.get(position=5)
    assert last.due_at == timezone.make_aware(dt.datetime(2026, 4, 12, 9, 0))
    with at(31):
        run_worker()
    assert last.__class__.objects.get(pk=last.pk).state == "pending"
    with time_travel_to(last.due_at):
        run_worker()
    assert _states(plan) == ["done"] * 5
    plan.refresh_from_db()
    assert plan.state == "done"
    assert _tasks(bakery_deal) == ["Call to say thanks", "Check the installation"]
    assert len(smtp_server.recorder.messages()) == 2
    # every job ended well, and none ran a step twice
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def time_travel_to(when: dt.datetime):  # type: ignore[no-untyped-def]
    return at((when - T0).total_seconds() / 86400)


@pytest.fixture
def won(admin, rep, bakery_deal):  # type: ignore[no-untyped-def]
    welcome_plan(admin)
    with at(0):
        deal_mark_won(actor=rep, deal=bakery_deal)
    return FollowUpPlan.objects.get()


@pytest.mark.django_db
def test_a_crash_after_the_effect_rolls_it_back_and_the_rerun_does_it_once(won, monkeypatch):
    step = won.steps.get(position=1)
    real = STEP_RUNNERS["task"]

    def crashing(step):  # type: ignore[no-untyped-def]
        real(step)  # the task is written…
        raise RuntimeError("worker killed")  # …and the process dies before the step is marked

    monkeypatch.setitem(STEP_RUNNERS, "task", crashing)
    with at(0), pytest.raises(RuntimeError):
        plan_step_run(step_id=step.pk)
    assert Activity.objects.filter(kind="task").count() == 0
    step.refresh_from_db()
    assert (step.state, step.ran_at, step.activity) == ("pending", None, None)
    monkeypatch.setitem(STEP_RUNNERS, "task", real)
    with at(0):
        assert plan_step_run(step_id=step.pk) == "done"
        assert plan_step_run(step_id=step.pk) == "done"  # a duplicated job
        assert plan_steps_run_due() == 0  # the sweep finds nothing due
    assert _tasks(won.deal) == ["Call to say thanks"]


@pytest.mark.django_db
def test_a_retried_task_does_nothing(won):
    coupon_step = won.steps.get(position=3)
    with at(14):
        assert plan_step_run_task.call(step_id=coupon_step.pk) == {"state": "done"}
        assert plan_step_run_task.call(step_id=coupon_step.pk) == {"state": "done"}
    assert Coupon.objects.count() == 1
    assert Activity.objects.filter(subject__startswith="Coupon ", kind="change").count() == 1


@pytest.mark.django_db
def test_a_step_runs_only_when_due_and_the_sweep_runs_what_is_due(won):
    with at(2):
        assert plan_step_run(step_id=won.steps.get(position=2).pk) == "pending"
        assert plan_steps_run_due() == 1  # only day 0's task
    with at(20):
        assert plan_steps_run_due() == 2  # the email and the coupon
    assert _states(won) == ["done", "done", "done", "pending", "pending"]
    assert Message.objects.get().subject == "Thank you, Lena"


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_plan_sends_nothing_even_from_queued_jobs(won, rep, smtp_server):
    with at(0):
        run_worker()
    assert DBTaskResult.objects.filter(status="READY").count() == 3  # days 3, 14 and 30
    with at(1):
        plan_cancel(actor=rep, plan=won)
    with at(40):
        run_worker()
        assert plan_steps_run_due() == 0
    assert smtp_server.recorder.messages() == [] and Message.objects.count() == 0
    assert Coupon.objects.count() == 0
    assert _states(won) == ["done", "cancelled", "cancelled", "cancelled", "cancelled"]
    won.refresh_from_db()
    assert won.state == "cancelled" and won.cancelled_by == rep
    with pytest.raises(DomainError, match="cancelled already"):
        plan_cancel(actor=rep, plan=won)


@pytest.mark.django_db
def test_a_skipped_step_does_not_run_and_the_rest_goes_on(won, rep):
    email_step = won.steps.get(position=2)
    plan_step_skip(actor=rep, step=email_step)
    with at(20):
        assert plan_steps_run_due() == 2
    assert _states(won) == ["done", "skipped", "done", "pending", "pending"]
    assert Message.objects.count() == 0
    email_step.refresh_from_db()
    assert email_step.result == "Skipped by Rita Rep"
    with pytest.raises(DomainError, match="is skipped already"):
        plan_step_skip(actor=rep, step=email_step)


@pytest.mark.django_db
def test_refused_effects_fail_the_step_with_the_reason(won, rep, bakery_deal):
    bakery_deal.contact.marketing_consent = True
    bakery_deal.contact.save()
    suppression_add(email="lena@bakery.example", reason="unsubscribed", source="test")
    with at(30):
        plan_steps_run_due()
    states = dict(won.steps.values_list("position", "state"))
    assert states == {1: "done", 2: "done", 3: "done", 4: "failed", 5: "pending"}
    offer = won.steps.get(position=4)
    assert offer.result == "lena@bakery.example asked for no marketing email."
    assert offer.coupon is None and offer.message is None
    assert Coupon.objects.count() == 1  # the offer's coupon went with its refusal


@pytest.mark.django_db
def test_a_survey_step_without_the_surveys_part_fails_clearly(admin, rep, bakery_deal, monkeypatch):
    from closeloop.aftersales.models import Survey

    monkeypatch.delitem(STEP_RUNNERS, "survey", raising=False)
    survey = Survey.objects.create(
        name="How did we do",
        kind="nps",
        question="Would you recommend us?",
        email_subject="Two minutes?",
        email_body="Tell us.",
    )
    template = plan_template_create(actor=admin, name="Ask", pipeline=bakery_deal.pipeline)
    plan_step_template_add(
        actor=admin, template=template, step=StepInput(kind="survey", title="NPS", survey=survey)
    )
    deal_mark_won(actor=rep, deal=bakery_deal)
    step = PlanStep.objects.get()
    assert plan_step_run(step_id=step.pk) == "failed"
    step.refresh_from_db()
    assert step.result == (
        "Steps of the kind “Satisfaction survey” cannot run: that part of Closeloop is not "
        "installed."
    )
    step.plan.refresh_from_db()
    assert step.plan.state == "done"  # nothing is left to wait for


@pytest.mark.django_db
def test_a_registered_runner_runs_its_kind(admin, rep, bakery_deal, monkeypatch):
    from closeloop.aftersales.models import Survey

    seen = []
    monkeypatch.setitem(STEP_RUNNERS, "survey", lambda step: seen.append(step.pk) or "Survey sent")
    survey = Survey.objects.create(
        name="CSAT", kind="csat", question="Happy?", email_subject="?", email_body="."
    )
    template = plan_template_create(actor=admin, name="Ask", pipeline=bakery_deal.pipeline)
    plan_step_template_add(
        actor=admin, template=template, step=StepInput(kind="survey", title="CSAT", survey=survey)
    )
    deal_mark_won(actor=rep, deal=bakery_deal)
    step = PlanStep.objects.get()
    assert plan_step_run(step_id=step.pk) == "done" and seen == [step.pk]
    step.refresh_from_db()
    assert step.result == "Survey sent"


@pytest.mark.django_db
def test_plans_start_for_the_pipeline_and_the_products_sold_once_per_deal(admin, rep, bakery_deal):
    oven = Product.objects.create(name="Oven", unit_price=Decimal("100"), currency="EUR")
    stand = Product.objects.create(name="Stand", unit_price=Decimal("10"), currency="EUR")
    pipeline_plan = plan_template_create(
        actor=admin, name="Everyone", pipeline=bakery_deal.pipeline
    )
    oven_plan = plan_template_create(actor=admin, name="Oven care", product=oven)
    plan_template_create(actor=admin, name="Stand care", product=stand)
    off = plan_template_create(actor=admin, name="Old", pipeline=bakery_deal.pipeline)
    plan_template_set_active(actor=admin, template=off, is_active=False)
    accepted = Proposal.objects.create(
        deal=bakery_deal, title="A", currency="EUR", status="accepted"
    )
    LineItem.objects.create(proposal=accepted, product=oven, name="Oven")
    latest = Proposal.objects.create(deal=bakery_deal, title="B", currency="EUR")
    LineItem.objects.create(proposal=latest, product=stand, name="Stand")  # not accepted
    deal = deal_mark_won(actor=rep, deal=bakery_deal)
    started = set(FollowUpPlan.objects.values_list("template", flat=True))
    assert started == {pipeline_plan.pk, oven_plan.pk}
    assert Activity.objects.get(deal=deal, subject__startswith="Follow-up started").subject == (
        "Follow-up started: Everyone, Oven care"
    )
    deal = deal_reopen(actor=rep, deal=deal)
    deal_mark_won(actor=rep, deal=deal)
    assert FollowUpPlan.objects.count() == 2  # not again for the same deal and template


@pytest.mark.django_db
def test_without_an_accepted_proposal_the_latest_decides(admin, rep, bakery_deal):
    stand = Product.objects.create(name="Stand", unit_price=Decimal("10"), currency="EUR")
    plan_template_create(actor=admin, name="Stand care", product=stand)
    older = Proposal.objects.create(deal=bakery_deal, title="A", currency="EUR", status="sent")
    older.created_at = timezone.now() - dt.timedelta(days=2)
    older.save()
    latest = Proposal.objects.create(deal=bakery_deal, title="B", currency="EUR")
    LineItem.objects.create(proposal=latest, product=stand, name="Stand")
    deal_mark_won(actor=rep, deal=bakery_deal)
    assert FollowUpPlan.objects.get().name == "Stand care"


@pytest.mark.django_db
def test_delivery_date_needs_a_visible_running_plan(won, outsider, rep):
    with pytest.raises(DomainError, match="does not exist or is not visible"):
        plan_delivery_set(actor=outsider, plan=won, date=dt.date(2026, 4, 1))
    plan_cancel(actor=rep, plan=won)
    with pytest.raises(DomainError, match="no longer running"):
        plan_delivery_set(actor=rep, plan=won, date=dt.date(2026, 4, 1))


@pytest.mark.django_db
def test_an_email_step_to_a_contact_without_address_fails(admin, rep, bakery_deal):
    bakery_deal.contact.emails.all().delete()
    thanks, _ = email_templates()
    template = plan_template_create(actor=admin, name="Mail", pipeline=bakery_deal.pipeline)
    plan_step_template_add(
        actor=admin,
        template=template,
        step=StepInput(kind="email", title="Thanks", email_template=thanks),
    )
    deal_mark_won(actor=rep, deal=bakery_deal)
    step = PlanStep.objects.get()
    assert plan_step_run(step_id=step.pk) == "failed"
    step.refresh_from_db()
    assert step.result == "Lena Lind has no email address."
    assert plan_services.STEP_RUNNERS is STEP_RUNNERS


@pytest.mark.django_db
def test_an_offer_goes_only_to_a_customer_who_agreed_to_marketing(won, bakery_deal):
    assert not bakery_deal.contact.marketing_consent
    with at(30):
        plan_steps_run_due()
    offer = won.steps.get(position=4)
    assert offer.state == "failed" and offer.message is None
    assert offer.result == (
        "lena@bakery.example has not agreed to marketing email, so no offer was sent."
    )
