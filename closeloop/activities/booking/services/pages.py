"""Booking page settings: the page, its meeting types, and a user's weekly hours."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from closeloop.accounts.models import Team, User
from closeloop.core.exceptions import DomainError

from ..models import AvailabilityRule, BookingPage, MeetingType
from ..slots import WeeklyWindow


def _require_page_editor(actor: Any, *, owner: User | None, team: Team | None) -> None:
    if actor is None or actor.is_admin:
        return
    if owner is not None and owner.pk == actor.pk:
        return
    if team is not None and actor.is_manager and actor.teams.filter(pk=team.pk).exists():
        return
    raise DomainError("You may only change your own booking page (managers: their teams').")


def _clean_slug(slug: str, *, exclude_pk: int | None) -> str:
    cleaned = slugify(slug or "")[:60]
    if not cleaned:
        raise DomainError(
            "The address needs letters or digits (it becomes /book/<address>/).", field="slug"
        )
    same = BookingPage.objects.filter(slug=cleaned)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise DomainError(f"The address “{cleaned}” is taken; pick another.", field="slug")
    return cleaned


@transaction.atomic
def booking_page_save(
    *,
    actor: Any,
    page: BookingPage | None = None,
    owner: User | None = None,
    team: Team | None = None,
    slug: str,
    title: str,
    intro: str = "",
    active: bool = True,
) -> BookingPage:
    """Create or change a booking page; each user and each team has at most one."""
    if page is not None:
        owner, team = page.owner, page.team
    if (owner is None) == (team is None):
        raise DomainError("A booking page belongs to one user or one team.")
    _require_page_editor(actor, owner=owner, team=team)
    title = " ".join((title or "").split())
    if not title:
        raise DomainError("A booking page needs a title.", field="title")
    if page is None:
        existing = BookingPage.objects.filter(owner=owner) if owner else None
        if team is not None:
            existing = BookingPage.objects.filter(team=team)
        if existing is not None and existing.exists():
            raise DomainError("This booking page already exists; edit it instead.")
        page = BookingPage(owner=owner, team=team)
    page.slug = _clean_slug(slug, exclude_pk=page.pk)
    page.title, page.intro, page.active = title[:120], (intro or "").strip(), active
    page.save()
    return page


@dataclass
class MeetingTypeInput:
    """A meeting type's settings as a form sends them."""

    name: str
    duration_minutes: int = 30
    kind: str = "meeting"
    location: str = ""
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    notice_hours: int = 4
    horizon_days: int = 30
    active: bool = True


@transaction.atomic
def meeting_type_save(
    *,
    actor: Any,
    page: BookingPage,
    data: MeetingTypeInput,
    meeting_type: MeetingType | None = None,
) -> MeetingType:
    """Add or change a meeting type of a page; its numbers are checked against their limits."""
    _require_page_editor(actor, owner=page.owner, team=page.team)
    if meeting_type is not None and meeting_type.page_id != page.pk:
        raise DomainError("That meeting type belongs to another page.")
    item = meeting_type or MeetingType(page=page)
    item.name = " ".join((data.name or "").split())[:120]
    item.duration_minutes = data.duration_minutes
    item.kind, item.location = data.kind, (data.location or "").strip()[:300]
    item.buffer_before_minutes = data.buffer_before_minutes
    item.buffer_after_minutes = data.buffer_after_minutes
    item.notice_hours, item.horizon_days = data.notice_hours, data.horizon_days
    item.active = data.active
    if not item.name:
        raise DomainError("A meeting type needs a name.", field="name")
    try:
        item.full_clean(exclude=["page"])
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        label = name.replace("_", " ").capitalize()
        raise DomainError(f"{label}: {messages[0]}", field=name) from error
    item.save()
    return item


@transaction.atomic
def availability_set(
    *, actor: Any, user: User, windows: list[WeeklyWindow]
) -> list[AvailabilityRule]:
    """Replace a user's weekly hours; each stretch must end after it starts and not overlap."""
    if actor is not None and not actor.is_admin and actor.pk != user.pk:
        raise DomainError("You may only change your own hours.")
    ordered = sorted(windows, key=lambda w: (w.weekday, w.start))
    for window in ordered:
        if not 0 <= window.weekday <= 6:
            raise DomainError("Pick a day of the week.", field="weekday")
        if window.end <= window.start:
            raise DomainError(
                f"{window.start:%H:%M}–{window.end:%H:%M}: the end must be after the start.",
                field="end_time",
            )
    for earlier, later in itertools.pairwise(ordered):
        if earlier.weekday == later.weekday and later.start < earlier.end:
            raise DomainError(
                f"{earlier.start:%H:%M}–{earlier.end:%H:%M} and {later.start:%H:%M}–"
                f"{later.end:%H:%M} overlap; join them into one.",
                field="start_time",
            )
    AvailabilityRule.objects.filter(user=user).delete()
    return AvailabilityRule.objects.bulk_create(
        AvailabilityRule(user=user, weekday=w.weekday, start_time=w.start, end_time=w.end)
        for w in ordered
    )
