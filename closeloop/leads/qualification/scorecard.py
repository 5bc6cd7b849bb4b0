"""The BANT scorecard: answers per lead, the weighted score, and the workspace's criteria."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils.text import slugify

from closeloop.accounts.actors import acting_user, require_admin
from closeloop.accounts.models import WorkspaceSettings
from closeloop.accounts.selectors import workspace_settings
from closeloop.accounts.visibility import lock_visible
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.core.audit import audit_changed, audit_snapshot
from closeloop.core.exceptions import ConflictError, DomainError
from closeloop.core.versions import version_check_fields

from ..choices import (
    BANT_CRITERIA,
    CRITERION_POINTS,
    DEFAULT_DISQUALIFY_REASONS,
    OPEN_LEAD_STATUSES,
    CriterionStatus,
    LeadStatus,
)
from ..models import DisqualifyReason, Lead, QualificationCriterion, ScorecardItem

MAX_NOTE = 10_000


def lock_lead(lead: Lead | int, actor: Any) -> Lead:
    """The lead row locked for this transaction, if `actor` may see it (None: the system)."""
    return lock_visible(Lead, lead if isinstance(lead, int) else lead.pk, actor)


def active_criteria() -> list[QualificationCriterion]:
    return list(QualificationCriterion.objects.filter(is_active=True))


def score_from(statuses: dict[int, str], criteria: list[QualificationCriterion]) -> int:
    """round(100 × Σ weight × points / Σ active weights), halves rounded up; 0 without weights."""
    total = sum(c.weight for c in criteria)
    if total == 0:
        return 0
    earned = sum(
        Fraction(c.weight)
        * Fraction(CRITERION_POINTS[CriterionStatus(statuses.get(c.pk, "unknown"))])
        for c in criteria
    )
    exact = earned * 100 / total
    return int(exact + Fraction(1, 2))


def lead_score_compute(lead: Lead, criteria: list[QualificationCriterion] | None = None) -> int:
    """A lead's score from its saved answers and the active criteria."""
    criteria = active_criteria() if criteria is None else criteria
    statuses = dict(lead.scorecard.values_list("criterion_id", "status"))
    return score_from(statuses, criteria)


@dataclass(frozen=True)
class Gap:
    """A criterion a lead does not fully meet yet, and what is known about it."""

    criterion: QualificationCriterion
    status: str

    @property
    def label(self) -> str:
        return f"{self.criterion.name} ({CriterionStatus(self.status).label.lower()})"


def lead_score_gaps(lead: Lead) -> list[Gap]:
    """The active criteria whose answer is not yes (unknown, no or partly), in order."""
    statuses = dict(lead.scorecard.values_list("criterion_id", "status"))
    return [
        Gap(c, statuses.get(c.pk, CriterionStatus.UNKNOWN))
        for c in active_criteria()
        if statuses.get(c.pk) != CriterionStatus.YES
    ]


def leads_gaps(lead_ids: list[int]) -> dict[int, list[str]]:
    """Names of the missing criteria of many leads in one query (for the inbox)."""
    criteria = active_criteria()
    yes: dict[int, set[int]] = defaultdict(set)
    for lead_id, criterion_id in ScorecardItem.objects.filter(
        lead_id__in=lead_ids, status=CriterionStatus.YES
    ).values_list("lead_id", "criterion_id"):
        yes[lead_id].add(criterion_id)
    return {pk: [c.name for c in criteria if c.pk not in yes[pk]] for pk in lead_ids}


def scores_recompute(*, lead_ids: list[int] | None = None) -> int:
    """Recompute the stored score of open (or the given) leads; one read, one update per score."""
    criteria = active_criteria()
    leads = Lead.with_trashed.all()
    leads = (
        leads.filter(pk__in=lead_ids)
        if lead_ids is not None
        else leads.filter(status__in=OPEN_LEAD_STATUSES)
    )
    statuses: dict[int, dict[int, str]] = defaultdict(dict)
    for lead_id, criterion_id, status in ScorecardItem.objects.filter(
        lead__in=leads.values("pk")
    ).values_list("lead_id", "criterion_id", "status"):
        statuses[lead_id][criterion_id] = status
    current = dict(leads.values_list("pk", "score"))
    by_score: dict[int, list[int]] = defaultdict(list)
    for pk, old in current.items():
        new = score_from(statuses.get(pk, {}), criteria)
        if new != old:
            by_score[new].append(pk)
    for score, pks in by_score.items():
        Lead.with_trashed.filter(pk__in=pks).update(score=score, version=F("version") + 1)
    return sum(len(p) for p in by_score.values())


def _clean_money(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError as exc:
        raise DomainError("Enter the budget as a number.", field=field) from exc
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise DomainError("The budget must be a positive amount.", field=field)
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def scorecard_update(
    *,
    actor: Any,
    lead: Lead,
    criterion: QualificationCriterion,
    status: str,
    note: str = "",
    budget_min: Decimal | None = None,
    budget_max: Decimal | None = None,
    budget_currency: str = "",
    decision_maker: str = "",
    contact_is_decision_maker: bool | None = None,
    buy_by: dt.date | None = None,
    expected_version: int | None = None,
) -> ScorecardItem:
    """Answer one criterion of a lead's scorecard and keep the lead's score in step. With the
    lead's version the answer was based on, it is refused when someone changed this same answer
    since (changes to the lead's other fields or answers do not stand in the way)."""
    current = lock_lead(lead, actor)
    version_check_fields(current, expected_version, {scorecard_audit_name(criterion)})
    if current.status == LeadStatus.QUALIFIED:
        raise DomainError("This lead is already a deal: its scorecard is closed.")
    if not criterion.is_active:
        raise DomainError(f"“{criterion.name}” is no longer on the scorecard.", field="criterion")
    if status not in CriterionStatus.values:
        raise DomainError("Choose unknown, no, partly or yes.", field="status")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise DomainError(f"A note can be at most {MAX_NOTE:,} characters long.", field="note")
    low, high = _clean_money(budget_min, "budget_min"), _clean_money(budget_max, "budget_max")
    if low is not None and high is not None and high < low:
        raise DomainError("The budget's upper end is below its lower end.", field="budget_max")
    currency = (budget_currency or "").strip().upper()
    if currency and (len(currency) != 3 or not currency.isalpha()):
        raise DomainError("A currency is a three-letter code such as EUR.", field="budget_currency")
    decision_maker = (decision_maker or "").strip()
    if len(decision_maker) > 200:
        raise DomainError("Who decides can be at most 200 characters.", field="decision_maker")
    item, _ = ScorecardItem.objects.get_or_create(lead=current, criterion=criterion)
    values = {
        "status": status,
        "note": note,
        "budget_min": low,
        "budget_max": high,
        "budget_currency": currency,
        "decision_maker": decision_maker,
        "contact_is_decision_maker": contact_is_decision_maker,
        "buy_by": buy_by,
    }
    changed = [k for k, v in values.items() if getattr(item, k) != v]
    if not changed:
        return item
    old_status = item.status
    old_text = scorecard_item_text(item)
    for name, value in values.items():
        setattr(item, name, value)
    item.updated_by = acting_user(actor)
    item.save()
    before = audit_snapshot(current)
    old_score = current.score
    current.score = lead_score_compute(current)
    current.version += 1
    current.save(update_fields=["score", "version", "updated_at"])
    audit_changed(
        actor=actor,
        obj=current,
        before=before,
        extra={scorecard_audit_name(criterion): [old_text, scorecard_item_text(item)]},
    )
    lead.score = current.score
    lead.version = current.version
    what = (
        f"{criterion.name}: {CriterionStatus(old_status).label} → {CriterionStatus(status).label}"
        if old_status != status
        else f"{criterion.name}: details updated"
    )
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject="Scorecard updated",
        body=f"{what}. Score {old_score} → {current.score}.",
        actor=acting_user(actor),
        lead=current,
    )
    return item


def _item_details(item: ScorecardItem) -> list[str]:
    details = []
    if item.budget_min is not None or item.budget_max is not None:
        span = " – ".join(str(v) for v in (item.budget_min, item.budget_max) if v is not None)
        details.append(f"{span} {item.budget_currency}".strip())
    if item.decision_maker:
        details.append(f"decides: {item.decision_maker}")
    if item.contact_is_decision_maker is not None:
        details.append(
            "our contact decides"
            if item.contact_is_decision_maker
            else "our contact does not decide"
        )
    if item.buy_by:
        details.append(f"buys by {item.buy_by.isoformat()}")
    if item.note:
        details.append(item.note)
    return details


def scorecard_item_text(item: ScorecardItem) -> str:
    """One answer in words: its status and details (the audit log's value for it)."""
    details = _item_details(item)
    status = CriterionStatus(item.status).label
    return status + (f" — {'; '.join(details)}" if details else "")


def scorecard_audit_name(criterion: QualificationCriterion) -> str:
    """The name a criterion's answer goes by in the lead's history."""
    return f"scorecard: {criterion.name}"


def scorecard_summary(lead: Lead) -> str:
    """The scorecard as plain text lines (for the deal's note and notifications)."""
    items = {i.criterion_id: i for i in lead.scorecard.all()}
    lines = [f"Score {lead.score} / 100"]
    for c in active_criteria():
        item = items.get(c.pk)
        status = CriterionStatus(item.status if item else CriterionStatus.UNKNOWN).label
        details = _item_details(item) if item is not None else []
        lines.append(f"- {c.name}: {status}" + (f" — {'; '.join(details)}" if details else ""))
    return "\n".join(lines)


# The workspace's criteria, weights, threshold and disqualify reasons ---------------------------


def _clean_weight(weight: Any, field: str = "weight") -> int:
    try:
        value = int(weight)
    except (TypeError, ValueError) as exc:
        raise DomainError("A weight is a whole number from 0 to 100.", field=field) from exc
    if not 0 <= value <= 100:
        raise DomainError("A weight is a whole number from 0 to 100.", field=field)
    return value


def _clean_name(name: str, *, model: Any, exclude_pk: int | None = None, limit: int) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("It needs a name.", field="name")
    if len(name) > limit:
        raise DomainError(f"A name can be at most {limit} characters long.", field="name")
    same = model.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    if same.exists():
        raise ConflictError(f"“{name}” is already in the list.", field="name")
    return name


@transaction.atomic
def criterion_create(
    *, actor: Any, name: str, question: str = "", weight: int = 10
) -> QualificationCriterion:
    """Add a criterion beyond BANT to every lead's scorecard (admins); scores are recomputed."""
    require_admin(actor, "Only admins can change the scorecard.")
    name = _clean_name(name, model=QualificationCriterion, limit=80)
    base = slugify(name)[:30] or "criterion"
    key, n = base, 1
    while QualificationCriterion.objects.filter(key=key).exists():
        n += 1
        key = f"{base}-{n}"
    position = (QualificationCriterion.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    criterion = QualificationCriterion.objects.create(
        key=key,
        name=name,
        question=(question or "").strip()[:300],
        weight=_clean_weight(weight),
        position=position,
    )
    scores_recompute()
    return criterion


@transaction.atomic
def criterion_update(
    *,
    actor: Any,
    criterion: QualificationCriterion,
    name: str,
    question: str,
    weight: int,
    is_active: bool,
) -> QualificationCriterion:
    """Rename, reweigh or (de)activate a criterion (admins); open leads' scores follow."""
    require_admin(actor, "Only admins can change the scorecard.")
    criterion.name = _clean_name(
        name, model=QualificationCriterion, exclude_pk=criterion.pk, limit=80
    )
    criterion.question = (question or "").strip()[:300]
    reweigh = criterion.weight != _clean_weight(weight) or criterion.is_active != is_active
    criterion.weight = _clean_weight(weight)
    criterion.is_active = is_active
    criterion.save()
    _require_some_weight()
    if reweigh:
        scores_recompute()
    return criterion


@transaction.atomic
def criterion_delete(*, actor: Any, criterion: QualificationCriterion) -> None:
    """Delete a custom criterion and its answers (admins); the BANT four are only deactivated."""
    require_admin(actor, "Only admins can change the scorecard.")
    if criterion.is_builtin:
        raise DomainError(f"“{criterion.name}” is built in: deactivate it instead.")
    criterion.delete()
    scores_recompute()


def _require_some_weight() -> None:
    if not QualificationCriterion.objects.filter(is_active=True, weight__gt=0).exists():
        raise DomainError("At least one active criterion needs a weight above 0.", field="weight")


@transaction.atomic
def qualification_settings_update(
    *, actor: Any, weights: dict[int, int], threshold: int
) -> WorkspaceSettings:
    """Set the criteria weights and the qualifying threshold (admins); open leads' scores follow."""
    require_admin(actor, "Only admins can change the scorecard.")
    threshold = _clean_weight(threshold, "threshold")
    criteria = {c.pk: c for c in QualificationCriterion.objects.select_for_update()}
    changed = []
    for pk, weight in weights.items():
        criterion = criteria.get(pk)
        if criterion is None:
            raise DomainError("That criterion no longer exists.", field="weight")
        value = _clean_weight(weight, f"weight_{pk}")
        if criterion.weight != value:
            criterion.weight = value
            changed.append(criterion)
    QualificationCriterion.objects.bulk_update(changed, ["weight"])
    _require_some_weight()
    ws = workspace_settings()
    ws.qualify_threshold = threshold
    ws.save()
    if changed:
        scores_recompute()
    return ws


@transaction.atomic
def disqualify_reason_create(*, actor: Any, name: str) -> DisqualifyReason:
    """Add a reason to the list offered when a lead is discarded (admins)."""
    require_admin(actor, "Only admins can change the discard reasons.")
    name = _clean_name(name, model=DisqualifyReason, limit=120)
    position = (DisqualifyReason.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    return DisqualifyReason.objects.create(name=name, position=position)


@transaction.atomic
def disqualify_reason_update(
    *, actor: Any, reason: DisqualifyReason, name: str, is_active: bool
) -> DisqualifyReason:
    """Rename a discard reason or retire it (leads discarded for it keep it)."""
    require_admin(actor, "Only admins can change the discard reasons.")
    reason.name = _clean_name(name, model=DisqualifyReason, exclude_pk=reason.pk, limit=120)
    reason.is_active = is_active
    reason.save(update_fields=["name", "is_active", "updated_at"])
    return reason


def qualification_defaults_ensure() -> None:
    """The BANT criteria and default discard reasons exist (as the migration makes them)."""
    if not QualificationCriterion.objects.exists():
        for position, (key, name, question) in enumerate(BANT_CRITERIA):
            QualificationCriterion.objects.create(
                key=key, name=name, question=question, weight=25, position=position, is_builtin=True
            )
    if not DisqualifyReason.objects.exists():
        for position, name in enumerate(DEFAULT_DISQUALIFY_REASONS):
            DisqualifyReason.objects.create(name=name, position=position)


@dataclass(frozen=True)
class ScorecardRow:
    """One active criterion on a lead's page, with its saved answer if there is one."""

    criterion: QualificationCriterion
    item: ScorecardItem | None

    @property
    def status(self) -> str:
        return self.item.status if self.item else CriterionStatus.UNKNOWN


def lead_scorecard(lead: Lead) -> list[ScorecardRow]:
    """The lead's answers on every active criterion, in the workspace's order (2 queries)."""
    items = {i.criterion_id: i for i in lead.scorecard.all()}
    return [ScorecardRow(c, items.get(c.pk)) for c in active_criteria()]
