from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from closeloop.accounts.visibility import VisibleQuerySet
from closeloop.core.models import AliveManager, TimestampedModel, TrashableModel, TrashQuerySet

from .choices import (
    CampaignChannel,
    CriterionStatus,
    DuplicateScanState,
    DuplicateState,
    ImportKind,
    ImportMode,
    ImportState,
    LeadStatus,
)


class Source(TimestampedModel):
    """Where leads come from (a configurable list); retired sources stay on old leads."""

    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Campaign(TimestampedModel):
    """A marketing effort leads are attributed to: its channel, dates and cost."""

    name = models.CharField(max_length=200, unique=True)
    channel = models.CharField(
        max_length=10, choices=CampaignChannel.choices, default=CampaignChannel.OTHER
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    utm_campaign = models.CharField(
        max_length=200, blank=True, help_text="Leads arriving with this utm_campaign join it"
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_on", "name"]

    def __str__(self) -> str:
        return self.name


class ImportBatch(TimestampedModel):
    """One uploaded file being imported: its settings, progress and reconciled counts."""

    kind = models.CharField(max_length=14, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    mode = models.CharField(max_length=6, choices=ImportMode.choices, default=ImportMode.CREATE)
    match_on = models.CharField(max_length=12, default="email")
    mapping = models.JSONField(default=dict, blank=True)
    value_mapping = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    state = models.CharField(
        max_length=8, choices=ImportState.choices, default=ImportState.UPLOADED
    )
    rows_read = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} from {self.file_name}"

    @property
    def reconciles(self) -> bool:
        done = self.created_count + self.updated_count + self.skipped_count + self.failed_count
        return done == self.rows_read


class ImportRow(models.Model):
    """What happened to one row of an import: kept for failed rows and for undo."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=7)
    object_id = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    previous = models.JSONField(null=True, blank=True, help_text="field values before an update")

    class Meta:
        ordering = ["batch", "row_number"]
        indexes = [models.Index(fields=["batch", "outcome"])]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.outcome}"


class LeadQuerySet(VisibleQuerySet, TrashQuerySet):  # type: ignore[override]
    pass


def _index_when_set(field: str, name: str) -> models.Index:
    """An index of the rows that have a value in `field` (most leads leave it empty)."""
    return models.Index(
        fields=[field], name=name, condition=models.Q(**{f"{field}__isnull": False})
    )


class Lead(TrashableModel):
    """A person (and company) who may buy, before qualification; keeps where it came from."""

    # not indexed on its own: the live leads' covering index (Meta) starts with it, and with
    # both SQLite counted a year of leads through this one and a table lookup each (2.9 s
    # instead of 0.1 s for 340,000 leads)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True, help_text="stored lower-case")  # indexed in Meta
    phone = models.CharField(max_length=60, blank=True)
    phone_e164 = models.CharField(max_length=20, blank=True)  # indexed in Meta
    job_title = models.CharField(max_length=150, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    company_domain = models.CharField(max_length=200, blank=True)
    website = models.CharField(max_length=300, blank=True)
    company_size = models.CharField(max_length=30, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code")
    organization = models.ForeignKey(
        "people.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,  # partial index in Meta
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,  # (owner, status) in Meta serves owner lookups
    )
    status = models.CharField(max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    # Provenance (source, import_batch, created_by) has no database-level foreign key: on
    # PostgreSQL each one runs a `SELECT … FOR KEY SHARE` per inserted row, a third of a
    # million-row import's server time. Django still applies on_delete itself (the collector);
    # nothing deletes sources or import batches (retired / kept), users are deactivated, and
    # a bulk import locks the rows it points at once per chunk (imports.writes.lock_referenced).
    source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_constraint=False,
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_index=False,  # partial index in Meta
    )
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    marketing_consent = models.BooleanField(default=False)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_method = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    external_id = models.CharField(max_length=100, blank=True)  # partial index in Meta
    import_batch = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        db_constraint=False,  # see source
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,  # see source
    )
    # qualification: the weighted scorecard total (0–100), kept in step by the scorecard services
    score = models.PositiveSmallIntegerField(default=0)
    # the outcome (status qualified / nurturing / disqualified), set only by lead_qualify,
    # lead_nurture and lead_disqualify
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # partial index in Meta
    )
    outcome_note = models.TextField(blank=True)
    status_before_outcome = models.CharField(
        max_length=12, choices=LeadStatus.choices, blank=True, help_text="restored on reopen"
    )
    override_reason = models.TextField(
        blank=True, help_text="why a manager qualified it below the threshold"
    )
    disqualify_reason = models.ForeignKey(
        "DisqualifyReason",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,  # partial index in Meta
    )
    nurture_reason = models.CharField(max_length=300, blank=True)
    nurture_until = models.DateField(null=True, blank=True)  # partial index in Meta
    nurture_returned_at = models.DateTimeField(
        null=True, blank=True, help_text="when the last nurture period ended and it came back"
    )
    nurture_count = models.PositiveSmallIntegerField(default=0)
    # grows with every write, so an edit based on a stale copy is refused
    # (closeloop.core.versions)
    version = models.PositiveIntegerField(default=1)

    # TrashableModel's fields, indexed only where set (in Meta): few leads are in the trash, and
    # a full index would take an entry for every live lead too (the trash lists and purges
    # look up set values only)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    objects = AliveManager.from_queryset(LeadQuerySet)()
    with_trashed = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        base_manager_name = "with_trashed"
        # Every index costs each insert (a million-row import writes every one of them), so
        # columns that most leads leave empty get partial indexes: the rows that have a value
        # are still found, the empty ones cost nothing. company_domain has no index (nothing
        # looks leads up by it); owner lookups use (owner, status). email and phone_e164 are
        # only ever compared whole (exact duplicate checks, `in` lists): a plain index, without
        # the second LIKE-pattern index PostgreSQL gets for a `db_index=True` text column.
        indexes = [
            models.Index(fields=["email"], name="lead_email_idx"),
            models.Index(fields=["phone_e164"], name="lead_phone_e164_idx"),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["last_name"]),
            *(
                _index_when_set(field, name)
                for field, name in (
                    ("organization", "lead_organization_set_idx"),
                    ("campaign", "lead_campaign_set_idx"),
                    ("outcome_by", "lead_outcome_by_set_idx"),
                    ("disqualify_reason", "lead_disqualify_set_idx"),
                    ("nurture_until", "lead_nurture_until_set_idx"),
                    ("deleted_at", "lead_deleted_at_set_idx"),
                    ("deleted_by", "lead_deleted_by_set_idx"),
                )
            ),
            # the funnel counts the live leads created in a period (by owner, source, campaign
            # and how many qualified) from this index alone, without a table lookup per lead
            models.Index(
                fields=["created_at", "status", "owner", "source", "campaign", "id"],
                name="lead_created_cover_idx",
                condition=models.Q(deleted_at__isnull=True),
            ),
            # queries must say external_id > '' too (an empty id is no id), see imports
            models.Index(
                fields=["external_id"],
                name="lead_external_id_set_idx",
                condition=models.Q(external_id__gt=""),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.company_name or "(no name)"


class DuplicatePair(TimestampedModel):
    """Two records that look like the same person, with the evidence: lead–lead, lead–contact
    (lead set) or contact–contact (contact set)."""

    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    other_lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    other_contact = models.ForeignKey(
        "people.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    score = models.PositiveSmallIntegerField(help_text="similarity 0–100")
    evidence = models.CharField(max_length=300)
    state = models.CharField(
        max_length=9, choices=DuplicateState.choices, default=DuplicateState.OPEN
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "other_lead"],
                name="duplicate_pair_leads_unique",
                condition=models.Q(other_lead__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["lead", "other_contact"],
                name="duplicate_pair_lead_contact_unique",
                condition=models.Q(lead__isnull=False, other_contact__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["contact", "other_contact"],
                name="duplicate_pair_contacts_unique",
                condition=models.Q(contact__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        first = self.lead_id or self.contact_id
        return f"{first} ~ {self.other_lead_id or self.other_contact_id} ({self.score})"


class DuplicateScan(TimestampedModel):
    """One run of the full duplicate scan in the background: who asked, when, what it found."""

    state = models.CharField(
        max_length=7, choices=DuplicateScanState.choices, default=DuplicateScanState.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    leads_checked = models.PositiveIntegerField(default=0)
    contacts_checked = models.PositiveIntegerField(default=0)
    pairs_flagged = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"duplicate scan {self.pk} ({self.state})"


class WebForm(TimestampedModel):
    """A lead-capture form an admin designs and embeds on a website (public, keyed)."""

    name = models.CharField(max_length=120)
    key = models.CharField(max_length=40, unique=True, help_text="random public identifier")
    fields = models.JSONField(
        default=list, help_text='[{"name": "email", "label": "Email", "required": true}, …]'
    )
    consent_text = models.TextField(blank=True)
    thank_you_message = models.TextField(default="Thank you! We will be in touch soon.")
    redirect_url = models.URLField(blank=True)
    default_source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(default=True)
    submissions = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RateLimitHit(models.Model):
    """Requests counted per key and time window, shared by every server process."""

    key = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="ratelimit_key_window")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.count}"


class QualificationCriterion(TimestampedModel):
    """One scorecard item (the four of BANT, plus any an admin adds) and its weight in the score."""

    key = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=80)
    question = models.CharField(max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(default=25)
    position = models.PositiveIntegerField(default=0)
    is_builtin = models.BooleanField(default=False, help_text="BANT items cannot be deleted")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "qualification criteria"

    def __str__(self) -> str:
        return self.name


class ScorecardItem(TimestampedModel):
    """A lead's answer on one criterion: its status, a note, and the criterion's own details."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="scorecard")
    criterion = models.ForeignKey(
        QualificationCriterion, on_delete=models.CASCADE, related_name="answers"
    )
    status = models.CharField(
        max_length=7, choices=CriterionStatus.choices, default=CriterionStatus.UNKNOWN
    )
    note = models.TextField(blank=True)
    # Budget
    budget_min = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    budget_max = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    budget_currency = models.CharField(max_length=3, blank=True)
    # Authority
    decision_maker = models.CharField(max_length=200, blank=True, help_text="who decides")
    contact_is_decision_maker = models.BooleanField(null=True, blank=True)
    # Need (the problem in their words) and custom criteria use the note;
    # Timeline
    buy_by = models.DateField(null=True, blank=True, help_text="when they intend to buy")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "criterion"], name="scorecard_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.status}"


class DisqualifyReason(TimestampedModel):
    """Why a lead was discarded (a configurable list); retired reasons stay on old leads."""

    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class AssignmentRule(TimestampedModel):
    """Who gets a new unowned lead: the first active rule whose conditions match assigns it,
    to one user or round-robin within a team, skipping reps at their cap of open leads."""

    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 code")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    cap_per_rep = models.PositiveIntegerField(
        null=True, blank=True, help_text="most open leads a rep may hold; empty for no cap"
    )
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="round-robin position",
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name
