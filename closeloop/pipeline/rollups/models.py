"""The rollup cells: the deal facts added up per month and per what the reports group by.

A report over a million deals reads a few thousand of these rows instead of the facts. Each
model is a set of cells keyed by its dimensions (the month, in the server's time zone, of the
date its reports filter on; the pipeline; the owner, so that the visibility rules and the team
and owner filters apply; and what the reports group by). Its measures are additive: `deals`
counts, `value` and `cycle_tenths` are sums, so a cell is the sum of its deals' contributions
and `rollups.maintain` adds a deal's new contribution and takes away its old one in the
transaction that rewrites its facts. `cell` is the dimensions joined into one string: the
upsert's conflict target (a unique constraint over nullable columns would treat NULLs as
distinct). The field names are the facts' own, so a report's query runs on either.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..choices import DealStatus
from ..models import LostReason, Pipeline, Stage

CLOSED = Q(status__in=[DealStatus.WON, DealStatus.LOST])

# The lower edges of the deal size bands (the win-rate report's rows), in the deal's own
# currency: a band runs from its edge up to, not including, the next. Changing them needs
# `closeloop rebuild_deal_facts` (the band is a dimension of `TraitCell`).
SIZE_BAND_EDGES: tuple[int, ...] = (0, 1_000, 5_000, 10_000, 50_000)


def _fk(model: type[models.Model] | str, on_delete=models.CASCADE, null: bool = False):  # type: ignore[no-untyped-def]
    # the facts' own deletion rules, so a cascade or SET NULL treats cells as it treats facts
    return models.ForeignKey(
        model, null=null, on_delete=on_delete, related_name="+", db_index=False
    )


class Cell(models.Model):
    """A rollup cell: how many deals (and their sums) share these dimensions in a month."""

    # which facts date the month is of ("created_at" or "closed_at"), and which facts the
    # cells add up (Q over `DealFacts`, or over `StageStay` for `StayCell`)
    basis: ClassVar[str] = "closed_at"
    facts_filter: ClassVar[Q] = CLOSED
    has_owner: ClassVar[bool] = True

    cell = models.CharField(max_length=400, unique=True)
    pipeline = _fk(Pipeline)
    month = models.DateField(help_text="first day of the month, in the server's time zone")
    deals = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} {self.cell}: {self.deals} deal(s)"


class OpenedCell(Cell):
    """Deals opened in a month per owner, status and the stages they reached (the funnel)."""

    basis = "created_at"
    facts_filter = Q()

    owner = _fk(settings.AUTH_USER_MODEL)
    status = models.CharField(max_length=4, choices=DealStatus.choices)
    reached_mask = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["pipeline", "month", "owner"], name="openedcell_month")]


class ClosedCell(Cell):
    """Deals won or lost in a month per owner, outcome, stage, stages reached and currency."""

    owner = _fk(settings.AUTH_USER_MODEL)
    status = models.CharField(max_length=4, choices=DealStatus.choices)
    stage = _fk(Stage)
    reached_mask = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    value = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    cycle_tenths = models.BigIntegerField(default=0, help_text="sum of the cycle lengths")

    class Meta:
        indexes = [models.Index(fields=["pipeline", "month", "owner"], name="closedcell_month")]


class LostCell(Cell):
    """Deals lost in a month per owner, stage, reason and currency."""

    facts_filter = Q(status=DealStatus.LOST)

    owner = _fk(settings.AUTH_USER_MODEL)
    stage = _fk(Stage)
    lost_reason = _fk(LostReason, models.SET_NULL, null=True)
    currency = models.CharField(max_length=3)
    value = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["pipeline", "month", "owner"], name="lostcell_month")]


class CompetitorCell(Cell):
    """Deals lost in a month per owner, competitor (as spelt), reason and currency."""

    facts_filter = Q(status=DealStatus.LOST)

    owner = _fk(settings.AUTH_USER_MODEL)
    competitor = models.CharField(max_length=200, blank=True)
    lost_reason = _fk(LostReason, models.SET_NULL, null=True)
    currency = models.CharField(max_length=3)
    value = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["pipeline", "month", "owner"], name="competitorcell_month")]


class TraitCell(Cell):
    """Deals won or lost in a month per owner and outcome, by one trait at a time: the
    source, the campaign or the size band (with the currency the band is counted in)."""

    SOURCE, CAMPAIGN, BAND = "source", "campaign", "band"

    owner = _fk(settings.AUTH_USER_MODEL)
    status = models.CharField(max_length=4, choices=DealStatus.choices)
    trait = models.CharField(max_length=8)
    source = _fk("leads.Source", models.SET_NULL, null=True)
    campaign = _fk("leads.Campaign", models.SET_NULL, null=True)
    band = models.SmallIntegerField(null=True)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["pipeline", "trait", "month", "owner"], name="traitcell_month")
        ]


class CycleCell(Cell):
    """How many deals won or lost in a month took each cycle length (tenths of a day), for
    exact medians. No owner: per owner nothing would be added up, so a report restricted to
    some owners reads the facts instead."""

    has_owner = False

    status = models.CharField(max_length=4, choices=DealStatus.choices)
    cycle_tenths = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["pipeline", "month"], name="cyclecell_month")]


class StayCell(Cell):
    """How many stays of deals won or lost in a month lasted each length, per stage and
    outcome (time in stage percentiles); no owner, as for `CycleCell`."""

    facts_filter = CLOSED & Q(tenths__isnull=False)
    has_owner = False

    stage = _fk(Stage)
    status = models.CharField(max_length=4, choices=DealStatus.choices)
    tenths = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["pipeline", "month"], name="staycell_month")]


CELL_MODELS: tuple[type[Cell], ...] = (
    OpenedCell,
    ClosedCell,
    LostCell,
    CompetitorCell,
    TraitCell,
    CycleCell,
    StayCell,
)
