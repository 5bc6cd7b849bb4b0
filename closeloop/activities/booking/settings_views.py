"""Settings → Booking pages: a rep's own page, meeting types and weekly hours; team pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from closeloop.accounts.models import Team
from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404, query_int

from .forms import AvailabilityForm, BookingPageForm, MeetingTypeForm
from .models import AvailabilityRule, BookingPage, MeetingType
from .selectors import booking_pages_managed_by
from .services import availability_set, booking_page_save, meeting_type_save


def _form_error(form: Form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _public_url(request: HttpRequest, page: BookingPage) -> str:
    return request.build_absolute_uri(reverse("booking:page", args=[page.slug]))


def _teams_for(user: Any) -> list[Team]:
    """Teams whose page the user may create: any (admins), their own (managers), none (reps)."""
    if user.is_admin:
        return list(Team.objects.all())
    if user.is_manager:
        return list(user.teams.all())
    return []


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user: Any = request.user
    if user.is_admin or user.is_manager:
        return {"nav": "settings", "section": "booking", "layout": "settings/base.html", **extra}
    # Reps have no settings menu: they come here from their profile.
    return {"nav": "profile", "layout": "settings/booking_rep_base.html", **extra}


@login_required
@require_GET
def booking_settings(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    pages = list(booking_pages_managed_by(user=user).prefetch_related("meeting_types"))
    own = next((p for p in pages if p.owner_id == user.pk), None)
    team_pages = [p for p in pages if p.team_id is not None]
    with_page = {p.team_id for p in team_pages}
    context = _context(
        request,
        own=own,
        own_url=_public_url(request, own) if own else "",
        team_pages=[(p, _public_url(request, p)) for p in team_pages],
        teams_without_page=[t for t in _teams_for(user) if t.pk not in with_page],
        rules=list(AvailabilityRule.objects.filter(user=user)),
        zone=user.zone.key,
    )
    return render(request, "settings/booking.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def booking_page_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user: Any = request.user
    page = found_or_404(booking_pages_managed_by(user=user).filter(pk=pk).first()) if pk else None
    team = None
    if page is None:
        team_pk = query_int(request.GET, "team")
        if team_pk is not None:
            team = found_or_404(next((t for t in _teams_for(user) if t.pk == team_pk), None))
    initial = BookingPageForm.initial_for(page) if page else {
        "title": f"Book a meeting with {team or user.display_name}",
        "slug": str(team or user.display_name),
    }  # fmt: skip
    form = BookingPageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            page = booking_page_save(
                actor=user, page=page, owner=None if (page or team) else user, team=team,
                **form.cleaned_data,
            )  # fmt: skip
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Booking page saved: {_public_url(request, page)}")
            return redirect("booking:settings_page", pk=page.pk)
    context = _context(
        request,
        page=page,
        team=team or (page.team if page else None),
        form=form,
        public_url=_public_url(request, page) if page else "",
        meeting_types=list(page.meeting_types.all()) if page else [],
    )
    return render(request, "settings/booking_page_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_type_edit(request: HttpRequest, page_pk: int, pk: int | None = None) -> HttpResponse:
    user: Any = request.user
    page = found_or_404(booking_pages_managed_by(user=user).filter(pk=page_pk).first())
    item = found_or_404(MeetingType.objects.filter(page=page, pk=pk).first()) if pk else None
    form = MeetingTypeForm(
        request.POST or None, initial=MeetingTypeForm.initial_for(item) if item else None
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = meeting_type_save(actor=user, page=page, data=form.to_input(), meeting_type=item)
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, f"Meeting type “{item.name}” saved.")
            return redirect("booking:settings_page", pk=page.pk)
    context = _context(request, page=page, item=item, form=form)
    return render(request, "settings/booking_meeting_type_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def availability_edit(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    rules = list(AvailabilityRule.objects.filter(user=user))
    form = AvailabilityForm(request.POST or None, initial=AvailabilityForm.initial_for(rules))
    if request.method == "POST" and form.is_valid():
        try:
            availability_set(actor=user, user=user, windows=form.windows())
        except DomainError as error:
            _form_error(form, error)
        else:
            messages.success(request, "Your weekly hours are saved.")
            return redirect("booking:settings")
    context = _context(request, form=form, zone=user.zone.key)
    return render(request, "settings/booking_hours.html", context)
