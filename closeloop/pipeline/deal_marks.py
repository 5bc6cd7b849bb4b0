"""Next step and marks of open deals (no next step, overdue, rotting), computed in the query.

Every list and board row gets them from annotations, so the query count never grows with the
number of deals. A deal's next step is its earliest open planned activity; it is rotting when
its stage has days-to-rot and neither an activity (created or done) nor a stage change
happened on it for that many days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.selectors import open_planned

from .choices import DealStatus
from .models import Deal, DealFacts, Stage, StageChange

MARKS = (
    ("no_next_step", "No next step"),
    ("overdue", "Overdue"),
    ("rotting", "Rotting"),
)


_LONG_AGO = Value(dt.datetime(2000, 1, 1, tzinfo=dt.UTC), output_field=DateTimeField())


def _open_work() -> QuerySet[Activity]:
    return Activity.objects.filter(open_planned(), deal=OuterRef("pk")).order_by("due_at", "pk")


def _latest(qs: QuerySet[Any], field: str) -> Subquery:
    return Subquery(qs.order_by(f"-{field}").values(field)[:1], output_field=DateTimeField())


def deal_marks_annotate(qs: QuerySet[Deal]) -> QuerySet[Deal]:
    """Add next_activity_id/_due_at/_subject/_kind and last_touch_at to each deal."""
    work = _open_work()
    touched = Activity.objects.filter(deal=OuterRef("pk")).exclude(kind=ActivityKind.CHANGE)
    # Greatest() is NULL on SQLite when any part is NULL: activities fall back to long ago,
    # the stage history (written when the deal is created) to the deal's creation
    return qs.annotate(
        next_activity_id=Subquery(work.values("pk")[:1]),
        next_due_at=Subquery(work.values("due_at")[:1], output_field=DateTimeField()),
        next_subject=Subquery(work.values("subject")[:1]),
        next_kind=Subquery(work.values("kind")[:1]),
        last_touch_at=Greatest(
            Coalesce(_latest(touched, "created_at"), _LONG_AGO),
            Coalesce(_latest(touched.filter(done_at__isnull=False), "done_at"), _LONG_AGO),
            Coalesce(
                _latest(StageChange.objects.filter(deal=OuterRef("pk")), "changed_at"),
                F("created_at"),
            ),
        ),
    )


def deal_marks_filter(
    qs: QuerySet[Deal], mark: str, now: dt.datetime | None = None
) -> QuerySet[Deal]:
    """Only open deals with the mark (the queryset must carry deal_marks_annotate)."""
    now = now or timezone.now()
    qs = qs.filter(status=DealStatus.OPEN)
    if mark == "no_next_step":
        return qs.filter(~Exists(Activity.objects.filter(open_planned(), deal=OuterRef("pk"))))
    if mark == "overdue":
        return qs.filter(Q(next_due_at__lt=now))
    if mark == "rotting":
        # one condition per stage that rots: its own number of days (a handful of rows)
        rotting = Q(pk__in=[])
        for stage_id, days in Stage.objects.filter(rot_days__isnull=False).values_list(
            "pk", "rot_days"
        ):
            if days:
                rotting |= Q(stage_id=stage_id, last_touch_at__lt=now - dt.timedelta(days=days))
        return qs.filter(rotting)
    return qs


def rotting_counts(facts: QuerySet[DealFacts], now: dt.datetime | None = None) -> dict[int, int]:
    """Open deals rotting now per stage id, among `facts`: the `rotting` mark's rule, counted
    without annotating every open deal. The last stage change is never before the deal entered
    its stage (`DealFacts.stage_entered_at`), so only deals that entered it before the stage's
    days-to-rot are looked at (an index range), and of those the ones touched since are left
    out by two existence checks on their own history and activities."""
    now = now or timezone.now()
    cutoffs = {
        stage_id: now - dt.timedelta(days=days or 0)
        for stage_id, days in Stage.objects.filter(rot_days__gt=0).values_list("pk", "rot_days")
    }
    if not cutoffs:
        return {}
    entered_before = Q(pk__in=[])
    for stage_id, cutoff in cutoffs.items():
        entered_before |= Q(stage_id=stage_id, stage_entered_at__lt=cutoff)
    cutoff_of = Case(
        *[When(stage_id=s, then=Value(c)) for s, c in cutoffs.items()],
        output_field=DateTimeField(),
    )
    since = OuterRef("cutoff")
    changed = StageChange.objects.filter(deal=OuterRef("deal_id"), changed_at__gte=since)
    touched = (
        Activity.objects.filter(deal=OuterRef("deal_id"))
        .exclude(kind=ActivityKind.CHANGE)
        .filter(Q(created_at__gte=since) | Q(done_at__gte=since))
    )
    rows = (
        facts.filter(entered_before, status=DealStatus.OPEN)
        .annotate(cutoff=cutoff_of)
        .filter(~Exists(changed), ~Exists(touched))
        .values("stage_id")
        .annotate(n=Count("deal_id"))
        .order_by()
    )
    return {row["stage_id"]: row["n"] for row in rows}


def deal_marks_set(deals: Iterable[Deal], now: dt.datetime | None = None) -> None:
    """Set has_next_step, is_overdue and is_rotting on annotated deals (no queries: the
    deal's stage must be loaded)."""
    now = now or timezone.now()
    for deal in deals:
        is_open = deal.status == DealStatus.OPEN
        due = getattr(deal, "next_due_at", None)
        touched = getattr(deal, "last_touch_at", None) or deal.created_at
        rot = deal.stage.rot_days
        deal.has_next_step = due is not None  # type: ignore[attr-defined]
        deal.no_next_step = is_open and due is None  # type: ignore[attr-defined]
        deal.is_overdue = bool(is_open and due is not None and due < now)  # type: ignore[attr-defined]
        deal.is_rotting = bool(  # type: ignore[attr-defined]
            is_open and rot and touched < now - dt.timedelta(days=rot)
        )
