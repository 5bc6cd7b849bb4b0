"""Forms for organizations and contacts: they parse input; the services decide and write."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet

from closeloop.accounts.models import User
from closeloop.accounts.selectors import user_list
from closeloop.core.exceptions import DomainError
from closeloop.core.stale import FieldGroup, simple_groups

from .models import Contact, Organization
from .selectors import organization_queryset
from .services import EmailInput, PhoneInput, email_inputs_text, phone_inputs_text

EXTRA_ROWS = 3  # blank email and phone rows offered below the existing ones
MAX_ROWS = 30  # a posted form never makes us build more rows than this
EMAIL_LABELS = ("work", "home", "other")
PHONE_LABELS = ("work", "mobile", "home", "fax", "other")
EMAIL_KEY = re.compile(r"email(_label)?_\d+")
PHONE_KEY = re.compile(r"phone(_label)?_\d+")


def _owner_choices(user: Any, current: User | None) -> QuerySet[User]:
    # The current owner stays selectable even when the editor could not pick them, so saving
    # an unrelated field never silently changes who owns the record.
    qs = user_list(user=user)
    if current is not None:
        qs = qs | User.objects.filter(pk=current.pk)
    return qs.distinct()


class DomainErrorFormMixin:
    """Shows a service's DomainError on the field it names, or above the form."""

    def add_domain_error(self, error: DomainError) -> None:
        field = error.field if error.field in self.fields else None  # type: ignore[attr-defined]
        self.add_error(field, error.message)  # type: ignore[attr-defined]


class OrganizationForm(DomainErrorFormMixin, forms.Form):
    """An organization's editable fields; owner choices are the users the editor may pick."""

    name = forms.CharField(max_length=200)
    domain = forms.CharField(max_length=200, required=False, help_text="e.g. example.com")
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")
    phone = forms.CharField(max_length=50, required=False)
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    industry = forms.CharField(max_length=100, required=False)
    size = forms.CharField(max_length=30, required=False, help_text="e.g. 11–50 employees")
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False,
        empty_label="Nobody (shared with everyone)",
    )  # fmt: skip
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(
        self, *args: Any, user: Any, instance: Organization | None = None, **kwargs: Any
    ) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial", {name: getattr(instance, name) for name in self.base_fields}
            )
        super().__init__(*args, **kwargs)
        current = instance.owner if instance is not None else None
        owner = self.fields["owner"]
        owner.queryset = _owner_choices(user, current)  # type: ignore[attr-defined]
        if instance is None:
            owner.initial = user.pk


def _organization_label(organization: Organization) -> str:
    return f"{organization.name} (in the trash)" if organization.is_trashed else organization.name


def _row_count(data: Any, prefix: str, existing: int) -> int:
    """How many rows to build: what was posted, or the existing ones plus a few blank ones."""
    if data is None:
        return existing + EXTRA_ROWS
    pattern = re.compile(rf"^{prefix}_(\d+)$")
    indexes = [int(m.group(1)) for key in data if (m := pattern.match(key))]
    return min(max(indexes, default=-1) + 1, MAX_ROWS)


class ContactForm(DomainErrorFormMixin, forms.Form):
    """A contact's fields plus rows of emails and phones (value and label each)."""

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    job_title = forms.CharField(max_length=150, required=False)
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(), required=False, empty_label="No organization"
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False,
        empty_label="Nobody (shared with everyone)",
    )  # fmt: skip
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    # the version the form was opened at: a save based on an older one is refused
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    email_labels = EMAIL_LABELS
    phone_labels = PHONE_LABELS
    main_field_names = ("first_name", "last_name", "job_title", "organization", "owner", "notes")

    def __init__(
        self,
        data: Any = None,
        *,
        user: Any,
        instance: Contact | None = None,
        initial: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        initial = dict(initial or {})
        emails = list(instance.emails.all()) if instance is not None else []
        phones = list(instance.phones.all()) if instance is not None else []
        if instance is not None:
            initial.update({name: getattr(instance, name) for name in self.main_field_names})
            initial["version"] = instance.version
        for i, email in enumerate(emails):
            initial.update({f"email_{i}": email.email, f"email_label_{i}": email.label})
        for i, phone in enumerate(phones):
            initial.update({f"phone_{i}": phone.raw, f"phone_label_{i}": phone.label})
        super().__init__(data, initial=initial, **kwargs)
        self.fields["version"].required = instance is not None
        data = self.data if self.is_bound else None
        self.email_count = _row_count(data, "email", len(emails))
        self.phone_count = _row_count(data, "phone", len(phones))
        self._add_rows()
        current_org = instance.organization if instance is not None else None
        orgs = organization_queryset(user=user)
        if current_org is not None:  # keep an existing link (to a hidden or trashed one) as it is
            orgs = orgs | Organization.with_trashed.filter(pk=current_org.pk)
        organization = self.fields["organization"]
        organization.queryset = orgs.order_by("name")  # type: ignore[attr-defined]
        organization.label_from_instance = _organization_label  # type: ignore[attr-defined]
        current_owner = instance.owner if instance is not None else None
        self.fields["owner"].queryset = _owner_choices(user, current_owner)  # type: ignore[attr-defined]
        if instance is None:
            self.fields["owner"].initial = user.pk

    def _add_rows(self) -> None:
        for i in range(self.email_count):
            self.fields[f"email_{i}"] = forms.EmailField(
                required=False, max_length=254, label=f"Email {i + 1}",
                error_messages={"invalid": "“%(value)s” is not a valid email address."},
                widget=forms.EmailInput(attrs={"placeholder": "name@example.com",
                                               "aria-label": f"Email {i + 1}"}),
            )  # fmt: skip
            self.fields[f"email_label_{i}"] = forms.CharField(
                required=False, max_length=30, label=f"Email {i + 1} label",
                widget=forms.TextInput(attrs={"list": "email-labels", "placeholder": "work",
                                              "aria-label": f"Email {i + 1} label"}),
            )  # fmt: skip
        for i in range(self.phone_count):
            self.fields[f"phone_{i}"] = forms.CharField(
                required=False, max_length=60, label=f"Phone {i + 1}",
                widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+49 30 1234567",
                                              "aria-label": f"Phone {i + 1}"}),
            )  # fmt: skip
            self.fields[f"phone_label_{i}"] = forms.CharField(
                required=False, max_length=30, label=f"Phone {i + 1} label",
                widget=forms.TextInput(attrs={"list": "phone-labels", "placeholder": "work",
                                              "aria-label": f"Phone {i + 1} label"}),
            )  # fmt: skip

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.main_field_names]

    def email_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"email_{i}"], self[f"email_label_{i}"]) for i in range(self.email_count)]

    def phone_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"phone_{i}"], self[f"phone_label_{i}"]) for i in range(self.phone_count)]

    # A list that was not posted at all is left as it is (None); a posted empty one clears it.
    def email_inputs(self) -> list[EmailInput] | None:
        if not self.email_count:
            return None
        data = self.cleaned_data
        return [
            EmailInput(email=data[f"email_{i}"], label=data[f"email_label_{i}"] or "work")
            for i in range(self.email_count)
            if data.get(f"email_{i}")
        ]

    def phone_inputs(self) -> list[PhoneInput] | None:
        if not self.phone_count:
            return None
        data = self.cleaned_data
        return [
            PhoneInput(number=data[f"phone_{i}"], label=data[f"phone_label_{i}"] or "work")
            for i in range(self.phone_count)
            if data.get(f"phone_{i}")
        ]

    def contact_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.main_field_names}

    def stale_groups(self, fresh: ContactForm) -> dict[str, FieldGroup]:
        """How the stale-edit page finds this form's values in the audit log: the main fields
        one input each, the emails and phones as their rows (`fresh` shows the stored ones)."""

        def rows(pairs: list[tuple[forms.BoundField, forms.BoundField]]) -> dict[str, Any]:
            return {bf.html_name: bf.value() for pair in pairs for bf in pair}

        return {
            **simple_groups(self, fresh, self.main_field_names),
            "emails": FieldGroup(
                owns=lambda key: EMAIL_KEY.fullmatch(key) is not None,
                posted=email_inputs_text(self.email_inputs() or []),
                current=rows(fresh.email_rows()),
            ),
            "phones": FieldGroup(
                owns=lambda key: PHONE_KEY.fullmatch(key) is not None,
                posted=phone_inputs_text(self.phone_inputs() or []),
                current=rows(fresh.phone_rows()),
            ),
        }

    def add_domain_error(self, error: DomainError) -> None:
        # The services name the email or phone list and quote the value: put it on that row.
        if error.field in ("emails", "phones"):
            prefix = error.field[:-1]
            count = self.email_count if prefix == "email" else self.phone_count
            for i in range(count):
                value = str(self.cleaned_data.get(f"{prefix}_{i}") or "").strip()
                if value and (f"“{value}”" in error.message or f"“{value[:20]}…”" in error.message):
                    self.add_error(f"{prefix}_{i}", error.message)
                    return
        super().add_domain_error(error)


class NoteForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a note…"}),
        max_length=100_000, error_messages={"required": "A note cannot be empty."},
    )  # fmt: skip
