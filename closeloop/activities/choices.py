from django.db import models


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    DEMO = "demo", "Demo"
    TASK = "task", "Task"
    EMAIL = "email", "Email"
    CHANGE = "change", "Change"
