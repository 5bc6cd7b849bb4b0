"""The assignment rule form: it parses input; the assignment services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from closeloop.accounts.models import Team, User

from .assignment import RuleInput
from .models import Campaign, Source


class AssignmentRuleForm(forms.Form):
    name = forms.CharField(max_length=120, label="Rule name")
    source = forms.ModelChoiceField(
        queryset=Source.objects.all(), required=False, empty_label="Any source"
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.all(), required=False, empty_label="Any campaign"
    )
    country = forms.CharField(
        max_length=2, required=False, help_text="Two-letter code such as DE; empty: any country."
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        empty_label="—",
        help_text="Round-robin among the team's reps…",
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        empty_label="—",
        label="or one user",
        help_text="…or always the same person.",
    )
    cap_per_rep = forms.IntegerField(
        required=False,
        min_value=1,
        label="Cap per rep",
        help_text="Most open leads a rep may hold before being skipped. Empty: no cap.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def rule_input(self) -> RuleInput:
        data: dict[str, Any] = self.cleaned_data
        return RuleInput(
            name=data["name"],
            source=data.get("source"),
            campaign=data.get("campaign"),
            country=data.get("country") or "",
            team=data.get("team"),
            user=data.get("user"),
            cap_per_rep=data.get("cap_per_rep"),
            is_active=bool(data.get("is_active")),
        )


class RuleMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])
