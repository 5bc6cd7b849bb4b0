"""Forms of segments, mailings and consent changes: they parse input; services check it."""

from __future__ import annotations

from typing import Any

from django import forms

from closeloop.core.exceptions import DomainError
from closeloop.leads.models import Campaign
from closeloop.messaging.models import EmailTemplate
from closeloop.proposals.models import Product

from .choices import CouponKind
from .models import Segment

NPS_CHOICES = [
    ("promoter", "Promoters (9–10)"),
    ("passive", "Passives (7–8)"),
    ("detractor", "Detractors (0–6)"),
]
DATE = forms.DateInput(attrs={"type": "date"})


class DomainErrorForm(forms.Form):
    def add_domain_error(self, error: DomainError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


class SegmentForm(DomainErrorForm):
    """A segment's name and criteria."""

    name = forms.CharField(max_length=120)
    last_purchase_after = forms.DateField(
        required=False, widget=DATE, label="Last purchase on or after"
    )
    last_purchase_before = forms.DateField(
        required=False, widget=DATE, label="Last purchase before"
    )
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.order_by("name"),
        required=False,
        label="Bought any of these products",
        help_text="a line on the proposal of a won deal",
    )
    won_total_min = forms.DecimalField(required=False, min_value=0, label="Won total at least")
    won_total_max = forms.DecimalField(required=False, min_value=0, label="Won total at most")
    purchases_min = forms.IntegerField(required=False, min_value=0, label="Purchases at least")
    purchases_max = forms.IntegerField(required=False, min_value=0, label="Purchases at most")
    nps_bands = forms.MultipleChoiceField(
        choices=NPS_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Latest NPS answer",
    )
    consent_only = forms.BooleanField(required=False, label="Only contacts with marketing consent")

    @classmethod
    def for_segment(cls, segment: Segment, data: Any = None) -> SegmentForm:
        initial = {"name": segment.name, **(segment.criteria or {})}
        return cls(data, initial=initial)

    def criteria(self) -> dict[str, Any]:
        data = self.cleaned_data
        criteria: dict[str, Any] = {}
        for key in ("last_purchase_after", "last_purchase_before"):
            if data.get(key):
                criteria[key] = data[key].isoformat()
        for key in ("won_total_min", "won_total_max", "purchases_min", "purchases_max"):
            if data.get(key) is not None:
                criteria[key] = data[key]
        criteria["products"] = [product.pk for product in data.get("products") or []]
        criteria["nps_bands"] = list(data.get("nps_bands") or [])
        criteria["consent_only"] = bool(data.get("consent_only"))
        return criteria


class MailingForm(DomainErrorForm):
    """A new mailing: segment, template, rate and, for an offer, the coupon."""

    name = forms.CharField(max_length=200)
    segment = forms.ModelChoiceField(queryset=Segment.objects.all())
    template = forms.ModelChoiceField(
        queryset=EmailTemplate.objects.filter(is_active=True), label="Email template"
    )
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.all(), required=False)
    rate_per_minute = forms.IntegerField(
        min_value=1, max_value=1000, initial=60, label="Emails a minute"
    )
    coupon_kind = forms.ChoiceField(
        choices=[("", "No coupon (a plain promotional email)"), *CouponKind.choices],
        required=False,
        label="Coupon for each recipient",
    )
    coupon_value = forms.DecimalField(required=False, label="Coupon value")
    coupon_currency = forms.CharField(
        required=False, max_length=3, help_text="for an amount off; empty: the base currency"
    )
    coupon_valid_days = forms.IntegerField(required=False, min_value=1, label="Valid for days")


class ConsentForm(DomainErrorForm):
    """A marketing consent given or withdrawn, and how."""

    granted = forms.TypedChoiceField(
        choices=[("1", "Consent given"), ("0", "Consent withdrawn")],
        coerce=lambda value: value == "1",
        label="Marketing email",
    )
    source = forms.CharField(
        max_length=200, label="How", help_text="e.g. phone call on 3 May, signed form at the fair"
    )
