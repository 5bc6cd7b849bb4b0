"""Settings pages for users, teams and the workspace (admins only)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404

from . import services
from .forms import (
    ApiTokenForm,
    LoginForm,
    PasswordSetForm,
    SignatureForm,
    TeamForm,
    ThrottledPasswordChangeForm,
    TimeZoneForm,
    UserCreateForm,
    UserForm,
    WorkspaceForm,
)
from .models import ApiToken, User
from .selectors import (
    api_token_get,
    api_token_list,
    team_list,
    user_list,
    workspace_settings,
)

View = Callable[..., HttpResponse]


class LoginView(auth_views.LoginView):
    """The login page; a login refused by the throttle answers 429 with Retry-After."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        refusal = getattr(self.request, "login_refusal", None)
        if refusal is not None:
            response.status_code = 429
            response["Retry-After"] = str(refusal.retry_after)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change your own password: the current one is checked (and throttled like a login), the
    new one must pass the password rules. Your other sessions end; this one stays signed in."""

    template_name = "accounts/password_change.html"
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form: Form) -> HttpResponse:
        response = super().form_invalid(form)
        if any(e.code == "throttled" for e in form.errors.as_data().get("old_password", [])):
            response.status_code = 429
        return response


def admin_required(view: View) -> View:
    """Only admins manage users, teams and the workspace; everyone else gets 403."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not getattr(request.user, "is_admin", False):
            raise PermissionDenied("Only admins can manage users, teams and the workspace.")
        return view(request, *args, **kwargs)

    return wrapped


def _form_error(form: Form, error: DomainError) -> None:
    """Show a service's refusal on the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _user_or_404(pk: int) -> User:
    return found_or_404(User.objects.filter(pk=pk).first())


def _render_users(request: HttpRequest, *, team_form: TeamForm | None = None) -> HttpResponse:
    users = user_list(user=request.user, include_inactive=True).prefetch_related("teams")
    return render(request, "settings/users.html", {
        "nav": "settings", "section": "users",
        "users": users.order_by("-is_active", "full_name", "email"),
        "teams": team_list(user=request.user).annotate(member_count=Count("members")),
        "team_form": team_form or TeamForm(),
    })  # fmt: skip


@admin_required
@require_GET
def users(request: HttpRequest) -> HttpResponse:
    """Every user (active first) with role, teams and status, and the teams."""
    return _render_users(request)


@admin_required
def user_create(request: HttpRequest) -> HttpResponse:
    teams = team_list(user=request.user)
    form = UserCreateForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"{user.display_name} can now log in with {user.email}.")
            return redirect("settings:users")
    return render(request, "settings/user_form.html",
                  {"nav": "settings", "section": "users", "form": form})  # fmt: skip


@admin_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a user's name, role and teams; the page also sets their password."""
    user = _user_or_404(pk)
    initial = {"full_name": user.full_name, "role": user.role, "teams": list(user.teams.all())}
    form = UserForm(request.POST or None, initial=initial, teams=team_list(user=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=request.user, user=user, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"{user.display_name} saved.")
            return redirect("settings:users")
    return render(request, "settings/user_form.html", {
        "nav": "settings", "section": "users", "form": form, "edited": user,
        "password_form": PasswordSetForm(),
    })  # fmt: skip


@admin_required
@require_POST
def user_set_password(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    password_form = PasswordSetForm(request.POST)
    if password_form.is_valid():
        try:
            services.user_set_password(
                actor=request.user, user=user, password=password_form.cleaned_data["password"]
            )
        except DomainError as error:
            _form_error(password_form, error)
        else:
            messages.success(request, f"New password set for {user.display_name}.")
            return redirect("settings:users")
    initial = {"full_name": user.full_name, "role": user.role, "teams": list(user.teams.all())}
    return render(request, "settings/user_form.html", {
        "nav": "settings", "section": "users", "edited": user, "password_form": password_form,
        "form": UserForm(initial=initial, teams=team_list(user=request.user)),
    })  # fmt: skip


@admin_required
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (they can no longer log in; their records stay) or reactivate a user."""
    user = _user_or_404(pk)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(actor=request.user, user=user, active=active)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        state = "active again" if active else "deactivated: they can no longer log in"
        messages.success(request, f"{user.display_name} is {state}.")
    return redirect("settings:users")


@admin_required
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            team = services.team_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Team “{team.name}” added.")
            return redirect("settings:users")
    return _render_users(request, team_form=form)


@admin_required
def workspace(request: HttpRequest) -> HttpResponse:
    """The workspace name, base currency and what reps see."""
    ws = workspace_settings()
    initial = {"name": ws.name, "base_currency": ws.base_currency,
               "rep_visibility": ws.rep_visibility, "send_as_user": ws.send_as_user}  # fmt: skip
    form = WorkspaceForm(request.POST or None, initial=initial)
    if not settings.EMAIL_ALLOW_USER_FROM:
        form.fields["send_as_user"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.workspace_update(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, "Workspace settings saved.")
            return redirect("settings:workspace")
    return render(request, "settings/workspace.html",
                  {"nav": "settings", "section": "workspace", "form": form})  # fmt: skip


# The profile page's sections: the form, the user fields it edits, the service that saves them
# (called as service(actor=, user=, **fields)) and what to say once saved.
PROFILE_SECTIONS: dict[str, tuple[type[Form], tuple[str, ...], Any, str]] = {
    "time_zone": (
        TimeZoneForm, ("time_zone",), services.user_time_zone_update, "Your time zone is saved."
    ),
    "signature": (
        SignatureForm, ("signature",), services.user_signature_update, "Your signature is saved."
    ),
}  # fmt: skip


def _render_profile(
    request: HttpRequest,
    *,
    section_forms: dict[str, Form] | None = None,
    token_form: ApiTokenForm | None = None,
    new_token: tuple[ApiToken, str] | None = None,
) -> HttpResponse:
    user = cast(User, request.user)
    if section_forms is None:
        section_forms = {
            name: form_class(initial={field: getattr(user, field) for field in fields})
            for name, (form_class, fields, _save, _done) in PROFILE_SECTIONS.items()
        }
    return render(request, "accounts/profile.html", {
        "nav": "profile", "section_forms": section_forms,
        "token_form": token_form or ApiTokenForm(), "tokens": api_token_list(user=user),
        "new_token": new_token[0] if new_token else None,
        "new_secret": new_token[1] if new_token else "",
    })  # fmt: skip


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Your own account: name, email, role, and a form for each setting of your own."""
    user = cast(User, request.user)
    posted = request.POST.get("section", "") if request.method == "POST" else None
    section_forms = {
        name: form_class(
            request.POST if name == posted else None,
            initial={field: getattr(user, field) for field in fields},
        )
        for name, (form_class, fields, _save, _done) in PROFILE_SECTIONS.items()
    }
    form = section_forms.get(posted or "")
    if form is not None and form.is_valid():
        _form_class, fields, save, done = PROFILE_SECTIONS[posted or ""]
        try:
            save(actor=user, user=user, **{field: form.cleaned_data[field] for field in fields})
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, done)
            return redirect("accounts:profile")
    return _render_profile(request, section_forms=section_forms)


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    """Create a token of your own and show its secret on this one answer (never again)."""
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            created = services.api_token_create(
                actor=request.user, user=cast(User, request.user), **form.cleaned_data
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            # Rendered, not redirected: the secret is never stored, so it cannot be shown later.
            return _render_profile(request, new_token=created)
    return _render_profile(request, token_form=form)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop one of your own tokens from working, at once; anyone else's answers 404."""
    token = found_or_404(api_token_get(user=request.user, pk=pk))
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, f"The token “{token.name or token.prefix}” no longer works.")
    return redirect("accounts:profile")
