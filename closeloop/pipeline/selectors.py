"""Every read of deals with rules: visibility is applied here, once, through `visible_to`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from closeloop.activities.models import Activity
from closeloop.activities.selectors import planned_attendees_attach
from closeloop.core.http import query_date, query_int

from .choices import DealStatus
from .deal_marks import MARKS, deal_marks_annotate, deal_marks_filter, deal_marks_set
from .models import Deal, LostReason, Pipeline, Stage, StageChange

BOARD_PAGE_SIZE = 50

SORTS = {
    "title": "title",
    "-title": "-title",
    "value": "value",
    "-value": "-value",
    "close": "expected_close_date",
    "-close": "-expected_close_date",
    "created": "created_at",
    "-created": "-created_at",
    "stage": "stage__position",
    "-stage": "-stage__position",
    "owner": "owner__full_name",
    "-owner": "-owner__full_name",
    "organization": "organization__name",
    "-organization": "-organization__name",
}


@dataclass(frozen=True)
class DealFilters:
    """What a person narrowed a list or board to; every field is optional."""

    pipeline_id: int | None = None
    stage_id: int | None = None
    status: str | None = None
    owner_id: int | None = None
    team_id: int | None = None
    mine: bool = False
    q: str = ""
    sort: str = "-created"
    closed_from: dt.date | None = None  # won_at / lost_at on or after (with status won / lost)
    closed_to: dt.date | None = None
    mark: str = ""  # no_next_step, overdue or rotting (open deals only)
    # narrower filters the API offers (the pages do not set them)
    source_id: int | None = None
    campaign_id: int | None = None
    organization_id: int | None = None
    contact_id: int | None = None
    value_min: Decimal | None = None
    value_max: Decimal | None = None
    expected_close_from: dt.date | None = None
    expected_close_to: dt.date | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None

    @classmethod
    def from_query(cls, params: Any) -> DealFilters:
        """Read filters from a query string, ignoring values that are not numbers or choices."""

        status = params.get("status") or None
        sort = params.get("sort") or "-created"
        mark = params.get("mark") or ""
        return cls(
            closed_from=query_date(params, "closed_from"),
            closed_to=query_date(params, "closed_to"),
            pipeline_id=query_int(params, "pipeline"),
            stage_id=query_int(params, "stage"),
            status=status if status in DealStatus.values else None,
            owner_id=query_int(params, "owner"),
            team_id=query_int(params, "team"),
            mine=params.get("mine") in ("1", "on", "true"),
            q=(params.get("q") or "").strip()[:200],
            sort=sort if sort in SORTS else "-created",
            mark=mark if mark in dict(MARKS) else "",
        )


def deal_queryset(*, user: Any) -> QuerySet[Deal]:
    """All deals `user` may see (not trashed)."""
    return Deal.objects.visible_to(user)


def deal_get(*, user: Any, pk: int) -> Deal | None:
    """One deal if `user` may see it, with what its page shows and its marks; None otherwise."""
    deal = (
        deal_marks_annotate(deal_queryset(user=user))
        .select_related("organization", "contact", "owner", "pipeline", "stage", "lost_reason")
        .select_related("source", "campaign")
        .filter(pk=pk)
        .first()
    )
    if deal is not None:
        deal_marks_set([deal])
    return deal


def _apply_filters(qs: QuerySet[Deal], *, user: Any, filters: DealFilters) -> QuerySet[Deal]:
    if filters.pipeline_id:
        qs = qs.filter(pipeline_id=filters.pipeline_id)
    if filters.stage_id:
        qs = qs.filter(stage_id=filters.stage_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.status in (DealStatus.WON, DealStatus.LOST) and filters.closed_from:
        qs = qs.filter(**{f"{filters.status}_at__date__gte": filters.closed_from})
    if filters.status in (DealStatus.WON, DealStatus.LOST) and filters.closed_to:
        qs = qs.filter(**{f"{filters.status}_at__date__lte": filters.closed_to})
    if filters.mine:
        qs = qs.filter(owner=user)
    elif filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.team_id:
        qs = qs.filter(owner__teams=filters.team_id)
    exact = {
        "source_id": filters.source_id,
        "campaign_id": filters.campaign_id,
        "organization_id": filters.organization_id,
        "contact_id": filters.contact_id,
        "value__gte": filters.value_min,
        "value__lte": filters.value_max,
        "expected_close_date__gte": filters.expected_close_from,
        "expected_close_date__lte": filters.expected_close_to,
        "created_at__date__gte": filters.created_from,
        "created_at__date__lte": filters.created_to,
    }
    qs = qs.filter(**{name: value for name, value in exact.items() if value is not None})
    if filters.q:
        qs = qs.filter(
            Q(title__icontains=filters.q)
            | Q(organization__name__icontains=filters.q)
            | Q(contact__last_name__icontains=filters.q)
            | Q(contact__first_name__icontains=filters.q)
        )
    return qs


def deal_search(*, user: Any, filters: DealFilters) -> QuerySet[Deal]:
    """Deals `user` may see, narrowed by `filters`, with the records a row names joined in one
    query: the API's list (it orders and pages them itself; no marks, which cost a subquery
    per deal)."""
    return _apply_filters(deal_queryset(user=user), user=user, filters=filters).select_related(
        "organization", "contact", "owner", "pipeline", "stage", "lost_reason"
    )


def deal_rows_names(
    *, stage_ids: set[int], owner_ids: set[int]
) -> tuple[dict[int, tuple[str, int, int, str]], dict[int, str]]:
    """For rows of deals read by column (the API's list): each stage's name, probability,
    pipeline id and pipeline name, and each owner's email, in one query (a UNION of the two
    lookups). Looked up rather than joined: joined, SQLite starts from these small tables and
    sorts every deal. Written as SQL: the API's busiest list asks this on every call, and the
    ORM took longer building the statement than the database took answering it."""
    from closeloop.accounts.models import User

    stages: dict[int, tuple[str, int, int, str]] = {}
    emails: dict[int, str] = {}
    if not stage_ids and not owner_ids:
        return stages, emails
    q = connection.ops.quote_name
    stage, pipeline, user = Stage._meta.db_table, Pipeline._meta.db_table, User._meta.db_table
    stage_list = ", ".join(["%s"] * len(stage_ids)) or "NULL"
    owner_list = ", ".join(["%s"] * len(owner_ids)) or "NULL"
    # an owner row has no probability (-1 marks it) and its email where a stage has its name
    sql = (
        f"SELECT s.id, s.name, s.probability, s.pipeline_id, p.name FROM {q(stage)} s "  # noqa: S608 (table names from the models, values as parameters)
        f"JOIN {q(pipeline)} p ON p.id = s.pipeline_id WHERE s.id IN ({stage_list}) "
        f"UNION ALL SELECT u.id, u.email, -1, 0, '' FROM {q(user)} u WHERE u.id IN ({owner_list})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*stage_ids, *owner_ids])
        for pk, name, probability, pipeline_id, pipeline_name in cursor.fetchall():
            if probability == -1:
                emails[pk] = name
            else:
                stages[pk] = (name, probability, pipeline_id, pipeline_name)
    return stages, emails


def deal_list(*, user: Any, filters: DealFilters) -> QuerySet[Deal]:
    """Deals for the list view and CSV export, filtered and sorted, each with its next step and
    marks (deal_marks_set on the page's rows adds the flags)."""
    qs = _apply_filters(deal_queryset(user=user), user=user, filters=filters)
    qs = deal_marks_annotate(qs)
    if filters.mark:
        qs = deal_marks_filter(qs, filters.mark)
    return qs.select_related(
        "organization", "contact", "owner", "pipeline", "stage", "lost_reason"
    ).order_by(SORTS[filters.sort], "-pk")


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    total: Decimal = Decimal("0")
    cards: list[Deal] = field(default_factory=list)

    @property
    def weighted(self) -> Decimal:
        return (self.total * self.stage.probability / Decimal(100)).quantize(Decimal("1"))

    @property
    def has_more(self) -> bool:
        return len(self.cards) < self.count


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[BoardColumn]

    @property
    def count(self) -> int:
        return sum(c.count for c in self.columns)

    @property
    def total(self) -> Decimal:
        return sum((c.total for c in self.columns), Decimal("0"))

    @property
    def weighted(self) -> Decimal:
        return sum((c.weighted for c in self.columns), Decimal("0"))


def _mark_days_in_stage(cards: list[Deal], now: dt.datetime | None = None) -> list[Deal]:
    """Set days_in_stage on cards from their stage history (one query), and their marks.

    A card entered its stage at the latest history row that moved it *into* that stage; status
    changes (won, lost, reopened) within the stage do not restart the clock.
    """
    if not cards:
        return cards
    now = now or timezone.now()
    rows = (
        StageChange.objects.filter(deal_id__in=[c.pk for c in cards])
        .filter(Q(from_stage__isnull=True) | ~Q(from_stage=F("to_stage")))
        .values("deal_id", "to_stage_id")
        .annotate(at=Max("changed_at"))
        .order_by()
    )
    entered = {(r["deal_id"], r["to_stage_id"]): r["at"] for r in rows}
    for card in cards:
        since = entered.get((card.pk, card.stage_id)) or card.created_at
        card.days_in_stage = max((now - since).days, 0)  # type: ignore[attr-defined]
    deal_marks_set(cards, now)
    return cards


def _board_queryset(*, user: Any, pipeline: Pipeline, filters: DealFilters) -> QuerySet[Deal]:
    qs = deal_queryset(user=user).filter(pipeline=pipeline, status=DealStatus.OPEN)
    return _apply_filters(
        qs,
        user=user,
        filters=DealFilters(
            owner_id=filters.owner_id,
            team_id=filters.team_id,
            mine=filters.mine,
            q=filters.q,
        ),
    )


CARD_FIELDS = (
    "id", "title", "value", "currency", "version", "created_at", "stage_id", "pipeline_id",
    "status", "owner__id", "owner__full_name", "owner__email", "organization__id",
    "organization__name",
)  # fmt: skip


def _cards(qs: QuerySet[Deal], *, stage: Stage, offset: int, limit: int) -> list[Deal]:
    # Only what a card shows: the board renders up to 50 cards per column on every load.
    cards = list(
        deal_marks_annotate(qs.filter(stage=stage))
        .select_related("organization", "owner")
        .only(*CARD_FIELDS)
        .order_by("-created_at", "-pk")[offset : offset + limit]
    )
    for card in cards:
        card.stage = stage  # every card of the column shares the stage object: no extra queries
    return cards


def deal_board(
    *, user: Any, pipeline: Pipeline, filters: DealFilters, page_size: int = BOARD_PAGE_SIZE
) -> Board:
    """The board: per stage the open deals' count, total and weighted value, and the first cards.

    Query count depends on the number of stages, never on the number of deals.
    """
    stages = list(pipeline.stages.order_by("position", "pk"))
    qs = _board_queryset(user=user, pipeline=pipeline, filters=filters)
    totals = {
        row["stage_id"]: row
        for row in qs.order_by().values("stage_id").annotate(n=Count("pk"), total=Sum("value"))
    }
    columns = []
    all_cards: list[Deal] = []
    for stage in stages:
        row = totals.get(stage.pk, {})
        column = BoardColumn(
            stage=stage, count=row.get("n", 0), total=row.get("total") or Decimal("0")
        )
        if column.count:
            column.cards = _cards(qs, stage=stage, offset=0, limit=page_size)
            all_cards.extend(column.cards)
        columns.append(column)
    _mark_days_in_stage(all_cards)
    return Board(pipeline=pipeline, columns=columns)


def deal_board_column(
    *,
    user: Any,
    stage: Stage,
    filters: DealFilters,
    offset: int,
    limit: int = BOARD_PAGE_SIZE,
) -> tuple[list[Deal], bool]:
    """The next cards of one board column, and whether more follow."""
    qs = _board_queryset(user=user, pipeline=stage.pipeline, filters=filters)
    cards = _cards(qs, stage=stage, offset=offset, limit=limit + 1)
    return _mark_days_in_stage(cards[:limit]), len(cards) > limit


def board_column_totals(*, user: Any, pipeline: Pipeline, filters: DealFilters) -> dict[int, dict]:
    """Count, total and weighted value per stage, for refreshing column headers after a move."""
    board = deal_board(user=user, pipeline=pipeline, filters=filters, page_size=0)
    return {
        c.stage.pk: {"count": c.count, "total": c.total, "weighted": c.weighted}
        for c in board.columns
    }


def pipeline_list() -> QuerySet[Pipeline]:
    """Every pipeline, default first."""
    return Pipeline.objects.order_by("-is_default", "position", "pk")


def pipeline_list_with_stages() -> QuerySet[Pipeline]:
    """Every pipeline with its stages in order (one query for all the stages)."""
    stages = Stage.objects.order_by("position", "pk")
    return pipeline_list().prefetch_related(Prefetch("stages", queryset=stages))


def pipeline_default() -> Pipeline | None:
    return pipeline_list().first()


def stage_list_with_deal_counts(pipeline: Pipeline) -> QuerySet[Stage]:
    """A pipeline's stages in order, each with every deal it holds counted (won, lost, trashed
    too: the deals stage_delete would move)."""
    return pipeline.stages.annotate(deal_count=Count("deals")).order_by("position", "pk")


def lost_reason_list_with_deal_counts() -> QuerySet[LostReason]:
    """Every lost reason (retired ones too), with how many deals were lost for it."""
    return LostReason.objects.annotate(deal_count=Count("deals"))


def lost_reason_list() -> QuerySet[LostReason]:
    """Every lost reason, retired ones too: a workspace list anyone signed in may read."""
    return LostReason.objects.all()


def lost_reason_choices() -> QuerySet[LostReason]:
    """Reasons offered when a deal is lost (retired ones are not offered)."""
    return LostReason.objects.filter(is_active=True)


@dataclass
class TimelineEntry:
    at: dt.datetime
    kind: str
    title: str
    body: str = ""
    actor: Any = None
    email_files: list[Any] = field(default_factory=list)
    activity: Any = None  # the planned call, meeting, demo or task the entry is


def deal_timeline(*, deal: Deal) -> list[TimelineEntry]:
    """A deal's history, newest first: stage moves, won/lost/reopened, notes and edits."""
    entries: list[TimelineEntry] = []
    changes = StageChange.objects.filter(deal=deal).select_related(
        "from_stage", "to_stage", "actor"
    )
    for ch in changes:
        entries.append(
            TimelineEntry(
                at=ch.changed_at, kind="stage", title=_describe_change(ch), actor=ch.actor
            )
        )
    from closeloop.messaging.timeline_files import timeline_files_attach

    activities = timeline_files_attach(
        planned_attendees_attach(
            list(Activity.objects.filter(deal=deal).select_related("actor", "owner"))
        )
    )
    for act in activities:
        entries.append(
            TimelineEntry(
                at=act.created_at,
                kind=act.kind,
                title=act.subject or act.get_kind_display(),
                body=act.body,
                actor=act.actor,
                email_files=act.email_files,
                activity=act if act.is_planned else None,
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _describe_change(ch: StageChange) -> str:
    to_name = ch.to_stage.name if ch.to_stage else "a deleted stage"
    if ch.from_status == "":
        return f"Created in {to_name}"
    if ch.from_status != ch.to_status:
        if ch.to_status == DealStatus.WON:
            return f"Won at {to_name}"
        if ch.to_status == DealStatus.LOST:
            return f"Lost at {to_name}"
        return f"Reopened in {to_name}"
    from_name = ch.from_stage.name if ch.from_stage else "a deleted stage"
    return f"Moved from {from_name} to {to_name}"


def deal_trash_list(*, user: Any) -> QuerySet[Deal]:
    """Trashed deals `user` may see, most recently trashed first."""
    return Deal.with_trashed.trashed().visible_to(user).order_by("-deleted_at")
