"""Forms of qualification: a scorecard item, the three outcomes, and the settings page."""

from __future__ import annotations

from typing import Any

from django import forms

from closeloop.people.models import Contact, Organization
from closeloop.people.selectors import contact_queryset, organization_queryset
from closeloop.pipeline.forms import AmountField
from closeloop.pipeline.models import Pipeline, Stage
from closeloop.pipeline.selectors import pipeline_list

from .choices import CriterionStatus
from .forms import DomainErrorFormMixin
from .models import DisqualifyReason, Lead
from .qualification import contact_candidates, organization_candidates

PICK_LIMIT = 500  # the "pick an existing one" lists; the candidates above them come first


class ScorecardItemForm(DomainErrorFormMixin, forms.Form):
    """One criterion's answer: status, note and the details that criterion has."""

    status = forms.ChoiceField(choices=CriterionStatus.choices)
    note = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )
    budget_min = AmountField(required=False, label="Budget from")
    budget_max = AmountField(required=False, label="Budget to")
    budget_currency = forms.CharField(required=False, max_length=3, label="Currency")
    decision_maker = forms.CharField(required=False, max_length=200, label="Who decides")
    contact_is_decision_maker = forms.NullBooleanField(
        required=False,
        label="Our contact decides",
        widget=forms.Select(choices=[("unknown", "Not known"), ("true", "Yes"), ("false", "No")]),
    )
    buy_by = forms.DateField(
        required=False, label="Buys by", widget=forms.DateInput(attrs={"type": "date"})
    )
    # the lead's version the panel was shown at: a save over someone's newer answer is refused
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _first(qs: Any) -> Any:
    """The first PICK_LIMIT records, as a queryset a choice field can still validate against."""
    return qs.filter(pk__in=list(qs.values_list("pk", flat=True)[:PICK_LIMIT]))


def _choice_label_contact(contact: Any) -> str:
    email = contact.primary_email
    return f"Link to {contact.full_name}" + (f" ({email})" if email else "")


class QualifyForm(DomainErrorFormMixin, forms.Form):
    """Where the deal goes and who it is with: new records or the duplicates found."""

    pipeline = forms.ModelChoiceField(queryset=Pipeline.objects.none(), empty_label=None)
    stage = forms.ModelChoiceField(
        queryset=Stage.objects.none(), required=False, empty_label="First stage of the pipeline"
    )
    title = forms.CharField(max_length=200, required=False, label="Deal title")
    value = AmountField(required=False, label="Value", help_text="empty: the budget's upper end")
    contact = forms.ChoiceField(widget=forms.RadioSelect, label="Contact")
    contact_existing: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, label="…or pick an existing contact"
    )
    organization = forms.ChoiceField(widget=forms.RadioSelect, label="Organization")
    organization_existing: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label="…or pick an existing organization",
    )
    override_reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Why qualify it below the threshold?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self, *args: Any, lead: Lead, user: Any, ask_override: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        if not ask_override:
            del fields["override_reason"]
        fields["pipeline"].queryset = pipeline_list()
        fields["stage"].queryset = Stage.objects.select_related("pipeline").order_by(
            "pipeline__position", "pipeline_id", "position"
        )
        fields["stage"].label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"
        self.contacts = contact_candidates(user=user, lead=lead)
        contact_choices = [(f"c{c.pk}", _choice_label_contact(c)) for c in self.contacts]
        contact_choices.append(("new", "Create a new contact from the lead"))
        fields["contact"].choices = contact_choices
        fields["contact_existing"].queryset = _first(contact_queryset(user=user))
        self.organizations = organization_candidates(user=user, lead=lead)
        org_choices = [(f"o{o.pk}", f"Link to {o.name}") for o in self.organizations]
        org_choices.append(
            ("new", f"Create “{lead.company_name}”")
            if lead.company_name
            else ("none", "No organization")
        )
        fields["organization"].choices = org_choices
        fields["organization_existing"].queryset = _first(organization_queryset(user=user))
        self.initial.setdefault("contact", contact_choices[0][0])
        self.initial.setdefault("organization", org_choices[0][0])
        default = next((p for p in pipeline_list() if p.is_default), None)
        if default is not None:
            self.initial.setdefault("pipeline", default.pk)
        self.initial.setdefault("title", lead.company_name or lead.full_name)

    def _pick(self, choice: str, existing: Any, records: list[Any]) -> Any:
        if existing is not None:
            return existing
        if choice == "new":
            return "new"
        if choice == "none":
            return None
        return next((r for r in records if f"{choice[1:]}" == str(r.pk)), None)

    def outcome_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "pipeline": data["pipeline"],
            "stage": data["stage"],
            "title": data["title"] or None,
            "value": data["value"],
            "contact": self._pick(data["contact"], data["contact_existing"], self.contacts),
            "organization": self._pick(
                data["organization"], data["organization_existing"], self.organizations
            ),
            "override_reason": data.get("override_reason", ""),
        }


class NurtureForm(DomainErrorFormMixin, forms.Form):
    reason = forms.CharField(max_length=300, label="Why wait?")
    until = forms.DateField(label="Revisit on", widget=forms.DateInput(attrs={"type": "date"}))
    remind_to_email = forms.BooleanField(
        required=False, label="Remind me to send a nurture email before then"
    )
    email_template_note = forms.CharField(
        required=False,
        max_length=10_000,
        label="What the email should say",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DisqualifyForm(DomainErrorFormMixin, forms.Form):
    reason = forms.ModelChoiceField(
        queryset=DisqualifyReason.objects.filter(is_active=True), empty_label="Choose a reason…"
    )
    note = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CriterionForm(DomainErrorFormMixin, forms.Form):
    name = forms.CharField(max_length=80)
    question = forms.CharField(max_length=300, required=False)
    weight = forms.IntegerField(min_value=0, max_value=100, initial=10)


class NamedForm(forms.Form):
    name = forms.CharField(max_length=120)
    is_active = forms.BooleanField(required=False)
