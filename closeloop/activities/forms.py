"""Forms of planned work: scheduling from a record, rescheduling, completing and cancelling.

Dates and times are read in the zone the form names (the user's by default) and handed to the
services as aware datetimes; the services decide what is allowed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.core.zones import zone_names, zone_or_default
from closeloop.people.models import Contact

from .choices import ActivityKind, ActivityOutcome

SCHEDULE_KINDS = [
    (ActivityKind.CALL.value, "Call"),
    (ActivityKind.MEETING.value, "Meeting"),
    (ActivityKind.DEMO.value, "Demo"),
    (ActivityKind.TASK.value, "Task"),
]
# the services name the fields they refuse; the forms call them differently
FIELD_NAMES = {"starts_at": "start", "ends_at": "end", "body": "notes", "kind": "kind"}


def _date() -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


def _time(required: bool = True, label: str | None = None) -> forms.TimeField:
    return forms.TimeField(
        required=required, label=label, widget=forms.TimeInput(attrs={"type": "time"})
    )


def aware(day: dt.date, time: dt.time, zone_name: str) -> dt.datetime:
    """A wall-clock date and time in the named zone (a time skipped by a DST change moves on)."""
    zone = zone_or_default(zone_name)
    naive = dt.datetime.combine(day, time)
    local = naive.replace(tzinfo=zone)
    # normalise through UTC: a nonexistent wall time (spring forward) becomes a real instant
    return local.astimezone(dt.UTC).astimezone(zone)


class DomainErrorForm(forms.Form):
    def add_domain_error(self, error: DomainError) -> None:
        name = FIELD_NAMES.get(error.field or "", error.field)
        self.add_error(name if name in self.fields else None, error.message)


class ZoneField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[(z, z) for z in zone_names()], label="Time zone", **kwargs)


class ScheduleForm(DomainErrorForm):
    """Plan a call, meeting, demo or task on a record; only people the user may see are offered."""

    kind = forms.ChoiceField(choices=SCHEDULE_KINDS, initial=ActivityKind.MEETING.value)
    subject = forms.CharField(max_length=200)
    date = _date()
    start = _time(label="Start time")
    end = _time(required=False, label="End time")
    duration = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=14 * 24 * 60,
        label="or duration (minutes)",
        help_text="Meetings without an end last 30 minutes; tasks have none.",
    )
    time_zone = ZoneField()
    location = forms.CharField(max_length=500, required=False, label="Location or video link")
    attendee_contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(),
        required=False,
        label="Invite contacts",
        widget=forms.CheckboxSelectMultiple,
    )
    invite_lead = forms.BooleanField(required=False, label="Invite the lead")
    attendee_users = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Invite colleagues",
        widget=forms.CheckboxSelectMultiple,
    )
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    send_invites = forms.BooleanField(
        required=False, initial=True, label="Send calendar invitations to attendees"
    )
    move_to_demo = forms.BooleanField(
        required=False, initial=True, label="Move the deal to the demo stage"
    )

    def __init__(
        self,
        *args: Any,
        user: Any,
        contacts: Any,
        colleagues: Any,
        owners: Any | None,
        with_lead: bool = False,
        with_demo_stage: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["time_zone"].initial = user.zone.key
        self.fields["attendee_contacts"].queryset = contacts
        self.fields["attendee_contacts"].label_from_instance = lambda c: (
            f"{c.full_name} <{c.primary_email}>"
        )
        self.fields["attendee_users"].queryset = colleagues
        if owners is None:  # a rep plans their own work
            del self.fields["owner"]
        else:
            self.fields["owner"].queryset = owners
            self.fields["owner"].initial = user.pk
            self.fields["owner"].help_text = "Who does it (you when empty)."
        if not with_lead:
            del self.fields["invite_lead"]
        if not with_demo_stage:
            del self.fields["move_to_demo"]
        else:
            self.fields["move_to_demo"].help_text = "For a demo only."

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        day, start = data.get("date"), data.get("start")
        if day is None or start is None:
            return data
        zone = data.get("time_zone") or ""
        data["starts_at"] = aware(day, start, zone)
        data["ends_at"] = None
        if data.get("end"):
            data["ends_at"] = aware(day, data["end"], zone)
        elif data.get("duration"):
            data["ends_at"] = data["starts_at"] + dt.timedelta(minutes=data["duration"])
        return data


class RescheduleForm(DomainErrorForm):
    """A new date and start; the activity keeps its length."""

    date = _date()
    start = _time(label="Start time")
    time_zone = ZoneField()
    send_invites = forms.BooleanField(
        required=False, initial=True, label="Send the updated invitation to attendees"
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date") and data.get("start"):
            data["starts_at"] = aware(data["date"], data["start"], data.get("time_zone") or "")
        return data


class CompleteForm(DomainErrorForm):
    outcome = forms.ChoiceField(
        required=False,
        choices=[
            ("", "—"),
            (ActivityOutcome.HELD.value, "Held"),
            (ActivityOutcome.NO_SHOW.value, "No-show"),
            (ActivityOutcome.RESCHEDULED.value, "Rescheduled"),
        ],
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CancelForm(DomainErrorForm):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    send_invites = forms.BooleanField(
        required=False, initial=True, label="Send the cancellation to attendees"
    )
