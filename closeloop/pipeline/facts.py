"""The reports' read model: `DealFacts` and `StageStay`, computed from the stage history.

The analytics pages aggregate a million deals in well under a second only if they need not walk
four million `StageChange` rows each time, so every change to a deal (the deal services, the
import, stage deletion, the demo data) calls `deal_facts_refresh` in its own transaction, and the
rows are recomputed from the history alone, by one function. Nothing else writes them, so they
cannot say anything the history does not; `deal_facts_sync` (every ten minutes) rebuilds any row
whose deal version differs, in case a write went around the services, and
`closeloop rebuild_deal_facts` rebuilds everything.
"""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Exists, F, OuterRef, Q

from .choices import DealStatus
from .models import Deal, DealFacts, Stage, StageChange, StageStay
from .rollups.maintain import (
    FACT_FIELDS,
    STAY_FIELDS,
    Deltas,
    cells_apply,
    deal_rollups_rebuild,
    deltas_add,
    fact_cells,
    new_deltas,
    stay_cells,
)

CHUNK = 5000  # deals a query reads at once (SQLite allows 32,766 parameters)
MAX_SLOT = 61  # bit 62 is DealFacts.WON_BIT; 63 would be the sign
CLOSED = (DealStatus.WON, DealStatus.LOST)


def duration_tenths(start: dt.datetime, end: dt.datetime) -> int:
    """Whole tenths of a day from start to end, half rounded up; never below zero."""
    seconds = max(0, int((end - start).total_seconds()))
    return (seconds + 4320) // 8640


@dataclass
class _Visit:
    tenths: int
    open_now: bool
    entered_at: dt.datetime
    visits: int


# What the facts are computed from, read as plain tuples: a million model instances (and their
# four million stage changes) would cost minutes in `deal_facts_rebuild` alone.
DEAL_FIELDS = (
    "pk", "version", "pipeline_id", "stage_id", "owner_id", "source_id", "campaign_id", "status",
    "value", "currency", "expected_close_date", "created_at", "updated_at", "won_at", "lost_at",
    "lost_reason_id", "competitor",
)  # fmt: skip
_DealRow = namedtuple("_DealRow", DEAL_FIELDS)  # type: ignore[misc]
# (deal id, to stage id, to status, changed at), in history order
_Change = tuple[int, int | None, str, dt.datetime]


def _facts_of(
    deal: Any, changes: list[_Change], slots: dict[int, tuple[int, int]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One deal's facts and stays (column values by attname) from its history; `slots` maps
    stage id to (pipeline id, slot)."""
    created_at = changes[0][3] if changes else deal.created_at
    visits: dict[int, _Visit] = {}
    stage_id: int | None = None
    status: str = DealStatus.OPEN
    since = created_at  # when the current open spell in `stage_id` began
    entered_at = created_at
    closed_at: dt.datetime | None = None
    for _deal_id, to_stage_id, to_status, at in changes:
        if stage_id is not None and status == DealStatus.OPEN:
            visits[stage_id].tenths += duration_tenths(since, at)
        if to_stage_id != stage_id:
            stage_id = to_stage_id
            entered_at = at
            if stage_id is not None:
                visit = visits.setdefault(stage_id, _Visit(0, False, at, 0))
                visit.visits += 1
        status = to_status or DealStatus.OPEN
        closed_at = at if status in CLOSED else None
        since = at
    if deal.status in CLOSED and closed_at is None:  # a history that never recorded the close
        closed_at = deal.won_at or deal.lost_at or deal.updated_at
    if deal.status == DealStatus.OPEN and deal.stage_id in visits:
        visits[deal.stage_id].open_now = True
    mask = 0
    for sid in visits:
        pipeline_id, slot = slots.get(sid, (0, -1))
        if pipeline_id == deal.pipeline_id and slot >= 0:
            mask |= 1 << slot
    if deal.status == DealStatus.WON:
        mask |= DealFacts.WON_BIT
    closed = closed_at if deal.status in CLOSED else None
    facts = {
        "deal_id": deal.pk,
        "version": deal.version,
        "pipeline_id": deal.pipeline_id,
        "stage_id": deal.stage_id,
        "owner_id": deal.owner_id,
        "source_id": deal.source_id,
        "campaign_id": deal.campaign_id,
        "status": deal.status,
        "value": deal.value,
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date,
        "created_at": created_at,
        "closed_at": closed,
        "cycle_tenths": duration_tenths(created_at, closed) if closed else None,
        "stage_entered_at": entered_at if stage_id == deal.stage_id else created_at,
        "lost_reason_id": deal.lost_reason_id if deal.status == DealStatus.LOST else None,
        "competitor": deal.competitor.strip() if deal.status == DealStatus.LOST else "",
        "reached_mask": mask,
    }
    stays = [
        {
            "deal_id": deal.pk,
            "stage_id": sid,
            "pipeline_id": deal.pipeline_id,
            "owner_id": deal.owner_id,
            "source_id": deal.source_id,
            "campaign_id": deal.campaign_id,
            "status": deal.status,
            "created_at": created_at,
            "closed_at": closed,
            "entered_at": visit.entered_at,
            "visits": min(visit.visits, 32767),
            "tenths": None if visit.open_now else visit.tenths,
        }
        for sid, visit in visits.items()
    ]
    return facts, stays


def _slots() -> dict[int, tuple[int, int]]:
    return {
        pk: (pipeline_id, slot)
        for pk, pipeline_id, slot in Stage.objects.values_list("pk", "pipeline_id", "slot")
    }


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Insert rows (values by attname) as bulk_create would, minus its per-row overhead.

    bulk_create prepares every value through the field and compiles SQL for every few hundred
    rows: for a full rebuild that is most of the time. Here each column's preparation is looked
    up once; the values are the ones the fields themselves prepare (dates, datetimes, decimals
    through the backend's adapters), written with COPY on PostgreSQL and executemany elsewhere.
    """
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
    preps = [_prep(f) for f in fields]
    names = [f.attname for f in fields]
    values = [[p(r[n]) if p else r[n] for n, p in zip(names, preps, strict=True)] for r in rows]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            # names come from the model's own metadata, never from input
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)  # noqa: S608


def _prep(field: models.Field) -> Any:
    """The backend's adapter for one column's values (None where they go in as they are)."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return lambda v: ops.adapt_datetimefield_value(v) if v is not None else None
    if isinstance(field, models.DateField):
        return lambda v: ops.adapt_datefield_value(v) if v is not None else None
    if isinstance(field, models.DecimalField):
        return lambda v: ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    return None


def _forget(chunk: list[int], deltas: Deltas | None) -> None:
    """Delete these deals' facts and stays, taking what they counted out of the cells."""
    if deltas is not None:
        old = DealFacts.objects.filter(deal_id__in=chunk).values_list(*FACT_FIELDS)
        deltas_add(
            deltas,
            (c for row in old for c in fact_cells(dict(zip(FACT_FIELDS, row, strict=True)))),
            -1,
        )
        old_stays = StageStay.objects.filter(
            deal_id__in=chunk, closed_at__isnull=False
        ).values_list(*STAY_FIELDS)
        deltas_add(
            deltas,
            (c for row in old_stays for c in stay_cells(dict(zip(STAY_FIELDS, row, strict=True)))),
            -1,
        )
    StageStay.objects.filter(deal_id__in=chunk).delete()
    DealFacts.objects.filter(deal_id__in=chunk).delete()


@transaction.atomic
def deal_facts_forget(*, deal_ids: Iterable[int]) -> None:
    """Remove these deals' facts and stays and what they counted in the rollup cells, before a
    change that would otherwise delete them behind the cells' back (a stage's deletion
    cascades to the facts that name it); `deal_facts_refresh` writes them again afterwards."""
    ids = sorted(set(deal_ids))
    for chunk in _chunks(ids, CHUNK):
        _lock(chunk)
        deltas = new_deltas()
        _forget(chunk, deltas)
        cells_apply(deltas)


def _lock(chunk: list[int]) -> None:
    # one refresh of a deal at a time: two would both take its old facts out of the cells
    list(Deal.with_trashed.select_for_update().filter(pk__in=chunk).order_by("pk").values("pk"))


@transaction.atomic
def deal_facts_refresh(*, deal_ids: Iterable[int], cells: bool = True) -> int:
    """Recompute the facts and stage stays of these deals from their history, and the rollup
    cells they count in (unless `cells` is False: a full rebuild recomputes those at the end);
    trashed deals lose theirs. Returns how many deals have facts afterwards."""
    ids = sorted(set(deal_ids))
    slots = _slots()
    written = 0
    for chunk in _chunks(ids, CHUNK):
        _lock(chunk)
        deals: list[Any] = [
            _DealRow(*row)
            for row in Deal.with_trashed.filter(pk__in=chunk, deleted_at__isnull=True)
            .order_by()
            .values_list(*DEAL_FIELDS)
        ]
        history: dict[int, list[_Change]] = {d.pk: [] for d in deals}
        changes = (
            StageChange.objects.filter(deal_id__in=chunk)
            .order_by("deal_id", "changed_at", "pk")
            .values_list("deal_id", "to_stage_id", "to_status", "changed_at")
        )
        for change in changes:
            if change[0] in history:
                history[change[0]].append(change)
        deltas = new_deltas() if cells else None
        _forget(chunk, deltas)
        facts, stays = [], []
        for deal in deals:
            row, deal_stays = _facts_of(deal, history[deal.pk], slots)
            facts.append(row)
            stays += deal_stays
        _insert(DealFacts, facts)
        _insert(StageStay, stays)
        if deltas is not None:
            deltas_add(deltas, (c for f in facts for c in fact_cells(f)), 1)
            deltas_add(deltas, (c for s in stays for c in stay_cells(s)), 1)
            cells_apply(deltas)
        written += len(facts)
    return written


def deal_facts_stale_ids(limit: int | None = None) -> list[int]:
    """Live deals whose facts are missing or were computed from another version, and trashed
    deals that still have facts."""
    facts = DealFacts.objects.filter(deal=OuterRef("pk"), version=OuterRef("version"))
    qs = (
        Deal.with_trashed.annotate(fresh=Exists(facts))
        .filter(
            Q(deleted_at__isnull=True, fresh=False)
            | Q(deleted_at__isnull=False, facts__isnull=False)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return list(qs[:limit] if limit else qs)


def deal_facts_sync(*, limit: int = 50_000) -> int:
    """Rebuild the facts of every deal whose row is missing or stale (at most `limit`)."""
    ids = deal_facts_stale_ids(limit)
    if ids:
        deal_facts_refresh(deal_ids=ids)
    return len(ids)


def deal_facts_rebuild(*, pipeline_id: int | None = None, chunk: int = 20_000) -> int:
    """Recompute the facts of every live deal (of one pipeline), chunk by chunk, and the
    rollup cells (all of them from the facts at the end, for a full rebuild)."""
    qs = Deal.objects.order_by("pk")
    everything = pipeline_id is None
    if not everything:
        qs = qs.filter(pipeline_id=pipeline_id)
    else:
        DealFacts.objects.filter(deal__deleted_at__isnull=False).delete()
    total = 0
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        total += deal_facts_refresh(deal_ids=ids, cells=not everything)
        last = ids[-1]
    if everything:
        deal_rollups_rebuild()
    return total


def deals_with_stage(stage: Stage) -> list[int]:
    """Deals whose facts say they entered `stage` (its slot bit is set)."""
    return list(
        DealFacts.objects.filter(pipeline_id=stage.pipeline_id)
        .annotate(bit=F("reached_mask").bitand(1 << stage.slot))
        .filter(bit__gt=0)
        .values_list("deal_id", flat=True)
    )


def stage_slot_free(pipeline_id: int) -> int:
    """The lowest slot no stage of the pipeline holds (stages take one each, for life)."""
    used = set(Stage.objects.filter(pipeline_id=pipeline_id).values_list("slot", flat=True))
    slot = next(n for n in range(len(used) + 1) if n not in used)
    return slot


def facts_of_deal(deal_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The stored facts and stays of one deal as plain values (for the consistency tests)."""
    fields = [f.attname for f in DealFacts._meta.concrete_fields]
    stay_fields = [f.attname for f in StageStay._meta.concrete_fields if f.attname != "id"]
    row = DealFacts.objects.filter(deal_id=deal_id).values(*fields).first() or {}
    stays = list(
        StageStay.objects.filter(deal_id=deal_id).order_by("stage_id").values(*stay_fields)
    )
    return row, stays
