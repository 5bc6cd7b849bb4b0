"""Plan templates and their steps: what admins and managers set up in Settings › Follow-up plans.

A template belongs to one pipeline or one product. Each step checks what its kind needs (an
email template for an email, a coupon for a coupon…) and refuses with the field to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from closeloop.accounts.actors import acting_user, require_admin_or_manager
from closeloop.core.exceptions import DomainError
from closeloop.messaging.models import EmailTemplate
from closeloop.pipeline.models import Pipeline
from closeloop.proposals.models import Product

from ..choices import CouponKind, PlanAnchor, PlanState, StepKind, StepState
from ..models import PlanStep, PlanStepTemplate, PlanTemplate, Survey

SETUP_REFUSAL = "Only admins and managers can change follow-up plans."
MAX_OFFSET_DAYS = 3650  # ten years: further than any sensible follow-up
MAX_STEPS = 30


@dataclass(frozen=True)
class StepInput:
    """One step as typed in the form: the services check it against its kind."""

    kind: str
    title: str
    offset_days: int = 0
    anchor: str = PlanAnchor.WON
    body: str = ""
    email_template: EmailTemplate | None = None
    survey: Survey | None = None
    coupon_kind: str = ""
    coupon_value: Any = None
    coupon_valid_days: int | None = None


def _name(name: str, *, exclude: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the plan a name.", field="name")
    if len(name) > 120:
        raise DomainError("The name can be at most 120 characters long.", field="name")
    taken = PlanTemplate.objects.filter(name__iexact=name).exclude(pk=exclude or 0)
    if taken.exists():
        raise DomainError(f"There is already a plan called “{name}”.", field="name")
    return name


def _attached_to(pipeline: Pipeline | None, product: Product | None) -> None:
    if (pipeline is None) == (product is None):
        raise DomainError(
            "Attach the plan to a pipeline or to a product (one of the two).", field="pipeline"
        )


@transaction.atomic
def plan_template_create(
    *,
    actor: Any,
    name: str,
    pipeline: Pipeline | None = None,
    product: Product | None = None,
    description: str = "",
    is_active: bool = True,
) -> PlanTemplate:
    """A new plan template for a pipeline or a product; admins and managers only."""
    require_admin_or_manager(actor, SETUP_REFUSAL)
    _attached_to(pipeline, product)
    return PlanTemplate.objects.create(
        name=_name(name),
        description=(description or "").strip(),
        pipeline=pipeline,
        product=product,
        is_active=is_active,
        created_by=acting_user(actor),
    )


@transaction.atomic
def plan_template_update(
    *,
    actor: Any,
    template: PlanTemplate,
    name: str,
    pipeline: Pipeline | None = None,
    product: Product | None = None,
    description: str = "",
) -> PlanTemplate:
    """Rename or re-attach a template; plans already running keep going as they are."""
    require_admin_or_manager(actor, SETUP_REFUSAL)
    _attached_to(pipeline, product)
    template.name = _name(name, exclude=template.pk)
    template.pipeline, template.product = pipeline, product
    template.description = (description or "").strip()
    template.save()
    return template


@transaction.atomic
def plan_template_set_active(
    *, actor: Any, template: PlanTemplate, is_active: bool
) -> PlanTemplate:
    """Switch a template on or off: an inactive one starts no new plans (running ones go on)."""
    require_admin_or_manager(actor, SETUP_REFUSAL)
    template.is_active = is_active
    template.save(update_fields=["is_active", "updated_at"])
    return template


def _offset(value: Any, anchor: str) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise DomainError("The offset is a whole number of days.", field="offset_days") from None
    if abs(days) > MAX_OFFSET_DAYS:
        raise DomainError(f"The offset can be at most {MAX_OFFSET_DAYS} days.", field="offset_days")
    if days < 0 and anchor == PlanAnchor.WON:
        # nothing can be done before the win: the plan only starts then
        raise DomainError("A step cannot come before the win.", field="offset_days")
    return days


def _coupon(step: StepInput) -> tuple[str, Decimal | None, int | None]:
    if step.coupon_kind not in CouponKind.values:
        raise DomainError("Choose percent or amount off for the coupon.", field="coupon_kind")
    try:
        value = Decimal(str(step.coupon_value).strip())
    except (InvalidOperation, ValueError):
        raise DomainError("Give the coupon's value as a number.", field="coupon_value") from None
    if not value.is_finite() or value <= 0 or value > Decimal("999999999.99"):
        raise DomainError("The coupon must take something off.", field="coupon_value")
    if step.coupon_kind == CouponKind.PERCENT and value > 100:
        raise DomainError("A percentage cannot be above 100.", field="coupon_value")
    days = step.coupon_valid_days
    if days is not None and not 1 <= int(days) <= MAX_OFFSET_DAYS:
        raise DomainError(
            f"A coupon is valid for 1 to {MAX_OFFSET_DAYS} days (empty: no expiry).",
            field="coupon_valid_days",
        )
    return step.coupon_kind, value.quantize(Decimal("0.01")), days


def _step_fields(step: StepInput) -> dict[str, Any]:
    """The columns of a checked step; fields its kind does not use are cleared."""
    if step.kind not in StepKind.values:
        raise DomainError("Choose what the step does.", field="kind")
    if step.anchor not in PlanAnchor.values:
        raise DomainError("Count the days from the win or from the delivery.", field="anchor")
    title = " ".join((step.title or "").split())
    if not title:
        raise DomainError("Give the step a title (the task's subject).", field="title")
    if len(title) > 200:
        raise DomainError("The title can be at most 200 characters long.", field="title")
    fields: dict[str, Any] = {
        "kind": step.kind,
        "title": title,
        "anchor": step.anchor,
        "offset_days": _offset(step.offset_days, step.anchor),
        "body": (step.body or "").strip() if step.kind == StepKind.TASK else "",
        "email_template": None,
        "survey": None,
        "coupon_kind": "",
        "coupon_value": None,
        "coupon_valid_days": None,
    }
    if step.kind in (StepKind.EMAIL, StepKind.OFFER):
        if step.email_template is None:
            raise DomainError("Choose the email template to send.", field="email_template")
        if not step.email_template.is_active:
            raise DomainError(
                f"The email template “{step.email_template}” is switched off.",
                field="email_template",
            )
        fields["email_template"] = step.email_template
    if step.kind == StepKind.SURVEY:
        if step.survey is None:
            raise DomainError("Choose the survey to send.", field="survey")
        fields["survey"] = step.survey
    if step.kind in (StepKind.COUPON, StepKind.OFFER):
        kind, value, days = _coupon(step)
        fields |= {"coupon_kind": kind, "coupon_value": value, "coupon_valid_days": days}
    return fields


@transaction.atomic
def plan_step_template_add(
    *, actor: Any, template: PlanTemplate, step: StepInput
) -> PlanStepTemplate:
    """Add a step at the end of a template; plans already running are not changed."""
    require_admin_or_manager(actor, SETUP_REFUSAL)
    template = PlanTemplate.objects.select_for_update().get(pk=template.pk)
    count = template.steps.count()
    if count >= MAX_STEPS:
        raise DomainError(f"A plan can have at most {MAX_STEPS} steps.", field="kind")
    return PlanStepTemplate.objects.create(plan=template, position=count + 1, **_step_fields(step))


@transaction.atomic
def plan_step_template_update(
    *, actor: Any, step_template: PlanStepTemplate, step: StepInput
) -> PlanStepTemplate:
    """Change a step; steps of running plans that still wait use its new content when they run."""
    require_admin_or_manager(actor, SETUP_REFUSAL)
    for name, value in _step_fields(step).items():
        setattr(step_template, name, value)
    step_template.save()
    return step_template


@transaction.atomic
def plan_step_template_move(*, actor: Any, step_template: PlanStepTemplate, direction: str) -> None:
    """Move a step one place up or down; positions are renumbered 1..n so they stay unique."""
    require_admin_or_manager(actor, SETUP_REFUSAL)
    if direction not in ("up", "down"):
        raise DomainError("A step moves up or down.", field="direction")
    steps = list(
        PlanStepTemplate.objects.select_for_update()
        .filter(plan_id=step_template.plan_id)
        .order_by("position", "pk")
    )
    index = next((i for i, s in enumerate(steps) if s.pk == step_template.pk), None)
    if index is None:
        raise DomainError("This step no longer exists.")
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(steps):
        steps[index], steps[other] = steps[other], steps[index]
    for position, item in enumerate(steps, start=1):
        if item.position != position:
            PlanStepTemplate.objects.filter(pk=item.pk).update(position=position)


@transaction.atomic
def plan_step_template_delete(*, actor: Any, step_template: PlanStepTemplate) -> int:
    """Remove a step; its copies still waiting in running plans are cancelled (how many)."""
    require_admin_or_manager(actor, SETUP_REFUSAL)
    cancelled = PlanStep.objects.filter(
        template=step_template, state=StepState.PENDING, plan__state=PlanState.RUNNING
    ).update(state=StepState.CANCELLED, result="The step was removed from its plan template.")
    plan_id = step_template.plan_id
    step_template.delete()
    for position, pk in enumerate(
        PlanStepTemplate.objects.filter(plan_id=plan_id)
        .order_by("position", "pk")
        .values_list("pk", flat=True),
        start=1,
    ):
        PlanStepTemplate.objects.filter(pk=pk).update(position=position)
    return cancelled
