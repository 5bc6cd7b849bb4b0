"""Forms of follow-up plans: they parse input; the plan services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from closeloop.messaging.models import EmailTemplate
from closeloop.pipeline.models import Pipeline
from closeloop.proposals.models import Product

from .choices import CouponKind, PlanAnchor, StepKind
from .models import Survey
from .plans import StepInput


class PlanTemplateForm(forms.Form):
    name = forms.CharField(max_length=120, label="Plan name")
    pipeline = forms.ModelChoiceField(
        queryset=Pipeline.objects.all(),
        required=False,
        empty_label="—",
        help_text="Start the plan when a deal of this pipeline is won…",
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True),
        required=False,
        empty_label="—",
        label="or product",
        help_text="…or when a won deal's proposal sells this product.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What the plan is for"
    )


class StepForm(forms.Form):
    kind = forms.ChoiceField(choices=StepKind.choices, label="What happens")
    title = forms.CharField(
        max_length=200, help_text="The task's subject, or a name for the step on the customer page."
    )
    offset_days = forms.IntegerField(
        initial=0, label="Days after", help_text="Days after the anchor (0: the same day)."
    )
    anchor = forms.ChoiceField(
        choices=PlanAnchor.choices, initial=PlanAnchor.WON, label="Counted from"
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Task note"
    )
    email_template = forms.ModelChoiceField(
        queryset=EmailTemplate.objects.filter(is_active=True),
        required=False,
        empty_label="—",
        help_text="For an email or an offer; an offer can use {{ coupon.code }}.",
    )
    survey = forms.ModelChoiceField(
        queryset=Survey.objects.filter(is_active=True), required=False, empty_label="—"
    )
    coupon_kind = forms.ChoiceField(
        choices=[("", "—"), *CouponKind.choices], required=False, label="Coupon"
    )
    coupon_value = forms.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        label="Coupon value",
        help_text="Percent, or an amount in the deal's currency.",
    )
    coupon_valid_days = forms.IntegerField(
        required=False, label="Coupon valid for (days)", help_text="Empty: no expiry."
    )

    def step_input(self) -> StepInput:
        data: dict[str, Any] = self.cleaned_data
        return StepInput(
            kind=data["kind"],
            title=data["title"],
            offset_days=data["offset_days"],
            anchor=data["anchor"],
            body=data.get("body") or "",
            email_template=data.get("email_template"),
            survey=data.get("survey"),
            coupon_kind=data.get("coupon_kind") or "",
            coupon_value=data.get("coupon_value"),
            coupon_valid_days=data.get("coupon_valid_days"),
        )


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])


class DeliveryForm(forms.Form):
    delivery_date = forms.DateField(label="Delivery date")
