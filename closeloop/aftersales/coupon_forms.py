"""Forms of the coupon pages: issue, withdraw, redeem on a customer's page, link a repeat deal.

They parse input only; the rules (limits, currencies, who may use a coupon) are the services'.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from closeloop.core.money import CURRENCY_CODES, base_currency
from closeloop.leads.models import Campaign
from closeloop.people.models import Contact, Organization
from closeloop.people.selectors import contact_queryset, organization_queryset
from closeloop.pipeline.models import Deal

from .choices import CouponKind
from .coupon_selectors import coupon_campaigns


def _choice(form: forms.Form, name: str) -> Any:
    """A choice field of the form, whose choices or queryset are set per request."""
    return form.fields[name]


def _currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in CURRENCY_CODES]


class CouponIssueForm(forms.Form):
    """Issue a coupon to one customer, or a campaign code anyone may type."""

    TARGETS = [("customer", "One customer"), ("campaign", "A campaign code (anyone may use it)")]

    target = forms.ChoiceField(choices=TARGETS, widget=forms.RadioSelect, initial="customer")
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, help_text="Issue it to this person…"
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        help_text="…or to this organization (any of its people may use it).",
    )
    code = forms.CharField(
        max_length=32,
        required=False,
        help_text="For a campaign code, e.g. SPRING25; leave empty for a random code.",
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(), required=False, help_text="Counts in this campaign."
    )
    kind = forms.ChoiceField(choices=CouponKind.choices, initial=CouponKind.PERCENT)
    value = forms.CharField(max_length=20, help_text="Percent (1–100) or the amount taken off.")
    currency = forms.ChoiceField(choices=[], required=False, help_text="For an amount off.")
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Usable until the end of this day…",
    )
    valid_days = forms.IntegerField(
        required=False, min_value=1, max_value=3650, help_text="…or for this many days from now."
    )
    max_uses = forms.IntegerField(
        required=False, min_value=1, label="Total uses", help_text="Empty: no limit."
    )
    max_uses_per_customer = forms.IntegerField(
        required=False,
        min_value=1,
        initial=1,
        label="Uses per customer",
        help_text="Empty: no limit.",
    )
    min_order = forms.CharField(
        max_length=20, required=False, label="Minimum order", help_text="Empty: any order."
    )
    description = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        _choice(self, "contact").queryset = contact_queryset(user=user).select_related(
            "organization"
        )
        _choice(self, "organization").queryset = organization_queryset(user=user)
        _choice(self, "campaign").queryset = coupon_campaigns()
        _choice(self, "currency").choices = _currency_choices()
        self.fields["currency"].initial = base_currency()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") == "customer":
            if not data.get("contact") and not data.get("organization"):
                self.add_error("contact", "Choose the contact or the organization it is for.")
            elif data.get("contact") and data.get("organization"):
                contact = data["contact"]
                if contact.organization_id != data["organization"].pk:
                    self.add_error("organization", "This contact is not of this organization.")
        elif data.get("target") == "campaign":
            data["contact"] = data["organization"] = None
        if data.get("expires_on") and data.get("valid_days"):
            self.add_error("valid_days", "Give an expiry date or a number of days, not both.")
        expires_on = data.get("expires_on")
        if expires_on and expires_on < timezone.localdate(timezone.now(), self.user.zone):
            self.add_error("expires_on", "The expiry date is in the past.")
        return data

    def expires_at(self) -> dt.datetime | None:
        """The end of the expiry day in the issuer's time zone (the next midnight there)."""
        day = self.cleaned_data.get("expires_on")
        if not day:
            return None
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=self.user.zone)


class CouponWithdrawForm(forms.Form):
    """Why a coupon is withdrawn (kept on the coupon)."""

    reason = forms.CharField(max_length=300, required=False)


class CouponRedeemForm(forms.Form):
    """Redeem a coupon for this customer's order; the deal is one of this customer's."""

    code = forms.CharField(max_length=40)
    order_value = forms.CharField(max_length=20, label="Order value")
    currency = forms.ChoiceField(choices=[])
    deal = forms.TypedChoiceField(
        choices=[],
        coerce=int,
        empty_value=None,
        required=False,
        label="Repeat deal",
        help_text="Optional: the deal this order belongs to.",
    )
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, deals: list[Deal], **kwargs: Any) -> None:
        # Choices from a list the panel loaded once, so the select costs no query of its own.
        super().__init__(*args, **kwargs)
        self.deals = {deal.pk: deal for deal in deals}
        _choice(self, "currency").choices = _currency_choices()
        self.fields["currency"].initial = base_currency()
        _choice(self, "deal").choices = [("", "— none —")] + [(d.pk, d.title) for d in deals]

    def clean_deal(self) -> Deal | None:
        pk = self.cleaned_data.get("deal")
        return None if pk is None else self.deals[pk]


class RedemptionDealForm(forms.Form):
    """Link a redemption to the repeat deal it helped win."""

    deal = forms.ModelChoiceField(queryset=Deal.objects.none(), required=False)

    def __init__(self, *args: Any, deals: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "deal").queryset = deals
