from django.db import models


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    DEMO = "demo", "Demo"
    TASK = "task", "Task"
    EMAIL = "email", "Email"
    CHANGE = "change", "Change"


class ActivityOutcome(models.TextChoices):
    """How planned work ended; empty while it is still open."""

    HELD = "held", "Held"
    NO_SHOW = "no_show", "No-show"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELLED = "cancelled", "Cancelled"


# kinds that are planned with a time (and can be scheduled, completed, cancelled)
PLANNED_KINDS = (ActivityKind.CALL, ActivityKind.MEETING, ActivityKind.DEMO, ActivityKind.TASK)
# kinds that have a start and an end and go to attendees as calendar invites
MEETING_KINDS = (ActivityKind.MEETING, ActivityKind.DEMO)
