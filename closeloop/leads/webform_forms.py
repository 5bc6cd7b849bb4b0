"""Forms of the web form builder, and the parsing and field rows of the public form page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import QueryDict

from closeloop.accounts.models import User
from closeloop.accounts.selectors import user_list

from .models import Campaign, Source, WebForm
from .selectors import campaign_list, source_choices
from .webform_submissions import Submission
from .webforms import (
    CONSENT_FIELD,
    FIELD_SPECS,
    HONEYPOT_FIELD,
    MAX_LABEL,
    STARTED_FIELD,
    UTM_FIELDS,
    WebFormField,
    WebFormInput,
    webform_fields,
)


class WebFormSettingsForm(forms.Form):
    """Name, consent, what happens after sending, and where new leads go."""

    name = forms.CharField(max_length=120)
    consent_text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Consent text",
        help_text="Shown next to a checkbox; ticking it records marketing consent on the lead. "
        "Leave empty to ask for no consent.",
    )
    thank_you_message = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        initial="Thank you! We will be in touch soon.",
        label="Thank-you message",
    )
    redirect_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Or send visitors to this page",
        help_text="A full address, e.g. https://example.com/thanks; replaces the message.",
    )
    default_source = forms.ModelChoiceField(
        queryset=Source.objects.none(), required=False, empty_label="Website form"
    )
    default_campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        empty_label="The campaign matching utm_campaign, if any",
    )
    default_owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Nobody (unassigned)"
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_source"].queryset = source_choices()  # type: ignore[attr-defined]
        self.fields["default_campaign"].queryset = campaign_list()  # type: ignore[attr-defined]
        self.fields["default_owner"].queryset = user_list(user=user)  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(webform: WebForm) -> dict[str, Any]:
        names = ["name", "consent_text", "thank_you_message", "redirect_url"]
        initial: dict[str, Any] = {name: getattr(webform, name) for name in names}
        initial["default_source"] = webform.default_source_id
        initial["default_campaign"] = webform.default_campaign_id
        initial["default_owner"] = webform.default_owner_id
        return initial


class WebFormFieldsForm(forms.Form):
    """Which lead fields the form asks for, each with its label and whether it is required."""

    prefix = "fields"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for spec in FIELD_SPECS.values():
            self.fields[f"{spec.name}_on"] = forms.BooleanField(required=False, label=spec.label)
            self.fields[f"{spec.name}_label"] = forms.CharField(
                required=False,
                max_length=MAX_LABEL,
                label=f"Label of {spec.label}",
                widget=forms.TextInput(attrs={"placeholder": spec.label}),
            )
            self.fields[f"{spec.name}_required"] = forms.BooleanField(
                required=False, label=f"{spec.label} required"
            )

    @staticmethod
    def initial_for(webform: WebForm | None) -> dict[str, Any]:
        chosen = (
            webform_fields(webform)
            if webform
            else [
                WebFormField("first_name", "First name", False),
                WebFormField("last_name", "Last name", True),
                WebFormField("email", "Email", True),
            ]
        )
        initial: dict[str, Any] = {}
        for item in chosen:
            initial[f"{item.name}_on"] = True
            initial[f"{item.name}_label"] = item.label
            initial[f"{item.name}_required"] = item.required
        return initial

    def rows(self) -> list[tuple[Any, ...]]:
        """(name, include, label, required) bound fields, one row per lead field."""
        return [
            (name, self[f"{name}_on"], self[f"{name}_label"], self[f"{name}_required"])
            for name in FIELD_SPECS
        ]

    def chosen(self) -> list[WebFormField]:
        data = self.cleaned_data
        return [
            WebFormField(name, data[f"{name}_label"], data[f"{name}_required"])
            for name in FIELD_SPECS
            if data.get(f"{name}_on")
        ]


def webform_input(
    settings_form: WebFormSettingsForm, fields_form: WebFormFieldsForm
) -> WebFormInput:
    """The service's input from the two (valid) builder forms."""
    data = settings_form.cleaned_data
    return WebFormInput(
        name=data["name"],
        fields=fields_form.chosen(),
        consent_text=data["consent_text"],
        thank_you_message=data["thank_you_message"],
        redirect_url=data["redirect_url"],
        default_source=data["default_source"],
        default_campaign=data["default_campaign"],
        default_owner=data["default_owner"],
    )


@dataclass(frozen=True)
class PublicField:
    """One input of the public form, with the value to show again and its error."""

    name: str
    label: str
    required: bool
    input_type: str
    max_length: int
    value: str = ""
    error: str = ""


def public_fields(
    webform: WebForm, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> list[PublicField]:
    """The inputs the public page shows: only the fields the form asks for."""
    values, errors = values or {}, errors or {}
    return [
        PublicField(
            name=item.name,
            label=item.label,
            required=item.required,
            input_type=FIELD_SPECS[item.name].input_type,
            max_length=FIELD_SPECS[item.name].max_length,
            value=str(values.get(item.name, "")),
            error=errors.get(item.name, ""),
        )
        for item in webform_fields(webform)
    ]


def utm_from(*sources: QueryDict) -> dict[str, str]:
    """utm_* values from the first place that has each: posted hidden fields, then the URL."""
    utm: dict[str, str] = {}
    for name in UTM_FIELDS:
        value = next((s.get(name, "") for s in sources if s.get(name)), "")
        utm[name] = str(value)[:200]
    return utm


def submission_from_post(
    *, webform: WebForm, post: QueryDict, query: QueryDict, ip: str
) -> Submission:
    """What the visitor posted, for the service to check; fields the form lacks are dropped."""
    return Submission(
        values={item.name: post.get(item.name, "") for item in webform_fields(webform)},
        consent=post.get(CONSENT_FIELD) in ("1", "on", "true", "yes"),
        honeypot=post.get(HONEYPOT_FIELD, ""),
        started=post.get(STARTED_FIELD, ""),
        utm=utm_from(post, query),
        ip=ip,
    )
