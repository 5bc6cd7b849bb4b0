from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from closeloop.accounts.models import User
from closeloop.accounts.selectors import user_list
from closeloop.core.money import CURRENCY_CODES, base_currency, parse_amount
from closeloop.leads.models import Campaign, Source
from closeloop.people.models import Contact, Organization
from closeloop.people.selectors import contact_queryset, organization_queryset

from .models import LostReason, Stage
from .selectors import lost_reason_choices, pipeline_list


class AmountField(forms.CharField):
    """Accepts '1,200.50', '1.200,50' or '1200'; returns a Decimal."""

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value in ("", None):
            return None
        try:
            return parse_amount(value)
        except ValueError as exc:
            raise forms.ValidationError(f"“{value}” is not an amount.") from exc


class DealForm(forms.Form):
    """The fields a person edits on a deal; choices only offer records they may see."""

    title = forms.CharField(max_length=200)
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False)
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    owner = forms.ModelChoiceField(queryset=User.objects.none())
    value = AmountField(required=False, initial="0")
    currency = forms.ChoiceField(choices=[])
    expected_close_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.ModelChoiceField(
        queryset=Source.objects.none(), required=False, help_text="Where the deal came from."
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        help_text="The campaign it is attributed to (counts on the campaign's page).",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # retired sources stay valid on deals that already have them, but are not offered anew
        current = self.initial.get("source")
        current_pk = getattr(current, "pk", current)
        self.fields["source"].queryset = Source.objects.filter(
            Q(is_active=True) | Q(pk=current_pk or 0)
        )
        self.fields["campaign"].queryset = Campaign.objects.all()
        self.fields["organization"].queryset = organization_queryset(user=user)
        self.fields["contact"].queryset = contact_queryset(user=user).select_related("organization")
        self.fields["owner"].queryset = user_list(user=user)
        self.fields["owner"].initial = user.pk
        self.fields["currency"].choices = [(c, c) for c in CURRENCY_CODES]
        self.fields["currency"].initial = base_currency()


class StageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.pipeline.name} · {obj.name}"


class DealCreateForm(DealForm):
    stage = StageChoiceField(
        queryset=Stage.objects.none(),
        help_text="Where the deal starts (the pipeline's first stage by default).",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        stage_field = self.fields["stage"]
        stage_field.queryset = (
            Stage.objects.filter(pipeline__in=pipeline_list())
            .select_related("pipeline")
            .order_by("-pipeline__is_default", "pipeline__position", "position")
        )
        first = stage_field.queryset.first()
        stage_field.initial = first.pk if first else None


class DealEditForm(DealForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class LoseForm(forms.Form):
    """Losing a deal needs a reason from the list; competitor and note are optional."""

    reason = forms.ModelChoiceField(
        queryset=LostReason.objects.none(),
        empty_label="Choose a reason…",
        error_messages={"required": "Pick the reason the deal was lost."},
    )
    competitor = forms.CharField(max_length=200, required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = lost_reason_choices()


class NoteForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a note…"}),
        max_length=100_000,
    )
