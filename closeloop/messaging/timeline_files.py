"""The files of emails on a timeline: listed under the entry, downloadable by whoever sees it.

Timeline entries are activities; an email's files hang off its outgoing `Message` or its
`ReceivedMessage`. Reading them costs two queries per timeline, and none when the timeline
holds no email.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from closeloop.activities.choices import ActivityKind

from .inbound.models import ReceivedAttachment
from .models import MessageAttachment

SOURCES: dict[str, type[MessageAttachment] | type[ReceivedAttachment]] = {
    "sent": MessageAttachment,
    "received": ReceivedAttachment,
}


@dataclass(frozen=True)
class TimelineFile:
    """One file of an email on a timeline: its name, size and download link."""

    name: str
    size: int
    url: str


def timeline_files(activity_ids: Iterable[int]) -> dict[int, list[TimelineFile]]:
    """The files of the given email activities, by activity id."""
    ids = list(activity_ids)
    files: dict[int, list[TimelineFile]] = {}
    if not ids:
        return files
    for source, model in SOURCES.items():
        rows = (
            model.objects.filter(message__activity_id__in=ids)
            .order_by("pk")
            .values_list("pk", "filename", "size", "message__activity_id")
        )
        for pk, filename, size, activity_id in rows:
            url = reverse("messaging:timeline_file", args=[source, pk])
            files.setdefault(activity_id, []).append(TimelineFile(filename, size, url))
    return files


def timeline_files_attach(entries: list[Any]) -> list[Any]:
    """Set `email_files` on each email activity of a timeline (an empty list on the others)."""
    emails = [e.pk for e in entries if e.kind == ActivityKind.EMAIL]
    files = timeline_files(emails)
    for entry in entries:
        entry.email_files = files.get(entry.pk, [])
    return entries
