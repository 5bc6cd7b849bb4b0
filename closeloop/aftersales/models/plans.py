from __future__ import annotations

from django.conf import settings
from django.db import models

from closeloop.core.models import TimestampedModel

from ..choices import CouponKind, PlanAnchor, PlanState, StepKind, StepState


class PlanTemplate(TimestampedModel):
    """A follow-up plan started when a deal is won: for its pipeline, or when it sold a product."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    pipeline = models.ForeignKey(
        "pipeline.Pipeline", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    product = models.ForeignKey(
        "proposals.Product", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlanStepTemplate(models.Model):
    """One step of a plan template: what to do, and how many days after the win or delivery."""

    plan = models.ForeignKey(PlanTemplate, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=StepKind.choices)
    offset_days = models.IntegerField(default=0)
    anchor = models.CharField(max_length=8, choices=PlanAnchor.choices, default=PlanAnchor.WON)
    title = models.CharField(max_length=200, help_text="the task's subject or the step's name")
    body = models.TextField(blank=True, help_text="the task's note")
    email_template = models.ForeignKey(
        "messaging.EmailTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    survey = models.ForeignKey(
        "aftersales.Survey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    coupon_kind = models.CharField(max_length=8, choices=CouponKind.choices, blank=True)
    coupon_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    coupon_valid_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.plan}: {self.title}"


class FollowUpPlan(TimestampedModel):
    """A plan running for one won deal; its steps are copied from the template when it starts."""

    template = models.ForeignKey(
        PlanTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    name = models.CharField(max_length=120)
    deal = models.ForeignKey("pipeline.Deal", on_delete=models.CASCADE, related_name="plans")
    organization = models.ForeignKey(
        "people.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="plans",
    )
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_up_plans"
    )
    state = models.CharField(max_length=9, choices=PlanState.choices, default=PlanState.RUNNING)
    won_at = models.DateTimeField()
    delivery_date = models.DateField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "deal"], name="plan_once_per_deal_and_template"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} for {self.deal}"


class PlanStep(models.Model):
    """One step of a running plan. It runs once: its effects (a task, an outbox message, a coupon,
    a survey invite) are all rows written in the transaction that locks the pending step and
    marks it done, so a crash undoes both and a retried or duplicated task finds it done."""

    plan = models.ForeignKey(FollowUpPlan, on_delete=models.CASCADE, related_name="steps")
    template = models.ForeignKey(
        PlanStepTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=StepKind.choices)
    title = models.CharField(max_length=200)
    # copied from the step template, so a delivery date set later (or changed) can place the step
    anchor = models.CharField(max_length=8, choices=PlanAnchor.choices, default=PlanAnchor.WON)
    offset_days = models.IntegerField(default=0)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="None: waits for a delivery date"
    )
    state = models.CharField(max_length=9, choices=StepState.choices, default=StepState.PENDING)
    ran_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)
    activity = models.ForeignKey(
        "activities.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    coupon = models.ForeignKey(
        "aftersales.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    survey_invite = models.ForeignKey(
        "aftersales.SurveyInvite",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["plan", "position", "pk"]
        indexes = [models.Index(fields=["state", "due_at"], name="planstep_due")]

    def __str__(self) -> str:
        return f"{self.plan}: {self.title} ({self.state})"
