"""Activities over the API: the timeline's entries, and planned work (calls, meetings, demos,
tasks) scheduled, rescheduled, completed and cancelled with the planning services.

Reading follows the timeline's rule: an activity on a deal shows with the deal, one without a
deal with its lead, contact or organization, and anyone sees what they own, planned or attend.
Changing planned work is for its owner, whoever planned it, a manager of the owner's team and
admins; anyone else who sees it gets 403. Calendar invites go out only when asked
(`send_invites: true`): a client syncing from another calendar must not mail everyone again.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from closeloop.accounts.choices import Role
from closeloop.accounts.selectors import user_list
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.selectors import ActivityFilters, activity_get, activity_list
from closeloop.activities.services import (
    activity_cancel,
    activity_complete,
    activity_require_editable,
    activity_reschedule,
    activity_schedule,
)
from closeloop.leads.selectors import lead_get
from closeloop.people.selectors import contact_queryset, organization_queryset
from closeloop.pipeline.selectors import deal_get

from .errors import ERRORS, WRITE_ERRORS, ApiError, field_error, not_found
from .ids import PathId, RecordId
from .lists import ListQuery, Page, page_of
from .moments import Moment
from .roles import role_required

router = Router(tags=["activities"])

ACTIVITY_ORDERINGS = ("created_at", "updated_at", "due_at")


class PlannedKind(StrEnum):
    CALL = ActivityKind.CALL.value
    MEETING = ActivityKind.MEETING.value
    DEMO = ActivityKind.DEMO.value
    TASK = ActivityKind.TASK.value


class Outcome(StrEnum):
    HELD = "held"
    NO_SHOW = "no_show"
    RESCHEDULED = "rescheduled"


class AttendeeOut(Schema):
    name: str
    email: str
    user_id: int | None
    contact_id: int | None
    lead_id: int | None


class ActivityOut(Schema):
    id: int
    kind: ActivityKind
    subject: str
    body: str
    state: str = Field(..., description="open, overdue, done or cancelled; empty for notes")
    due_at: dt.datetime | None
    ends_at: dt.datetime | None
    time_zone: str
    location: str
    done_at: dt.datetime | None
    outcome: str = Field(..., description="held, no_show, rescheduled, cancelled or empty")
    owner_id: int | None
    owner_email: str | None
    actor_id: int | None = Field(..., description="who recorded or planned it")
    deal_id: int | None
    lead_id: int | None
    contact_id: int | None
    organization_id: int | None
    attendees: list[AttendeeOut]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_owner_email(obj: Activity) -> str | None:
        return obj.owner.email if obj.owner else None

    @staticmethod
    def resolve_attendees(obj: Activity) -> list[Any]:
        return list(obj.attendees.all())


class ActivityListQuery(ListQuery):
    owner_id: RecordId | None = None
    deal_id: RecordId | None = None
    lead_id: RecordId | None = None
    contact_id: RecordId | None = None
    organization_id: RecordId | None = None
    kind: ActivityKind | None = None
    done: bool | None = Field(
        None, description="true: done; false: open planned work (not done, not cancelled)"
    )
    due_from: Moment | None = Field(None, description="due at or after this time")
    due_to: Moment | None = Field(None, description="due before this time")


class ActivityIn(Schema):
    kind: PlannedKind
    subject: str = Field(..., min_length=1, max_length=200)
    starts_at: Moment = Field(..., description="with its offset, e.g. 2026-05-04T10:00:00+02:00")
    ends_at: Moment | None = Field(None, description="meetings and demos: 30 minutes by default")
    time_zone: str = Field("", max_length=64, description="e.g. Europe/Berlin")
    location: str = Field("", max_length=500)
    body: str = Field("", max_length=100_000, description="notes")
    owner_id: RecordId | None = Field(None, description="who does it; the token's user by default")
    deal_id: RecordId | None = None
    lead_id: RecordId | None = None
    contact_id: RecordId | None = None
    organization_id: RecordId | None = None
    attendee_contact_ids: list[RecordId] = Field([], max_length=50)
    attendee_user_ids: list[RecordId] = Field([], max_length=50)
    invite_lead: bool = Field(False, description="invite the lead (`lead_id`) too")
    send_invites: bool = Field(False, description="email calendar invites to the attendees")
    move_deal_to_demo: bool = Field(False, description="a demo moves its deal to the demo stage")


class ActivityPatch(Schema):
    """Reschedule open planned work: only the fields sent change; it keeps its length."""

    starts_at: Moment | None = None
    ends_at: Moment | None = None
    time_zone: str | None = Field(None, max_length=64)
    location: str | None = Field(None, max_length=500)
    subject: str | None = Field(None, min_length=1, max_length=200)
    send_invites: bool = Field(False, description="send the attendees the updated invite")


class CompleteIn(Schema):
    outcome: Outcome | None = Field(None, description="calls and meetings: held by default")
    note: str = Field("", max_length=100_000)


class CancelQuery(Schema):
    reason: str = Field("", max_length=2000)
    send_invites: bool = Field(False, description="send the attendees the cancellation")


def _visible(request: HttpRequest, activity_id: int) -> Activity:
    activity = activity_get(user=request.user, pk=activity_id)
    if activity is None:
        raise not_found("activity")
    return activity


def _editable(request: HttpRequest, activity_id: int) -> Activity:
    """The activity, if the token's user may see it (else 404) and change it (else 403)."""
    activity = _visible(request, activity_id)
    role_required(lambda user, _: activity_require_editable(user, activity), request.user, "")
    return activity


def _records(request: HttpRequest, payload: ActivityIn) -> dict[str, Any]:
    """The deal, lead, contact and organization named, each one the token's user may see."""
    user = request.user
    finders = {
        "deal": lambda pk: deal_get(user=user, pk=pk),
        "lead": lambda pk: lead_get(user=user, pk=pk),
        "contact": lambda pk: contact_queryset(user=user).filter(pk=pk).first(),
        "organization": lambda pk: organization_queryset(user=user).filter(pk=pk).first(),
    }
    records: dict[str, Any] = {}
    for name, find in finders.items():
        pk = getattr(payload, f"{name}_id")
        if pk is not None:
            records[name] = find(pk)
            if records[name] is None:
                raise field_error(f"{name}_id", f"Unknown {name} id {pk}.")
    if not records:
        raise field_error("deal_id", "Name the deal, lead, contact or organization it is about.")
    return records


def _people(queryset: Any, ids: list[int], field: str) -> list[Any]:
    found = list(queryset.filter(pk__in=ids))
    missing = sorted(set(ids) - {p.pk for p in found})
    if missing:
        raise field_error(field, f"Unknown id {missing[0]}.")
    return found


def _owner(request: HttpRequest, owner_id: int | None) -> Any:
    user: Any = request.user
    if owner_id is None or owner_id == user.pk:
        return user
    if user.role == Role.REP:
        raise field_error("owner_id", "Reps plan their own work: leave out `owner_id`.")
    owner = user_list(user=user).filter(pk=owner_id).first()
    if owner is None:
        raise field_error("owner_id", f"User {owner_id} does not exist or is not yours to assign.")
    return owner


def _filters(query: ActivityListQuery) -> ActivityFilters:
    return ActivityFilters(**query.dict(include=set(ActivityFilters.__dataclass_fields__)))


@router.get("", response={200: Page[ActivityOut], **ERRORS}, summary="List activities")
def list_activities(request: HttpRequest, query: Query[ActivityListQuery]) -> Any:
    """The activities the token's user may see: notes, emails, changes and planned work,
    newest first unless `ordering` says otherwise (`due_at` lists planned work only)."""
    activities = activity_list(user=request.user, filters=_filters(query))
    if (query.ordering or "").removeprefix("-") == "due_at":
        activities = activities.filter(due_at__isnull=False)  # keyset pages need a value
    return page_of(activities, query, orderings=ACTIVITY_ORDERINGS, default="-created_at")


@router.post("", response={201: ActivityOut, **WRITE_ERRORS}, summary="Schedule an activity")
def create_activity(request: HttpRequest, payload: ActivityIn) -> Status[Any]:
    """Plan a call, meeting, demo or task on a deal, lead, contact or organization the token's
    user may see. Attendees are contacts and users; invites are emailed only with
    `send_invites: true`."""
    records = _records(request, payload)
    user = request.user
    lead = records.get("lead")
    activity = activity_schedule(
        actor=user,
        kind=payload.kind.value,
        subject=payload.subject,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        time_zone=payload.time_zone,
        location=payload.location,
        body=payload.body,
        owner=_owner(request, payload.owner_id),
        attendee_contacts=_people(
            contact_queryset(user=user), payload.attendee_contact_ids, "attendee_contact_ids"
        ),
        attendee_users=_people(
            user_list(user=user), payload.attendee_user_ids, "attendee_user_ids"
        ),
        attendee_leads=[lead] if lead is not None and payload.invite_lead else [],
        send_invites=payload.send_invites,
        move_deal_to_demo=payload.move_deal_to_demo and payload.kind == PlannedKind.DEMO,
        **records,
    )
    return Status(201, _visible(request, activity.pk))


@router.get("/{activity_id}", response={200: ActivityOut, **ERRORS}, summary="Read an activity")
def read_activity(request: HttpRequest, activity_id: PathId) -> Activity:
    """One activity the token's user may see; others answer 404."""
    return _visible(request, activity_id)


@router.patch(
    "/{activity_id}", response={200: ActivityOut, **WRITE_ERRORS}, summary="Reschedule an activity"
)
def update_activity(request: HttpRequest, activity_id: PathId, payload: ActivityPatch) -> Any:
    """Move open planned work to `starts_at` (it keeps its length unless `ends_at` is sent), or
    change its subject, location or time zone. Done or cancelled work answers 400."""
    activity = _editable(request, activity_id)
    if activity.due_at is None:
        raise field_error("starts_at", "Only planned work (calls, meetings, tasks) has a time.")
    activity_reschedule(
        actor=request.user,
        activity=activity,
        starts_at=payload.starts_at or activity.due_at,
        ends_at=payload.ends_at,
        time_zone=payload.time_zone,
        location=payload.location,
        subject=payload.subject,
        send_invites=payload.send_invites,
    )
    return _visible(request, activity_id)


@router.delete("/{activity_id}", response={204: None, **WRITE_ERRORS}, summary="Cancel an activity")
def delete_activity(
    request: HttpRequest, activity_id: PathId, query: Query[CancelQuery]
) -> Status[None]:
    """Call off open planned work (it stays on the timeline as cancelled, with the `reason`).
    Notes and other entries are history and are not deleted (400)."""
    activity = _editable(request, activity_id)
    if activity.due_at is None:
        raise ApiError(400, "Only planned work can be cancelled; notes stay on the timeline.")
    activity_cancel(
        actor=request.user,
        activity=activity,
        reason=query.reason,
        send_invites=query.send_invites,
    )
    return Status(204, None)


@router.post(
    "/{activity_id}/complete",
    response={200: ActivityOut, **WRITE_ERRORS},
    summary="Complete an activity",
)
def complete_activity(request: HttpRequest, activity_id: PathId, payload: CompleteIn) -> Any:
    """Mark open planned work done, with how it went (`held`, `no_show`, `rescheduled`; calls
    and meetings default to held) and a note added to it. `activity.completed` goes out."""
    activity = _editable(request, activity_id)
    activity_complete(
        actor=request.user,
        activity=activity,
        outcome=payload.outcome.value if payload.outcome else "",
        notes=payload.note,
    )
    return _visible(request, activity_id)
