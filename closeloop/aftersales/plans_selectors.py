"""Reads of follow-up plans: a plan is seen by whoever may see its deal."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from closeloop.accounts.visibility import owner_filter
from closeloop.pipeline.models import Deal

from .choices import PlanState
from .models import FollowUpPlan, PlanStep, PlanStepTemplate, PlanTemplate


def _visible_plans(user: Any) -> QuerySet[FollowUpPlan]:
    plans = FollowUpPlan.objects.filter(deal__in=Deal.objects.all())  # trashed deals: hidden
    condition = owner_filter(user, "deal__owner")
    return plans if condition is None else plans.filter(condition)


def plans_of(
    *, user: Any, deal: Any = None, organization: Any = None, contact: Any = None
) -> list[FollowUpPlan]:
    """The plans of a deal, an organization or a contact that `user` may see, steps in order."""
    plans = _visible_plans(user)
    if deal is not None:
        plans = plans.filter(deal=deal)
    elif organization is not None:
        plans = plans.filter(organization=organization)
    elif contact is not None:
        plans = plans.filter(contact=contact)
    else:
        return []
    steps = PlanStep.objects.order_by("position", "pk")
    return list(
        plans.select_related("deal", "owner")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("-won_at", "-pk")
    )


def plan_visible(*, user: Any, pk: int) -> FollowUpPlan | None:
    """One plan, if `user` may see its deal."""
    return _visible_plans(user).select_related("deal").filter(pk=pk).first()


def plan_step_visible(*, user: Any, pk: int) -> PlanStep | None:
    """One step of a plan `user` may see."""
    plans = _visible_plans(user)
    return (
        PlanStep.objects.select_related("plan", "plan__deal").filter(pk=pk, plan__in=plans).first()
    )


def plan_template_list() -> list[PlanTemplate]:
    """Every plan template with what it is attached to, its steps and how many plans it ran."""
    steps = PlanStepTemplate.objects.select_related("email_template", "survey").order_by(
        "position", "pk"
    )
    return list(
        PlanTemplate.objects.select_related("pipeline", "product")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .annotate(
            running=Count("runs", filter=Q(runs__state=PlanState.RUNNING)),
            started=Count("runs"),
        )
        .order_by("name")
    )
