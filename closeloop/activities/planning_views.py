"""Pages of planned work: scheduling from a record, one activity's page and its actions.

Every activity is looked up through `activity_get` (visibility): a guessed id of an activity
the user may not see is a 404, for reading and for every action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from closeloop.accounts.choices import Role
from closeloop.accounts.selectors import user_list
from closeloop.core.exceptions import DomainError
from closeloop.core.http import found_or_404
from closeloop.people.models import Contact

from .choices import MEETING_KINDS, ActivityKind
from .forms import CancelForm, CompleteForm, RescheduleForm, ScheduleForm
from .invites import activity_event, calendar_build
from .models import Activity
from .selectors import activity_get, activity_history
from .services import (
    activity_cancel,
    activity_complete,
    activity_reschedule,
    activity_schedule,
    deal_demo_stage,
)


@dataclass
class Record:
    """The deal, lead, contact or organization work is scheduled on."""

    kind: str
    obj: Any
    url: str
    contacts: QuerySet[Contact]

    @property
    def service_kwargs(self) -> dict[str, Any]:
        return {self.kind: self.obj}


def _with_email(qs: QuerySet[Contact]) -> QuerySet[Contact]:
    return (
        qs.filter(emails__isnull=False)
        .distinct()
        .prefetch_related("emails")
        .order_by("last_name", "first_name", "pk")
    )


def _record(request: HttpRequest, kind: str, pk: int) -> Record:
    """The record if the user may see it (404 otherwise) and the contacts one may invite."""
    from closeloop.leads.selectors import lead_get
    from closeloop.people.selectors import contact_get, contact_queryset, organization_get
    from closeloop.pipeline.selectors import deal_get

    user = request.user
    visible = contact_queryset(user=user)
    if kind == "deal":
        deal = found_or_404(deal_get(user=user, pk=pk))
        people = Q(pk=deal.contact_id) | Q(organization_id=deal.organization_id or 0)
        return Record(
            kind, deal, reverse("pipeline:deal_detail", args=[pk]), visible.filter(people)
        )
    if kind == "lead":
        lead = found_or_404(lead_get(user=user, pk=pk))
        return Record(kind, lead, reverse("leads:lead_detail", args=[pk]), visible.none())
    if kind == "contact":
        contact = found_or_404(contact_get(user=user, pk=pk))
        people = Q(pk=contact.pk) | Q(organization_id=contact.organization_id or 0)
        return Record(
            kind, contact, reverse("people:contact_detail", args=[pk]), visible.filter(people)
        )
    if kind == "organization":
        org = found_or_404(organization_get(user=user, pk=pk))
        return Record(
            kind,
            org,
            reverse("people:organization_detail", args=[pk]),
            visible.filter(organization=org),
        )
    raise Http404("Not found")


def _schedule_form(request: HttpRequest, record: Record) -> ScheduleForm:
    user: Any = request.user
    may_assign = user.role in (Role.MANAGER, Role.ADMIN)
    return ScheduleForm(
        request.POST or None,
        user=user,
        contacts=_with_email(record.contacts),
        colleagues=user_list(user=user).exclude(pk=user.pk).order_by("full_name", "email"),
        owners=user_list(user=user).order_by("full_name", "email") if may_assign else None,
        with_lead=record.kind == "lead",
        with_demo_stage=record.kind == "deal" and deal_demo_stage(record.obj) is not None,
    )


@login_required
def schedule(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Plan a call, meeting, demo or task on a record. htmx gets the form back (with its
    errors) or is sent to the record's page; without htmx it is a page of its own."""
    record = _record(request, kind, pk)
    form = _schedule_form(request, record)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = activity_schedule(
                actor=request.user,
                kind=data["kind"],
                subject=data["subject"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                time_zone=data["time_zone"],
                location=data["location"],
                body=data["notes"],
                owner=data.get("owner") or request.user,
                attendee_contacts=list(data["attendee_contacts"]),
                attendee_users=list(data["attendee_users"]),
                attendee_leads=[record.obj] if data.get("invite_lead") else [],
                send_invites=data["send_invites"],
                move_deal_to_demo=bool(
                    data.get("move_to_demo") and data["kind"] == ActivityKind.DEMO
                ),
                **record.service_kwargs,
            )
        except DomainError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request, f"{activity.get_kind_display()} “{activity.subject}” scheduled."
            )
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect(record.url)
            return redirect(record.url)
    context = {"form": form, "record": record, "nav": "work"}
    if getattr(request, "htmx", False):
        return render(request, "activities/schedule.html#schedule_form", context)
    return render(request, "activities/schedule.html", context)


def _activity_or_404(request: HttpRequest, pk: int) -> Activity:
    return found_or_404(activity_get(user=request.user, pk=pk))


@login_required
@require_GET
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity_or_404(request, pk)
    if not activity.is_planned:
        raise Http404("Not found")
    local = timezone.localtime(activity.due_at)
    return render(
        request,
        "activities/activity_detail.html",
        {
            "act": activity,
            "history": activity_history(activity=activity),
            "reschedule_form": RescheduleForm(
                initial={
                    "date": local.date(),
                    "start": local.time().replace(second=0, microsecond=0),
                    "time_zone": activity.zone.key,
                }
            ),
            "complete_form": CompleteForm(
                initial={"outcome": "held" if activity.kind in MEETING_KINDS else ""}
            ),
            "cancel_form": CancelForm(),
            "nav": "work",
        },
    )


def _back(request: HttpRequest, activity: Activity) -> HttpResponse:
    return redirect("activity:detail", pk=activity.pk)


@login_required
@require_POST
def activity_reschedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity_or_404(request, pk)
    form = RescheduleForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            activity = activity_reschedule(
                actor=request.user,
                activity=activity,
                starts_at=data["starts_at"],
                time_zone=data["time_zone"],
                send_invites=data["send_invites"],
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Rescheduled.")
    else:
        messages.error(request, "Give a date and a start time.")
    return _back(request, activity)


@login_required
@require_POST
def activity_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark done; htmx (the timeline's and "My work"'s quick Done) gets the updated row."""
    activity = _activity_or_404(request, pk)
    form = CompleteForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            activity = activity_complete(
                actor=request.user,
                activity=activity,
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
            )
        except DomainError as exc:
            error = exc.message
    else:
        error = "Choose held, no-show or rescheduled."
    if getattr(request, "htmx", False):
        return render(request, "activities/_planned.html", {"act": activity, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"“{activity.subject}” is done.")
    return _back(request, activity)


@login_required
@require_POST
def activity_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity_or_404(request, pk)
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        activity = activity_cancel(
            actor=request.user,
            activity=activity,
            reason=form.cleaned_data.get("reason", ""),
            send_invites=form.cleaned_data.get("send_invites", False),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{activity.subject}” is cancelled.")
    return _back(request, activity)


@login_required
@require_GET
def activity_ics_download(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Add to calendar": the activity as an .ics file any calendar app imports."""
    activity = _activity_or_404(request, pk)
    if not activity.is_planned:
        raise Http404("Not found")
    body = calendar_build(
        [activity_event(activity, attendees=activity.attendees.all())], method="PUBLISH"
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="activity-{activity.pk}.ics"'
    return response
