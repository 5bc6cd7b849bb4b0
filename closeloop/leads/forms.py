"""Forms for leads, campaigns and sources: they parse input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from closeloop.accounts.models import User
from closeloop.accounts.selectors import user_list
from closeloop.core.exceptions import DomainError
from closeloop.core.money import CURRENCY_CODES, base_currency
from closeloop.pipeline.forms import AmountField

from .choices import OPEN_LEAD_STATUSES, CampaignChannel, LeadStatus
from .models import Campaign, Lead, Source
from .selectors import campaign_list, source_choices
from .services import LEAD_EDITABLE, MAX_NOTES, TEXT_LIMITS, LeadInput

MAX_BULK = 1000  # one bulk action never touches more leads than a few pages' worth


# Outcomes (qualified, nurturing, discarded) are set by the qualification services only.
OPEN_STATUS_CHOICES = [(s.value, s.label) for s in OPEN_LEAD_STATUSES]
OUTCOME_ELSEWHERE = (
    "Only new, contacted or qualifying can be set here: qualify, nurture or discard a lead with"
    " the buttons on its page."
)


class DomainErrorFormMixin:
    """Shows a service's DomainError on the field it names, or above the form."""

    def add_domain_error(self, error: DomainError) -> None:
        field = error.field if error.field in self.fields else None
        self.add_error(field, error.message)


def _text(name: str, label: str = "", **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        max_length=TEXT_LIMITS[name], required=False, label=label or None, **kwargs
    )


def _owner_choices(user: Any, current: User | None) -> QuerySet[User]:
    # The current owner stays selectable even when the editor could not pick them, so saving
    # an unrelated field never silently changes who owns the lead.
    qs = user_list(user=user)
    if current is not None:
        qs = qs | User.objects.filter(pk=current.pk)
    return qs.distinct()


class LeadForm(DomainErrorFormMixin, forms.Form):
    """Every field of a lead a person may type; owner, source and campaign from their lists."""

    first_name = _text("first_name")
    last_name = _text("last_name")
    email = forms.EmailField(
        max_length=254,
        required=False,
        error_messages={"invalid": "“%(value)s” is not a valid email address."},
    )
    phone = _text("phone", widget=forms.TextInput(attrs={"inputmode": "tel"}))
    job_title = _text("job_title")
    company_name = _text("company_name", "Company")
    company_domain = _text(
        "company_domain",
        "Company domain",
        help_text="e.g. example.com; taken from a business email address when left empty",
    )
    website = _text("website")
    company_size = _text("company_size", help_text="e.g. 11–50 employees")
    industry = _text("industry")
    country = _text("country", help_text="Two-letter code, e.g. DE")
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Nobody (shared with everyone)",
    )
    status = forms.ChoiceField(
        choices=OPEN_STATUS_CHOICES,
        initial=LeadStatus.NEW,
        error_messages={"invalid_choice": OUTCOME_ELSEWHERE},
    )
    source = forms.ModelChoiceField(
        queryset=Source.objects.none(), required=False, empty_label="Not known"
    )
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        empty_label="No campaign",
        help_text="Left empty, a campaign whose utm_campaign matches is chosen",
    )
    utm_source = _text("utm_source", "UTM source")
    utm_medium = _text("utm_medium", "UTM medium")
    utm_campaign = _text("utm_campaign", "UTM campaign")
    utm_term = _text("utm_term", "UTM term")
    utm_content = _text("utm_content", "UTM content")
    marketing_consent = forms.BooleanField(required=False, label="Consents to marketing")
    consent_method = _text(
        "consent_method",
        "How consent was given",
        help_text="e.g. “ticked the box on the trade-fair form”; the date is recorded",
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=MAX_NOTES,
        error_messages={"max_length": f"Notes can be at most {MAX_NOTES:,} characters long."},
    )
    external_id = _text("external_id", "External id", help_text="The lead's id in another system")
    # the version the form was opened at: a save based on an older one is refused
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, user: Any, instance: Lead | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {name: getattr(instance, name) for name in (*LEAD_EDITABLE, "version")},
            )
        super().__init__(*args, **kwargs)
        self.fields["version"].required = instance is not None
        self.fields["owner"].queryset = _owner_choices(user, instance.owner if instance else None)
        if instance is None:
            self.fields["owner"].initial = user.pk
        sources = source_choices()
        if instance is not None and instance.source_id:  # a retired source stays on the lead
            sources = sources | Source.objects.filter(pk=instance.source_id)
        self.fields["source"].queryset = sources.distinct()
        self.fields["campaign"].queryset = campaign_list()
        if instance is not None and instance.status not in OPEN_LEAD_STATUSES:
            # An outcome is left only by the lead's own buttons (reopen), so it is shown, not
            # offered: a disabled field keeps the lead's status whatever is posted.
            status = self.fields["status"]
            status.choices = [(instance.status, LeadStatus(instance.status).label)]
            status.disabled = True
            status.help_text = (
                "Set when the lead was qualified; the work goes on in its deal."
                if instance.status == LeadStatus.QUALIFIED
                else "Set by the lead's outcome: Reopen it on its page to work it again."
            )

    groups = (
        ("Person", ("first_name", "last_name", "email", "phone", "job_title")),
        ("Company", ("company_name", "company_domain", "website", "company_size", "industry",
                     "country")),
        ("Follow-up", ("owner", "status", "notes")),
        ("Attribution", ("source", "campaign", "utm_source", "utm_medium", "utm_campaign",
                         "utm_term", "utm_content", "external_id")),
        ("Consent", ("marketing_consent", "consent_method")),
    )  # fmt: skip

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.groups]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or self.cleaned_data
        if data.get("marketing_consent") and not data.get("consent_method"):
            self.add_error("consent_method", "Say how the lead gave consent.")
        return data

    def lead_input(self) -> LeadInput:
        return LeadInput(**{name: self.cleaned_data[name] for name in LEAD_EDITABLE})


class NoteForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a note…"}),
        max_length=MAX_NOTES,
        error_messages={
            "required": "A note cannot be empty.",
            "max_length": f"A note can be at most {MAX_NOTES:,} characters long.",
        },
    )


class LeadBulkForm(forms.Form):
    """A bulk action on the leads ticked in the inbox."""

    action = forms.ChoiceField(
        choices=[("assign", "Assign"), ("status", "Change status"), ("trash", "Delete")]
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    status = forms.ChoiceField(
        choices=[("", "—"), *OPEN_STATUS_CHOICES],
        required=False,
        error_messages={"invalid_choice": OUTCOME_ELSEWHERE},
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = user_list(user=user)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or self.cleaned_data
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        data["ids"] = sorted({int(v) for v in raw if str(v).isdigit()})[:MAX_BULK]
        if not data["ids"]:
            raise forms.ValidationError("Tick at least one lead first.")
        if data.get("action") == "assign" and not data.get("owner"):
            self.add_error("owner", "Choose who the leads go to.")
        if data.get("action") == "status" and not data.get("status"):
            self.add_error("status", "Choose the new status.")
        return data


class CampaignForm(DomainErrorFormMixin, forms.Form):
    """A campaign's name, channel, dates, cost and the utm_campaign that attributes leads to it."""

    name = forms.CharField(max_length=200)
    channel = forms.ChoiceField(choices=CampaignChannel.choices, initial=CampaignChannel.OTHER)
    starts_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    cost = AmountField(required=False)
    currency = forms.ChoiceField(choices=[], required=False)
    utm_campaign = forms.CharField(
        max_length=200,
        required=False,
        label="UTM campaign",
        help_text="Leads arriving with this utm_campaign value are attributed to the campaign",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args: Any, instance: Campaign | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial", {name: getattr(instance, name) for name in self.base_fields}
            )
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", "—"), *((c, c) for c in CURRENCY_CODES)]
        if instance is None:
            self.fields["currency"].initial = base_currency()

    def campaign_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}


class SourceForm(forms.Form):
    """Add a source, or rename or retire one (`source` names which)."""

    source = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(max_length=120)
    is_active = forms.BooleanField(required=False, initial=True, label="In use")
