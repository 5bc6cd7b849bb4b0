"""Keeping the rollup cells equal to the sum of the facts they roll up.

`deal_facts_refresh` hands over, per deal, the facts and stays it removes and the ones it
writes; `cells_apply` turns them into one signed contribution per cell (old ones negative, new
ones positive, netted so an unchanged deal writes nothing) and adds them with INSERT … ON
CONFLICT (cell) DO UPDATE: the database adds, so two transactions touching the same cell both
count, and the cells are written in key order so they cannot deadlock on each other. Cells that
fall to zero deals are deleted. `deal_rollups_rebuild` recomputes every cell from the facts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from ..choices import DealStatus
from .models import (
    CELL_MODELS,
    SIZE_BAND_EDGES,
    Cell,
    ClosedCell,
    CompetitorCell,
    CycleCell,
    LostCell,
    OpenedCell,
    StayCell,
    TraitCell,
)

ZERO = Decimal(0)
CLOSED = (DealStatus.WON, DealStatus.LOST)
# model → (dimensions …) → [deals, value, cycle_tenths]
Deltas = dict[type[Cell], dict[tuple[Any, ...], list[Any]]]

DIMENSIONS: dict[type[Cell], tuple[str, ...]] = {
    OpenedCell: ("pipeline_id", "month", "owner_id", "status", "reached_mask"),
    ClosedCell: (
        "pipeline_id", "month", "owner_id", "status", "stage_id", "reached_mask", "currency",
    ),
    LostCell: ("pipeline_id", "month", "owner_id", "stage_id", "lost_reason_id", "currency"),
    CompetitorCell: (
        "pipeline_id", "month", "owner_id", "competitor", "lost_reason_id", "currency",
    ),
    TraitCell: (
        "pipeline_id", "month", "owner_id", "status", "trait", "source_id", "campaign_id",
        "band", "currency",
    ),
    CycleCell: ("pipeline_id", "month", "status", "cycle_tenths"),
    StayCell: ("pipeline_id", "month", "stage_id", "status", "tenths"),
}  # fmt: skip
MEASURES: dict[type[Cell], tuple[str, ...]] = {
    OpenedCell: ("deals",),
    ClosedCell: ("deals", "value", "cycle_tenths"),
    LostCell: ("deals", "value"),
    CompetitorCell: ("deals", "value"),
    TraitCell: ("deals",),
    CycleCell: ("deals",),
    StayCell: ("deals",),
}


def cell_month(moment: dt.datetime) -> dt.date:
    """The month a moment falls in, in the server's time zone (the cells' months)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def size_band(value: Decimal) -> int:
    """The index of the size band `value` falls in (`SIZE_BAND_EDGES`)."""
    band = 0
    for index, edge in enumerate(SIZE_BAND_EDGES):
        if value >= edge:
            band = index
    return band


def fact_cells(f: dict[str, Any]) -> Iterator[tuple[type[Cell], tuple[Any, ...], tuple]]:
    """The cells one deal's facts (values by attname) count in, with its measures there."""
    p, owner, status = f["pipeline_id"], f["owner_id"], f["status"]
    created = cell_month(f["created_at"])
    yield OpenedCell, (p, created, owner, status, f["reached_mask"]), (1,)
    if status not in CLOSED or f["closed_at"] is None:
        return
    month = cell_month(f["closed_at"])
    value, currency, cycle = f["value"], f["currency"], f["cycle_tenths"] or 0
    yield (
        ClosedCell,
        (p, month, owner, status, f["stage_id"], f["reached_mask"], currency),
        (1, value, cycle),
    )
    trait = (p, month, owner, status)
    yield TraitCell, (*trait, TraitCell.SOURCE, f["source_id"], None, None, ""), (1,)
    yield TraitCell, (*trait, TraitCell.CAMPAIGN, None, f["campaign_id"], None, ""), (1,)
    yield TraitCell, (*trait, TraitCell.BAND, None, None, size_band(value), currency), (1,)
    yield CycleCell, (p, month, status, cycle), (1,)
    if status == DealStatus.LOST:
        reason = f["lost_reason_id"]
        yield LostCell, (p, month, owner, f["stage_id"], reason, currency), (1, value)
        yield (
            CompetitorCell,
            (p, month, owner, f["competitor"], reason, currency),
            (1, value),
        )


def stay_cells(s: dict[str, Any]) -> Iterator[tuple[type[Cell], tuple[Any, ...], tuple]]:
    """The cell one stay counts in (only stays of closed deals, whose length is known)."""
    if s["status"] in CLOSED and s["closed_at"] is not None and s["tenths"] is not None:
        key = (s["pipeline_id"], cell_month(s["closed_at"]), s["stage_id"], s["status"])
        yield StayCell, (*key, s["tenths"]), (1,)


def deltas_add(
    deltas: Deltas,
    cells: Iterable[tuple[type[Cell], tuple[Any, ...], tuple]],
    sign: int,
) -> None:
    for model, key, measures in cells:
        slot = deltas[model].get(key)
        if slot is None:
            slot = deltas[model][key] = [0, ZERO, 0][: len(measures)]
        for i, m in enumerate(measures):
            slot[i] += sign * m


def new_deltas() -> Deltas:
    return defaultdict(dict)


def _key(values: tuple[Any, ...]) -> str:
    return "|".join("" if v is None else str(v) for v in values)


def _preps(model: type[Cell], names: tuple[str, ...]) -> list[Callable[[Any], Any] | None]:
    from ..facts import _prep  # the facts' column adapters, so cells are stored alike

    fields = [model._meta.get_field(n.removesuffix("_id")) for n in names]
    return [_prep(cast(Field, f)) for f in fields]  # every dimension is a concrete column


def _rows(
    model: type[Cell], cells: dict[tuple[Any, ...], list[Any]]
) -> tuple[list[str], list[list[Any]]]:
    dims, measures = DIMENSIONS[model], MEASURES[model]
    names = ["cell", *dims, *measures]
    preps = _preps(model, (*dims, *measures))
    rows = []
    for values, sums in sorted(cells.items(), key=lambda kv: _key(kv[0])):
        if not any(sums):
            continue  # netted out: the deal's change did not move this cell
        raw = [*values, *sums]
        rows.append([_key(values), *(p(v) if p else v for v, p in zip(raw, preps, strict=True))])
    return names, rows


def _shrinking(cells: dict[tuple[Any, ...], list[Any]]) -> Iterator[bool]:
    # in `_rows` order: sorted by key, netted-out cells left out
    for _values, sums in sorted(cells.items(), key=lambda kv: _key(kv[0])):
        if any(sums):
            yield sums[0] < 0


def cells_apply(deltas: Deltas) -> None:
    """Add the signed contributions to their cells, in one upsert per model."""
    for model in CELL_MODELS:
        cells = deltas.get(model)
        if not cells:
            continue
        names, rows = _rows(model, cells)
        if not rows:
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(n) for n in names)
        marks = ", ".join(["%s"] * len(names))
        adds = ", ".join(
            f"{m} = {table}.{m} + excluded.{m}"
            for m in map(connection.ops.quote_name, MEASURES[model])
        )
        with connection.cursor() as cursor:
            # names come from the models' own metadata, never from input
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) "  # noqa: S608
                f"ON CONFLICT ({connection.ops.quote_name('cell')}) DO UPDATE SET {adds}",
                rows,
            )
        # only a cell something was taken from can have fallen to zero
        shrunk = [r[0] for r, values in zip(rows, _shrinking(cells), strict=True) if values]
        for start in range(0, len(shrunk), 500):
            model._default_manager.filter(cell__in=shrunk[start : start + 500], deals=0).delete()


FACT_FIELDS = (
    "pipeline_id", "owner_id", "status", "stage_id", "reached_mask", "created_at", "closed_at",
    "value", "currency", "cycle_tenths", "source_id", "campaign_id", "lost_reason_id",
    "competitor",
)  # fmt: skip
STAY_FIELDS = ("pipeline_id", "stage_id", "status", "closed_at", "tenths")


@transaction.atomic
def deal_rollups_rebuild(*, chunk: int = 50_000) -> dict[str, int]:
    """Recompute every rollup cell from the facts (after the facts themselves were rebuilt).
    Returns the number of cells per model."""
    from ..models import DealFacts, StageStay

    if connection.vendor == "postgresql":
        # services wait until the cells are whole again, rather than add to half of them
        with connection.cursor() as cursor:
            for model in CELL_MODELS:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    for model in CELL_MODELS:
        model._default_manager.all().delete()
    deltas = new_deltas()
    for queryset, pk, fields, cells_of in (
        (DealFacts.objects, "deal_id", FACT_FIELDS, fact_cells),
        (StageStay.objects.filter(closed_at__isnull=False), "id", STAY_FIELDS, stay_cells),
    ):
        last = 0
        while True:
            rows = list(
                queryset.filter(**{f"{pk}__gt": last}).order_by(pk).values_list(pk, *fields)[:chunk]
            )
            if not rows:
                break
            for row in rows:
                deltas_add(deltas, cells_of(dict(zip(fields, row[1:], strict=True))), 1)
            last = rows[-1][0]
    cells_apply(deltas)
    return {model.__name__: len(deltas.get(model, {})) for model in CELL_MODELS}
