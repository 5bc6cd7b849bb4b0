"""The referral settings form: which web form a referral link's landing page shows."""

from __future__ import annotations

from typing import Any

from django import forms

from closeloop.leads.models import WebForm


class ReferralProgramForm(forms.Form):
    """Pick one active web form, or none (the landing page then lists the booking pages)."""

    webform = forms.ModelChoiceField(
        queryset=WebForm.objects.none(),
        required=False,
        label="Web form on the referral page",
        empty_label="None: show the booking pages instead",
        help_text="People who open a customer's referral link see this form; the leads it "
        "makes are marked as referred by that customer.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["webform"]
        field.queryset = WebForm.objects.filter(is_active=True).order_by("name", "pk")
