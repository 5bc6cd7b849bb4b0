"""Running plans: started by a win, each step run once by the worker, skipped or cancelled by hand.

Why a step runs exactly once: `plan_step_run` locks the step row, checks it still waits and is
due, writes its effect (a task, an outbox message, a coupon, a survey invite — all rows) and
marks it done, in one transaction. A crash in between rolls all of it back and the step waits
again; a retried or duplicated job, or the sweep, then finds it done (or cancelled) and does
nothing. Emails leave through the outbox, whose own job is enqueued only on commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from closeloop.accounts.visibility import lock_visible
from closeloop.activities.choices import ActivityKind
from closeloop.activities.services import activity_create, activity_schedule
from closeloop.core.exceptions import DomainError
from closeloop.messaging.merge import (
    MERGE_FIELDS,
    merge_context_for,
    merge_field_register,
    merge_render_email,
)
from closeloop.messaging.services import message_queue
from closeloop.pipeline.models import Deal
from closeloop.proposals.choices import ProposalStatus
from closeloop.proposals.models import LineItem, Proposal

from ..choices import CouponKind, CouponOrigin, PlanAnchor, PlanState, StepKind, StepState
from ..coupons import coupon_issue
from ..mailings import UNSUBSCRIBE_FIELD, with_unsubscribe
from ..models import FollowUpPlan, PlanStep, PlanTemplate
from ..unsubscribe import unsubscribe_headers, unsubscribe_url

# A runner does one kind of step's effect inside the step's transaction; it may set the step's
# links (activity, message, coupon, survey_invite) and returns the result text shown on the
# customer's page. A DomainError fails the step with its message; any other error rolls back.
StepRunner = Callable[[PlanStep], Any]
STEP_RUNNERS: dict[str, StepRunner] = {}

SWEEP_BATCH = 500  # steps per sweep run; the next run (5 minutes later) takes the rest
DELIVERY_HOUR = 9  # a delivery-anchored step is due at 9:00 (local time) on its day

# The offer email names the customer's coupon; a mailing's offer fills the same field.
if "coupon.code" not in MERGE_FIELDS:
    merge_field_register(
        "coupon.code",
        "Coupon code (offers)",
        lambda ctx: ctx.extra.get("coupon.code") or None,
        example="ACDE-FGHJ-KMNP",
    )


def step_runner_register(kind: str, runner: StepRunner) -> None:
    """Let another part run a kind of step (the surveys part registers `survey`)."""
    STEP_RUNNERS[kind] = runner


# --- starting ---------------------------------------------------------------------------


def _products_sold(deal: Deal) -> list[int]:
    """Products on the deal's accepted proposal, or on its latest one when none was accepted."""
    proposals = Proposal.objects.filter(deal=deal)
    proposal = (
        proposals.filter(status=ProposalStatus.ACCEPTED).order_by("-updated_at", "-pk").first()
        or proposals.order_by("-created_at", "-pk").first()
    )
    if proposal is None:
        return []
    return list(
        LineItem.objects.filter(proposal=proposal, product__isnull=False)
        .values_list("product_id", flat=True)
        .distinct()
    )


def _account_owner(deal: Deal) -> Any:
    """Who looks after the customer: the organization's owner when active, else the deal's."""
    owner = deal.organization.owner if deal.organization is not None else None
    return owner if owner is not None and owner.is_active else deal.owner


def _delivery_due(date: dt.date, offset_days: int) -> dt.datetime:
    day = date + dt.timedelta(days=offset_days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(DELIVERY_HOUR)))


def _enqueue_on_commit(steps: Iterable[PlanStep]) -> None:
    """One delayed job per step, handed to the worker once the steps are committed; the sweep
    catches any job lost between the commit and the enqueue."""
    from ..plan_tasks import plan_step_run_task

    due = [(step.pk, step.due_at) for step in steps if step.due_at is not None]
    if not due or not plan_step_run_task.get_backend().supports_defer:
        return  # a backend that cannot wait would run them now: the sweep runs them when due

    def enqueue() -> None:
        for step_id, due_at in due:
            plan_step_run_task.using(run_after=due_at).enqueue(step_id=step_id)

    transaction.on_commit(enqueue)


def _start(template: PlanTemplate, deal: Deal, owner: Any) -> FollowUpPlan:
    plan = FollowUpPlan.objects.create(
        template=template,
        name=template.name,
        deal=deal,
        organization=deal.organization,
        contact=deal.contact,
        owner=owner,
        won_at=deal.won_at or timezone.now(),
    )
    steps = [
        PlanStep(
            plan=plan,
            template=step,
            position=position,
            kind=step.kind,
            title=step.title,
            anchor=step.anchor,
            offset_days=step.offset_days,
            due_at=(
                plan.won_at + dt.timedelta(days=step.offset_days)
                if step.anchor == PlanAnchor.WON
                else None  # waits for plan_delivery_set
            ),
        )
        for position, step in enumerate(template.steps.order_by("position", "pk"), start=1)
    ]
    PlanStep.objects.bulk_create(steps)
    _enqueue_on_commit(PlanStep.objects.filter(plan=plan))
    return plan


@transaction.atomic
def plans_start_for_won_deal(*, actor: Any, deal: Deal) -> list[FollowUpPlan]:
    """Start every active template of the deal's pipeline and of the products it sold, once per
    deal and template (winning again after a reopen starts nothing twice)."""
    products = _products_sold(deal)
    templates = PlanTemplate.objects.filter(
        Q(pipeline_id=deal.pipeline_id) | Q(product_id__in=products), is_active=True
    )
    started = set(FollowUpPlan.objects.filter(deal=deal).values_list("template_id", flat=True))
    owner = _account_owner(deal)
    plans = []
    for template in templates.distinct().order_by("name"):
        if template.pk not in started:
            plans.append(_start(template, deal, owner))
    if plans:
        activity_create(
            actor=actor,
            kind=ActivityKind.CHANGE,
            subject="Follow-up started: " + ", ".join(p.name for p in plans),
            body="",
            deal=deal,
        )
    return plans


@transaction.atomic
def plan_delivery_set(*, actor: Any, plan: FollowUpPlan, date: dt.date) -> FollowUpPlan:
    """Set (or move) the delivery date: the waiting steps counted from it get their due time."""
    plan = _lock_plan(plan, actor)
    if plan.state != PlanState.RUNNING:
        raise DomainError("This plan is no longer running.", field="delivery_date")
    if not isinstance(date, dt.date):
        raise DomainError("Give the delivery date.", field="delivery_date")
    plan.delivery_date = date
    plan.save(update_fields=["delivery_date", "updated_at"])
    steps = list(
        PlanStep.objects.filter(plan=plan, state=StepState.PENDING, anchor=PlanAnchor.DELIVERY)
    )
    for step in steps:
        step.due_at = _delivery_due(date, step.offset_days)
    PlanStep.objects.bulk_update(steps, ["due_at"])
    _enqueue_on_commit(steps)
    return plan


# --- running ----------------------------------------------------------------------------


def _finish_if_complete(plan: FollowUpPlan) -> None:
    if plan.state == PlanState.RUNNING and not plan.steps.filter(state=StepState.PENDING).exists():
        plan.state = PlanState.DONE
        plan.save(update_fields=["state", "updated_at"])


def _contact_email(plan: FollowUpPlan) -> str:
    contact = plan.contact
    if contact is None:
        raise DomainError("The deal has no contact to write to.")
    email = contact.primary_email
    if not email:
        raise DomainError(f"{contact} has no email address.")
    return email


def _queue_email(step: PlanStep, *, extra: dict[str, str], marketing: bool) -> str:
    plan = step.plan
    template = step.template.email_template if step.template else None
    if template is None:
        raise DomainError("The step has no email template any more.")
    email = _contact_email(plan)
    if marketing and not (plan.contact and plan.contact.marketing_consent):
        raise DomainError(f"{email} has not agreed to marketing email, so no offer was sent.")
    ctx = merge_context_for(
        sender=plan.owner, deal=plan.deal, contact=plan.contact, base_url=settings.SITE_URL
    )
    ctx.extra.update(extra)
    headers: dict[str, str] = {}
    if marketing:  # an offer is promotional: it carries its unsubscribe link and headers
        url = unsubscribe_url(email=email, contact=plan.contact)
        ctx.extra[UNSUBSCRIBE_FIELD] = url
        headers = unsubscribe_headers(url)
    rendered = merge_render_email(
        ctx, subject=template.subject, text_body=template.text_body, html_body=template.html_body
    )
    text, html = rendered.text_body, rendered.html_body
    if marketing:
        text, html = with_unsubscribe(text, html, url, template)
    step.message = message_queue(
        actor=None,
        to=[email],
        subject=rendered.subject,
        text_body=text,
        html_body=html,
        reply_to=plan.owner.email,
        headers=headers,
        template=template,
        deal=plan.deal,
        contact=plan.contact,
        organization=plan.organization,
        marketing=marketing,
    )
    return f"Email “{rendered.subject}” queued to {email}"


def _issue_coupon(step: PlanStep) -> str:
    plan, spec = step.plan, step.template
    if spec is None or not spec.coupon_kind:
        raise DomainError("The step has no coupon any more.")
    if plan.contact is None and plan.organization is None:
        raise DomainError("The deal has no customer to give a coupon to.")
    step.coupon = coupon_issue(
        actor=None,
        kind=spec.coupon_kind,
        value=spec.coupon_value,
        currency=plan.deal.currency,
        valid_days=spec.coupon_valid_days,
        contact=plan.contact,
        organization=plan.organization,
        origin=CouponOrigin.PLAN,
        description=f"{plan.name}: {step.title}",
    )
    coupon = step.coupon
    off = f"{coupon.value} %" if coupon.kind == CouponKind.PERCENT else f"{coupon.value} "
    off += "" if coupon.kind == CouponKind.PERCENT else coupon.currency
    until = f", valid until {coupon.expires_at:%Y-%m-%d}" if coupon.expires_at else ""
    return f"Coupon {coupon.code}: {off} off{until}"


def _run_task(step: PlanStep) -> str:
    plan = step.plan
    owner = _account_owner(plan.deal)
    step.activity = activity_schedule(
        actor=None,
        kind=ActivityKind.TASK,
        subject=step.title,
        starts_at=step.due_at or timezone.now(),
        body=step.template.body if step.template else "",
        owner=owner,
        deal=plan.deal,
        contact=plan.contact,
        organization=plan.organization,
        send_invites=False,
    )
    return f"Task for {owner.display_name}"


def _run_email(step: PlanStep) -> str:
    return _queue_email(step, extra={}, marketing=False)


def _run_coupon(step: PlanStep) -> str:
    result = _issue_coupon(step)
    plan = step.plan
    activity_create(
        actor=None,
        kind=ActivityKind.CHANGE,
        subject=f"Coupon {step.coupon.code if step.coupon else ''} issued",
        body=f"{result} ({plan.name})",
        deal=plan.deal,
        contact=plan.contact,
        organization=plan.organization,
    )
    return result


def _run_offer(step: PlanStep) -> str:
    # an offer is promotional: an unsubscribed (suppressed) address refuses it in the outbox
    coupon = _issue_coupon(step)
    code = step.coupon.code if step.coupon else ""
    sent = _queue_email(step, extra={"coupon.code": code}, marketing=True)
    return f"{coupon}; {sent}"


STEP_RUNNERS.update(
    {
        StepKind.TASK: _run_task,
        StepKind.EMAIL: _run_email,
        StepKind.COUPON: _run_coupon,
        StepKind.OFFER: _run_offer,
    }
)


def _apply(step: PlanStep) -> str:
    """The step's effect through its runner; the result text to show."""
    runner = STEP_RUNNERS.get(step.kind)
    if runner is None:
        raise DomainError(
            f"Steps of the kind “{step.get_kind_display()}” cannot run: that part of Closeloop "
            "is not installed."
        )
    outcome = runner(step)
    return outcome if isinstance(outcome, str) and outcome else "Done"


def plan_step_run(*, step_id: int) -> str:
    """Run one step if it still waits and is due; the state it ends in ("pending" when not due).

    Runs in its own transaction (never inside another), so its lock and effects commit together.
    """
    now = timezone.now()
    with transaction.atomic():
        step = (
            PlanStep.objects.select_for_update(of=("self",))
            .select_related("plan", "plan__deal", "plan__contact", "plan__organization")
            .filter(pk=step_id)
            .first()
        )
        if step is None:
            return "missing"
        if step.state != StepState.PENDING or step.plan.state != PlanState.RUNNING:
            return step.state  # done, skipped or cancelled: a retried job does nothing
        if step.due_at is None or step.due_at > now:
            return step.state
        try:
            # a savepoint: a refused effect leaves no half of itself behind, the step fails
            with transaction.atomic():
                step.result = _apply(step)
                step.state = StepState.DONE
        except DomainError as refusal:
            step.state, step.result = StepState.FAILED, refusal.message
            step.activity = step.message = step.coupon = step.survey_invite = None
        step.ran_at = now
        step.save()
        _finish_if_complete(step.plan)
        return step.state


def plan_steps_run_due(*, limit: int = SWEEP_BATCH) -> int:
    """Run the due steps of running plans whose job was lost (the sweep); how many ran."""
    due = list(
        PlanStep.objects.filter(
            state=StepState.PENDING, due_at__lte=timezone.now(), plan__state=PlanState.RUNNING
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(plan_step_run(step_id=pk) != StepState.PENDING for pk in due)


# --- by hand ----------------------------------------------------------------------------


def _lock_plan(plan: FollowUpPlan, actor: Any) -> FollowUpPlan:
    """The plan locked, if the actor may see its deal (else the same error as a missing one)."""
    lock_visible(Deal, plan.deal_id, actor)
    current = FollowUpPlan.objects.select_for_update().filter(pk=plan.pk).first()
    if current is None:
        raise DomainError("This plan does not exist or is not visible to you.")
    return current


@transaction.atomic
def plan_step_skip(*, actor: Any, step: PlanStep) -> PlanStep:
    """Skip a waiting step: it will not run, the rest of the plan goes on."""
    _lock_plan(step.plan, actor)
    current = PlanStep.objects.select_for_update().select_related("plan").get(pk=step.pk)
    if current.state != StepState.PENDING:
        raise DomainError(f"“{current.title}” is {current.get_state_display().lower()} already.")
    current.state = StepState.SKIPPED
    current.ran_at = timezone.now()
    current.result = f"Skipped by {actor.display_name}" if actor is not None else "Skipped"
    current.save(update_fields=["state", "ran_at", "result"])
    _finish_if_complete(current.plan)
    return current


@transaction.atomic
def plan_cancel(*, actor: Any, plan: FollowUpPlan) -> FollowUpPlan:
    """Stop a plan: every waiting step is cancelled, and jobs already queued find nothing to do."""
    plan = _lock_plan(plan, actor)
    if plan.state != PlanState.RUNNING:
        raise DomainError(f"“{plan.name}” is {plan.get_state_display().lower()} already.")
    now = timezone.now()
    plan.steps.filter(state=StepState.PENDING).update(
        state=StepState.CANCELLED, ran_at=now, result="The plan was cancelled."
    )
    plan.state = PlanState.CANCELLED
    plan.cancelled_at = now
    plan.cancelled_by = actor if getattr(actor, "is_authenticated", False) else None
    plan.save(update_fields=["state", "cancelled_at", "cancelled_by", "updated_at"])
    activity_create(
        actor=actor,
        kind=ActivityKind.CHANGE,
        subject=f"Follow-up cancelled: {plan.name}",
        body="",
        deal=plan.deal,
    )
    return plan


__all__ = [
    "STEP_RUNNERS",
    "plan_cancel",
    "plan_delivery_set",
    "plan_step_run",
    "plan_step_skip",
    "plan_steps_run_due",
    "plans_start_for_won_deal",
    "step_runner_register",
]
