"""The profile form for meeting reminders and the morning digest."""

from __future__ import annotations

from django import forms

from .reminders import REMINDER_CHOICES


def _minutes_label(minutes: int) -> str:
    if not minutes:
        return "Off"
    if minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours > 1 else ''} before"
    return f"{minutes} minutes before"


class ReminderSettingsForm(forms.Form):
    reminder_minutes = forms.TypedChoiceField(
        label="Meeting reminders", coerce=int,
        choices=[(m, _minutes_label(m)) for m in REMINDER_CHOICES],
        help_text="An email before each meeting, demo and call you own.",
    )  # fmt: skip
    digest_enabled = forms.BooleanField(
        label="Send me a morning digest", required=False,
        help_text="Today's activities and overdue ones, one email a day; none on an empty day.",
    )  # fmt: skip
    digest_hour = forms.TypedChoiceField(
        label="Digest at", coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        help_text="In your time zone.",
    )  # fmt: skip
