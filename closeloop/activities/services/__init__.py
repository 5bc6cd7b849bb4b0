"""Every write on activities: timeline entries, notifications and planned work."""

from .planning import (
    activity_cancel,
    activity_complete,
    activity_require_editable,
    activity_reschedule,
    activity_schedule,
    deal_demo_stage,
)
from .timeline import (
    MAX_NOTE_LENGTH,
    activity_create,
    notification_create,
    notification_mark_read,
)

__all__ = [
    "MAX_NOTE_LENGTH",
    "activity_cancel",
    "activity_complete",
    "activity_create",
    "activity_require_editable",
    "activity_reschedule",
    "activity_schedule",
    "deal_demo_stage",
    "notification_create",
    "notification_mark_read",
]
