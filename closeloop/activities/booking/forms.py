"""Forms of booking links: settings for reps and managers, and the visitor's booking form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from .models import AvailabilityRule, BookingPage, MeetingKind, MeetingType
from .services import MeetingTypeInput, Visitor
from .slots import WeeklyWindow

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WINDOWS_PER_DAY = 2


class BookingPageForm(forms.Form):
    title = forms.CharField(max_length=120)
    slug = forms.CharField(max_length=60, label="Address", help_text="the page is /book/<address>/")
    intro = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Introduction"
    )
    active = forms.BooleanField(required=False, initial=True, label="Visitors can book")

    @staticmethod
    def initial_for(page: BookingPage) -> dict[str, Any]:
        return {"title": page.title, "slug": page.slug, "intro": page.intro, "active": page.active}


class MeetingTypeForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=MeetingKind.choices)
    duration_minutes = forms.IntegerField(min_value=5, max_value=480, initial=30, label="Minutes")
    location = forms.CharField(max_length=300, required=False, help_text="a place or a video link")
    buffer_before_minutes = forms.IntegerField(
        min_value=0, max_value=240, initial=0, label="Free minutes before"
    )
    buffer_after_minutes = forms.IntegerField(
        min_value=0, max_value=240, initial=0, label="Free minutes after"
    )
    notice_hours = forms.IntegerField(
        min_value=0, max_value=24 * 60, initial=4, label="Minimum notice (hours)"
    )
    horizon_days = forms.IntegerField(
        min_value=1, max_value=365, initial=30, label="Bookable up to (days ahead)"
    )
    active = forms.BooleanField(required=False, initial=True, label="Offered on the page")

    @staticmethod
    def initial_for(item: MeetingType) -> dict[str, Any]:
        return {name: getattr(item, name) for name in MeetingTypeForm.base_fields}

    def to_input(self) -> MeetingTypeInput:
        return MeetingTypeInput(**self.cleaned_data)


def _window_field(label: str) -> forms.TimeField:
    return forms.TimeField(
        required=False, label=label, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )


class AvailabilityForm(forms.Form):
    """A week of hours: up to two stretches a day, each a start and an end (empty: not then)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, name in enumerate(WEEKDAYS):
            for n in range(WINDOWS_PER_DAY):
                self.fields[f"d{day}_{n}_start"] = _window_field(f"{name} from")
                self.fields[f"d{day}_{n}_end"] = _window_field(f"{name} to")

    def rows(self) -> list[tuple[str, list[tuple[Any, Any]]]]:
        """The fields by weekday, as the template lays them out."""
        return [
            (
                name,
                [
                    (self[f"d{day}_{n}_start"], self[f"d{day}_{n}_end"])
                    for n in range(WINDOWS_PER_DAY)
                ],
            )
            for day, name in enumerate(WEEKDAYS)
        ]

    @staticmethod
    def initial_for(rules: list[AvailabilityRule]) -> dict[str, dt.time]:
        initial: dict[str, dt.time] = {}
        used: dict[int, int] = {}
        for rule in rules:
            n = used.get(rule.weekday, 0)
            if n < WINDOWS_PER_DAY:
                initial[f"d{rule.weekday}_{n}_start"] = rule.start_time
                initial[f"d{rule.weekday}_{n}_end"] = rule.end_time
            used[rule.weekday] = n + 1
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for day, name in enumerate(WEEKDAYS):
            for n in range(WINDOWS_PER_DAY):
                start, end = data.get(f"d{day}_{n}_start"), data.get(f"d{day}_{n}_end")
                if (start is None) != (end is None):
                    self.add_error(f"d{day}_{n}_start", f"{name}: give both a start and an end.")
        return data

    def windows(self) -> list[WeeklyWindow]:
        result = []
        for day in range(7):
            for n in range(WINDOWS_PER_DAY):
                start = self.cleaned_data.get(f"d{day}_{n}_start")
                end = self.cleaned_data.get(f"d{day}_{n}_end")
                if start is not None and end is not None:
                    result.append(WeeklyWindow(day, start, end))
        return result


class VisitorForm(forms.Form):
    """The public booking form; the service checks the values and names the bad field."""

    name = forms.CharField(max_length=150, label="Your name")
    email = forms.CharField(
        max_length=254, label="Your email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    company = forms.CharField(max_length=200, required=False)
    question = forms.CharField(
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything we should know?",
    )

    def visitor(self, time_zone: str, *, referral: str = "") -> Visitor:
        data = self.cleaned_data
        return Visitor(
            name=data["name"],
            email=data["email"],
            company=data.get("company", ""),
            question=data.get("question", ""),
            time_zone=time_zone,
            referral=referral,
        )
