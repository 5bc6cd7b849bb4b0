"""The subscription form: it parses input; the subscription services hold the rules."""

from __future__ import annotations

from django import forms

from .events import event_choices
from .models import MAX_URL_LENGTH


class WebhookSubscriptionForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=MAX_URL_LENGTH,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/closeloop-webhooks"}),
        help_text="An http:// or https:// address that accepts POST requests.",
    )
    description = forms.CharField(
        max_length=200, required=False, help_text="What receives them, for your own reference."
    )
    events = forms.MultipleChoiceField(
        choices=event_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only events about records you may see are sent.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")
