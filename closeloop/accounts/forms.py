"""Login and the user, team and workspace settings forms: they parse input, services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from closeloop.core.money import CURRENCY_CODES
from closeloop.core.ratelimit import RateLimited, client_ip
from closeloop.core.zones import zone_names

from .choices import RepVisibility, Role, TokenScope
from .login_throttle import login_failure_record, login_throttle_check
from .models import Team


class ThrottledLoginMixin:
    """Shows the throttle's refusal (left on the request by the backend) instead of the usual
    "wrong email or password"."""

    request: HttpRequest | None

    def get_invalid_login_error(self) -> ValidationError:
        refusal = getattr(self.request, "login_refusal", None)
        if isinstance(refusal, RateLimited):
            return ValidationError(refusal.message, code="throttled")
        return super().get_invalid_login_error()  # type: ignore[misc]


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The Django admin's login, throttled like the login page."""


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The password page: a wrong current password counts as a failed login of the account (a
    stolen session must not become a way to guess the password)."""

    def __init__(self, user: Any, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        email, ip = self.user.email, client_ip(self.request)
        try:
            login_throttle_check(email=email, ip=ip)
        except RateLimited as refusal:
            raise ValidationError(refusal.message, code="throttled") from refusal
        try:
            return str(super().clean_old_password())
        except ValidationError:
            login_failure_record(email=email, ip=ip)
            raise


class UserForm(forms.Form):
    """Name, role and teams of a user; the teams offered are the ones `teams` holds."""

    full_name = forms.CharField(max_length=150, required=False, label="Name")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REP)
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = teams


class UserCreateForm(UserForm):
    # A plain text field: the service checks the address and names the problem.
    email = forms.CharField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )  # fmt: skip
    field_order = ["email", "full_name", "role", "teams", "password"]


class PasswordSetForm(forms.Form):
    password = forms.CharField(
        label="New password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )  # fmt: skip


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120, label="Team name")


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Workspace name")
    base_currency = forms.ChoiceField(
        choices=[(code, code) for code in CURRENCY_CODES],
        help_text="Totals, the board and the forecast are shown in this currency.",
    )  # fmt: skip
    rep_visibility = forms.ChoiceField(
        label="What sales reps see", choices=RepVisibility.choices, widget=forms.RadioSelect,
        help_text="Besides their own records. Admins see everything, managers their teams'.",
    )  # fmt: skip
    send_as_user = forms.BooleanField(
        label="Send users' emails from their own address", required=False,
        help_text="Otherwise mail goes from the workspace address as “Ann Smith via …”, "
        "with replies to the user. Needs a mail server that allows it (EMAIL_ALLOW_USER_FROM).",
    )  # fmt: skip


class SignatureForm(forms.Form):
    signature = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Added under the emails you send from Closeloop (plain text; links work).",
    )  # fmt: skip


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False, label="Time zone",
        help_text="Times on every page, in calendar invites and on your booking page.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = f"Server default ({settings.TIME_ZONE})"
        self.fields["time_zone"].choices = [("", default), *((n, n) for n in zone_names())]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, label="Token name", help_text="What it is for, e.g. “website form”.",
    )  # fmt: skip
    scope = forms.ChoiceField(
        label="Access", choices=TokenScope.choices, initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text="A read-only token may list and read records; it cannot change anything.",
    )  # fmt: skip
