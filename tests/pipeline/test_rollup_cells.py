"""The rollup cells never disagree with the facts: after any mix of changes, the cells kept
along the way equal the facts added up by the database, and equal a rebuild from scratch."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import time_machine
from django.db.models import Case, Count, F, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import TruncMonth
from django.utils import timezone

from closeloop.leads.models import Campaign, Source
from closeloop.pipeline import services
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.facts import deal_facts_sync
from closeloop.pipeline.models import Deal, DealFacts, Pipeline, Stage, StageStay
from closeloop.pipeline.rollups.maintain import DIMENSIONS, MEASURES, deal_rollups_rebuild
from closeloop.pipeline.rollups.models import (
    CELL_MODELS,
    SIZE_BAND_EDGES,
    ClosedCell,
    CompetitorCell,
    CycleCell,
    LostCell,
    OpenedCell,
    StayCell,
    TraitCell,
)
from closeloop.pipeline.services import stage_create, stage_delete, stage_reorder
from tests.factories import lost_reason

T0 = dt.datetime(2026, 1, 28, 9, 0, tzinfo=dt.UTC)  # a few days before a month's end
Cells = dict[str, dict[tuple[Any, ...], tuple[Any, ...]]]


def _normal(sums: tuple[Any, ...]) -> tuple[Any, ...]:
    # SQLite adds decimals as floats: compare money to the cent
    return tuple(
        Decimal(s).quantize(Decimal("0.01")) if isinstance(s, Decimal | float) else s for s in sums
    )


def cells_kept() -> Cells:
    """Every model's cells, added up per dimension values (zero cells left out)."""
    found: Cells = {}
    for model in CELL_MODELS:
        dims, measures = DIMENSIONS[model], MEASURES[model]
        rows = model.objects.values(*dims).annotate(**{f"s_{m}": Sum(m) for m in measures})
        found[model.__name__] = {
            tuple(r[d] for d in dims): _normal(tuple(r[f"s_{m}"] for m in measures))
            for r in rows
            if r["s_deals"]
        }
    return found


def _grouped(qs: QuerySet, dims: dict[str, Any], measures: dict[str, Any]) -> dict:
    rows = qs.annotate(**dims).values(*dims).annotate(**measures).order_by()
    return {tuple(r[d] for d in dims): _normal(tuple(r[m] for m in measures)) for r in rows}


def cells_from_facts() -> Cells:
    """What the cells should hold, by GROUP BY over the facts (a path of its own)."""
    zone = timezone.get_default_timezone()
    closed = DealFacts.objects.filter(status__in=[DealStatus.WON, DealStatus.LOST])
    lost = closed.filter(status=DealStatus.LOST)

    def month(field: str) -> Any:
        return TruncMonth(field, tzinfo=zone)

    def common(basis: str, *names: str) -> dict[str, Any]:
        return {"p": F("pipeline_id"), "m": month(basis), **{f"d_{n}": F(n) for n in names}}

    count = {"deals": Count("pk")}
    money = {"deals": Count("pk"), "value": Sum("value")}
    band = Case(
        *[
            When(value__gte=edge, then=Value(i))
            for i, edge in reversed(list(enumerate(SIZE_BAND_EDGES)))
        ],
        default=Value(0),
        output_field=IntegerField(),
    )
    traits: dict[tuple, tuple] = {}
    base = common("closed_at", "owner_id", "status")
    for trait, extra in (
        ("source", {"src": F("source_id")}),
        ("campaign", {"cmp": F("campaign_id")}),
        ("band", {"band": band, "cur": F("currency")}),
    ):
        for key, sums in _grouped(closed, base | extra, count).items():
            head, tail = key[:4], dict(zip(extra, key[4:], strict=True))
            full = (
                *head,
                trait,
                tail.get("src"),
                tail.get("cmp"),
                tail.get("band"),
                tail.get("cur", ""),
            )
            traits[full] = sums
    by_month = {
        "OpenedCell": _grouped(
            DealFacts.objects.all(),
            common("created_at", "owner_id", "status", "reached_mask"),
            count,
        ),
        "ClosedCell": _grouped(
            closed,
            common("closed_at", "owner_id", "status", "stage_id", "reached_mask", "currency"),
            money | {"cycle": Sum("cycle_tenths")},
        ),
        "LostCell": _grouped(
            lost, common("closed_at", "owner_id", "stage_id", "lost_reason_id", "currency"), money
        ),
        "CompetitorCell": _grouped(
            lost, common("closed_at", "owner_id", "competitor", "lost_reason_id", "currency"), money
        ),
        "TraitCell": traits,
        "CycleCell": _grouped(closed, common("closed_at", "status", "cycle_tenths"), count),
        "StayCell": _grouped(
            StageStay.objects.filter(
                status__in=[DealStatus.WON, DealStatus.LOST], tenths__isnull=False
            ),
            common("closed_at", "stage_id", "status", "tenths"),
            count,
        ),
    }
    # TruncMonth gives an aware datetime on PostgreSQL, a date-like one elsewhere
    return {
        name: {(k[0], _day(k[1]), *k[2:]): v for k, v in rows.items()}
        for name, rows in by_month.items()
    }


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, timezone.get_default_timezone()).date()
    return value


def check_cells() -> None:
    kept = cells_kept()
    assert kept == cells_from_facts()
    deal_rollups_rebuild()
    assert cells_kept() == kept
    assert all(kept.values()) or not DealFacts.objects.exists()


def at(days: float) -> time_machine.travel:
    return time_machine.travel(T0 + dt.timedelta(days=days), tick=False)


def test_random_changes_keep_the_cells_equal_to_the_facts(admin, rep, teammate) -> None:
    """Moves, wins, losses, reopenings, edits of value, currency, owner, source and campaign,
    trash and restore, stage reordering and deletion, and a write around the services caught
    by the sync, across month ends: the cells always add up to what the facts say."""
    rng = random.Random(88)
    pipeline = Pipeline.objects.get(is_default=True)
    extra = stage_create(actor=admin, pipeline=pipeline, name="Contract")
    stages = list(Stage.objects.filter(pipeline=pipeline))
    reasons = [lost_reason("Price"), lost_reason("Timing")]
    sources = [Source.objects.create(name=f"S{i}") for i in range(2)] + [None]
    campaigns = [Campaign.objects.create(name="C1"), None]
    deals: list[Deal] = []
    for n in range(30):
        day = rng.uniform(0, 20)
        with at(day):
            deals.append(
                services.deal_create(
                    actor=admin,
                    title=f"D{n}",
                    stage=rng.choice(stages),
                    value=rng.choice([500, 1200, 7000, 60000]),
                )
            )
        for _ in range(rng.randint(0, 6)):
            day += rng.uniform(0.01, 12)
            deal = deals[-1]
            with at(day):
                step = rng.random()
                if deal.status != DealStatus.OPEN:
                    deal = services.deal_reopen(actor=admin, deal=deal)
                elif step < 0.35:
                    target = rng.choice([s for s in stages if s.pk != deal.stage_id])
                    deal = services.deal_move_to_stage(actor=admin, deal=deal, stage=target)
                elif step < 0.5:
                    deal = services.deal_mark_won(actor=admin, deal=deal)
                elif step < 0.65:
                    deal = services.deal_mark_lost(
                        actor=admin,
                        deal=deal,
                        reason=rng.choice(reasons),
                        competitor=rng.choice(["", "BigCRM", " bigcrm "]),
                    )
                else:
                    deal = services.deal_update(
                        actor=admin,
                        deal=deal,
                        changes={
                            "owner": rng.choice([rep, teammate]),
                            "value": rng.choice([900, 4000, 12000]),
                            "currency": rng.choice(["EUR", "USD"]),
                            "source": rng.choice(sources),
                            "campaign": rng.choice(campaigns),
                        },
                    )
            deals[-1] = deal
    check_cells()

    with at(40):
        for deal in rng.sample(deals, 5):
            services.deal_trash(actor=admin, deal=deal)
        trashed = list(Deal.with_trashed.filter(deleted_at__isnull=False))
        services.deal_restore(actor=admin, deal=trashed[0])
        stage_reorder(
            actor=admin,
            pipeline=pipeline,
            stage_ids=list(reversed([s.pk for s in pipeline.stages.all()])),
        )
        stage_delete(
            actor=admin, stage=extra, move_to=stages[0] if stages[0] != extra else stages[1]
        )
    check_cells()

    # a write around the services: the sync rebuilds the facts, and the cells with them
    victim = Deal.objects.filter(status=DealStatus.LOST).first() or Deal.objects.first()
    assert victim is not None
    Deal.objects.filter(pk=victim.pk).update(value=31337, version=victim.version + 1)
    assert deal_facts_sync() == 1
    check_cells()


def test_a_deal_counts_once_in_each_of_its_cells(rep) -> None:
    with at(0):
        deal = services.deal_create(actor=rep, title="Oven", value=6000)
    with at(10):  # closed in the next month (T0 is 28 January)
        services.deal_mark_lost(actor=rep, deal=deal, reason=lost_reason("Price"), competitor="X")
    feb, jan = dt.date(2026, 2, 1), dt.date(2026, 1, 1)
    assert OpenedCell.objects.get().month == jan
    closed = ClosedCell.objects.get()
    assert (closed.month, closed.deals, closed.value, closed.cycle_tenths) == (
        feb,
        1,
        Decimal("6000.00"),
        100,
    )
    assert LostCell.objects.get().lost_reason.name == "Price"
    assert CompetitorCell.objects.get().competitor == "X"
    assert sorted(TraitCell.objects.values_list("trait", "band")) == [
        ("band", 2),
        ("campaign", None),
        ("source", None),
    ]
    assert CycleCell.objects.get().cycle_tenths == 100
    assert StayCell.objects.get().tenths == 100
    services.deal_trash(actor=rep, deal=deal)
    assert not any(model.objects.exists() for model in CELL_MODELS)
