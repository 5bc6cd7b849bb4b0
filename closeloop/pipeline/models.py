from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from closeloop.accounts.visibility import VisibleQuerySet
from closeloop.core.models import AliveManager, TimestampedModel, TrashableModel, TrashQuerySet

from .choices import DealStatus


class Pipeline(TimestampedModel):
    """A sales process: an ordered list of stages a deal moves through."""

    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)
    # proposal automation: the customer's acceptance wins the deal (at the proposal's total),
    # sending the first proposal moves it to `proposal_stage`, a later version to
    # `negotiation_stage` (each only forward, and only when set)
    win_on_acceptance = models.BooleanField(default=False)
    proposal_stage = models.ForeignKey(
        "Stage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    negotiation_stage = models.ForeignKey(
        "Stage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class Stage(TimestampedModel):
    """One step of a pipeline, with the chance that a deal here is won and when it goes stale."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Win probability in percent",
    )
    rot_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="A deal idle this many days in the stage is rotting"
    )
    is_optional = models.BooleanField(default=False)
    # a number fixed for the stage's life, unique in its pipeline: the stage's bit in
    # `DealFacts.reached_mask` (positions change when stages are reordered, slots never do)
    slot = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["pipeline", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "slot"], name="stage_slot_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class LostReason(TimestampedModel):
    """A configurable reason for losing a deal; inactive ones stay on old deals."""

    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class DealQuerySet(VisibleQuerySet, TrashQuerySet):  # type: ignore[override]
    def open(self) -> DealQuerySet:
        return self.filter(status=DealStatus.OPEN)


class Deal(TrashableModel):
    """A sale in progress: it sits in a stage and has a status (open, won, lost) apart from it.

    A lost or won deal keeps the stage where it closed. `version` grows with every write so an
    edit based on a stale copy is refused instead of overwriting someone else's change.
    """

    title = models.CharField(max_length=200)
    organization = models.ForeignKey(
        "people.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals"
    )
    value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    expected_close_date = models.DateField(null=True, blank=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(
        max_length=4, choices=DealStatus.choices, default=DealStatus.OPEN, db_index=True
    )
    won_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason, null=True, blank=True, on_delete=models.PROTECT, related_name="deals"
    )
    competitor = models.CharField(max_length=200, blank=True)
    lost_note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    import_batch = models.ForeignKey(
        "leads.ImportBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # attribution, carried over from the lead it was qualified from (or set by hand / import)
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    source = models.ForeignKey(
        "leads.Source", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)

    # no plain index: every live deal has it empty, and SQLite would pick that index for
    # `deleted_at IS NULL` and sort all of them, instead of reading a list's keyset index
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = AliveManager.from_queryset(DealQuerySet)()
    with_trashed = DealQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        base_manager_name = "with_trashed"
        indexes = [
            # the board: open deals of one stage, newest first
            models.Index(fields=["stage", "status", "deleted_at", "-created_at"]),
            models.Index(fields=["owner", "status"]),
            # the trash page: trashed deals only
            models.Index(
                fields=["deleted_at"],
                name="deal_deleted_at_set_idx",
                condition=models.Q(deleted_at__isnull=False),
            ),
            # the API's list pages (keyset: newest first by default, or by last change for a
            # sync): the live deals in that order, read from the index and stopped at the page
            models.Index(
                fields=["created_at", "id"],
                name="deal_live_created",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["updated_at", "id"],
                name="deal_live_updated",
                condition=models.Q(deleted_at__isnull=True),
            ),
            # a rep's own deals, newest first (the API's list and the deals page)
            models.Index(
                fields=["owner", "created_at", "id"],
                name="deal_live_owner_created",
                condition=models.Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def weighted_value(self) -> Decimal:
        return weighted_value_of(self.value, self.stage.probability)


def weighted_value_of(value: Decimal, probability: int) -> Decimal:
    """A deal's value times its stage's win probability, to the cent."""
    return (value * probability / Decimal(100)).quantize(Decimal("0.01"))


class StageChange(models.Model):
    """One step in a deal's history: a move between stages or a status change, who and when.

    Time in stage, funnel conversion and cycle length are computed from these rows alone.
    """

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    from_status = models.CharField(max_length=4, choices=DealStatus.choices, blank=True)
    to_status = models.CharField(max_length=4, choices=DealStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["changed_at", "pk"]
        indexes = [models.Index(fields=["deal", "to_stage", "-changed_at"])]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id}->{self.to_stage_id} {self.to_status}"

    @property
    def is_stage_move(self) -> bool:
        return self.from_stage_id is not None and self.from_stage_id != self.to_stage_id


class DealFacts(models.Model):
    """What one deal's stage history says, kept for the reports: one row per live deal.

    Computed from the deal and its `StageChange` rows by `deal_facts_refresh`, in the same
    transaction as every change to either, and never edited otherwise; `version` is the deal
    version it was computed from, so a stale or missing row is found and rebuilt by the sync job.
    Trashed deals have none.
    """

    deal = models.OneToOneField(
        Deal, primary_key=True, on_delete=models.CASCADE, related_name="facts"
    )
    version = models.PositiveIntegerField()
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+", db_index=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.ForeignKey(
        "leads.Source", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    status = models.CharField(max_length=4, choices=DealStatus.choices)
    value = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    expected_close_date = models.DateField(null=True)
    created_at = models.DateTimeField(help_text="when the deal entered its first stage")
    closed_at = models.DateTimeField(null=True, help_text="when it was won or lost, if it is")
    cycle_tenths = models.PositiveIntegerField(
        null=True, help_text="days from creation to won/lost, in tenths of a day"
    )
    stage_entered_at = models.DateTimeField(help_text="when it last entered its current stage")
    lost_reason = models.ForeignKey(
        LostReason, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    competitor = models.CharField(max_length=200, blank=True)
    # one bit per stage slot of the deal's pipeline it ever entered; WON_BIT once it is won
    reached_mask = models.BigIntegerField(default=0)

    WON_BIT = 1 << 62

    class Meta:
        # The reports read a pipeline's deals opened (created_at) or closed (closed_at) in a
        # period, often for one manager's or rep's owners. The two period indexes carry the
        # columns those reads aggregate after the date, so a million-deal report is answered
        # from the index alone (SQLite's covering index, PostgreSQL's index-only scan) instead
        # of a table lookup per deal; plain key columns, not INCLUDE, so SQLite gets it too.
        # `deal` (the primary key) comes last because the reports count Count("pk"): on SQLite
        # a bigint primary key is not the rowid, so without it every count reads the table.
        indexes = [
            # the funnel and the cohorts: who owns it, where it stands, which stages it reached
            models.Index(
                fields=["pipeline", "created_at", "owner", "status", "reached_mask", "deal"],
                name="dealfacts_cohort",
            ),
            # closed in the period: won/lost counts per owner and the cycle-length percentiles
            models.Index(
                fields=["pipeline", "closed_at", "owner", "status", "cycle_tenths", "deal"],
                name="dealfacts_closed",
            ),
            # the open deals (forecast, open pipeline): what those read, after the close date
            models.Index(
                fields=[
                    "pipeline",
                    "status",
                    "expected_close_date",
                    "stage",
                    "currency",
                    "value",
                    "owner",
                    "deal",
                ],
                name="dealfacts_open",
            ),
            # rotting: open deals per stage by when they entered it
            models.Index(
                fields=["pipeline", "status", "stage", "stage_entered_at", "owner", "deal"],
                name="dealfacts_rot",
            ),
            models.Index(fields=["owner", "created_at"], name="dealfacts_owner"),
            # all-time cycles per owner (the team report: read in the order they are grouped
            # in) and of some owners (a manager's team: a range per status and owner), from
            # the index alone
            models.Index(
                fields=["pipeline", "status", "owner", "cycle_tenths"],
                name="dealfacts_owner_cycle",
            ),
        ]

    def __str__(self) -> str:
        return f"facts of deal {self.deal_id}"


class StageStay(models.Model):
    """How long one deal spent in one stage (all its visits added up), for the reports.

    Rebuilt with its deal's `DealFacts`; carries the same filter fields so that time-in-stage
    figures need no join. `tenths` is None while the deal is still in the stage.
    """

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+", db_index=False)
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source = models.ForeignKey(
        "leads.Source", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    status = models.CharField(max_length=4, choices=DealStatus.choices)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True)
    entered_at = models.DateTimeField(help_text="the first time the deal entered the stage")
    visits = models.PositiveSmallIntegerField(default=1)
    tenths = models.PositiveIntegerField(null=True, help_text="days in the stage, in tenths")

    class Meta:
        indexes = [
            # time in stage of the deals closed in a period: the percentiles count `tenths`
            # per stage (and per owner for a team), read from the index alone
            models.Index(
                fields=["pipeline", "closed_at", "owner", "stage", "status", "tenths"],
                name="stagestay_closed",
            ),
            # all time, for some owners (a manager's team): a range per status and owner
            models.Index(
                fields=["pipeline", "status", "owner", "stage", "tenths"],
                name="stagestay_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"deal {self.deal_id} in stage {self.stage_id}"


# the rollup cells are models of this app; they live in their own module
from .rollups.models import (  # noqa: E402, F401
    ClosedCell,
    CompetitorCell,
    CycleCell,
    LostCell,
    OpenedCell,
    StayCell,
    TraitCell,
)
