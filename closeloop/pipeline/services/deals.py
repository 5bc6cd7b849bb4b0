from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.models import User
from closeloop.accounts.visibility import lock_visible
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.services import activity_create
from closeloop.core.audit import (
    audit_changed,
    audit_created,
    audit_restored,
    audit_stored,
    audit_trashed,
)
from closeloop.core.exceptions import DomainError
from closeloop.core.money import CURRENCY_CODES, base_currency
from closeloop.core.versions import version_check
from closeloop.integrations.services import deal_event_emit
from closeloop.leads.models import Campaign, Source
from closeloop.people.models import Contact, Organization

from ..choices import DealStatus
from ..facts import deal_facts_refresh
from ..models import Deal, LostReason, Pipeline, Stage, StageChange

EDITABLE_FIELDS = (
    "title",
    "organization",
    "contact",
    "owner",
    "value",
    "currency",
    "expected_close_date",
    "source",
    "campaign",
)
MAX_VALUE = Decimal("999999999999.99")

# What else happens when a deal is won (follow-up plans start, a referrer is rewarded): other
# apps register a handler in their AppConfig.ready(); each runs inside the winning transaction,
# so a failure undoes the win and nothing half-happens.
DealWonHandler = Callable[..., object]
DEAL_WON_HANDLERS: dict[str, DealWonHandler] = {}


def deal_won_handler_register(name: str, handler: DealWonHandler) -> None:
    """Run `handler(actor=…, deal=…)` whenever a deal is won (registering a name again replaces)."""
    DEAL_WON_HANDLERS[name] = handler


def _lock(deal: Deal, *, actor: Any, expected_version: int | None) -> Deal:
    """Re-read the deal under a row lock, as the actor may see it, and check it is not stale.

    The lock (FOR UPDATE on PostgreSQL, the IMMEDIATE write lock on SQLite) makes the version
    check and the write one step, so two people moving the same card cannot both succeed.
    """
    current = lock_visible(Deal, deal.pk, actor)
    version_check(current, expected_version)
    return current


def _save(deal: Deal, fields: list[str], *, actor: Any) -> None:
    # Every deal write passes here, so the audit entry diffs the row as stored against the
    # instance about to be saved (one extra read, inside the same locked transaction).
    before = audit_stored(deal)
    deal.version += 1
    deal.save(update_fields=[*fields, "version", "updated_at"])
    audit_changed(actor=actor, obj=deal, before=before)


def _record(
    deal: Deal,
    *,
    actor: Any,
    from_stage: Stage | None,
    from_status: str,
    at: dt.datetime,
) -> StageChange:
    return StageChange.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=deal.stage,
        from_status=from_status,
        to_status=deal.status,
        actor=actor,
        changed_at=at,
    )


def _require_open(deal: Deal, action: str) -> None:
    if deal.status != DealStatus.OPEN:
        raise DomainError(
            f"“{deal.title}” is {deal.get_status_display().lower()}; reopen it before you {action}."
        )


def _clean_fields(changes: dict[str, Any]) -> dict[str, Any]:
    """Check the editable fields a caller wants to set; raise naming the first bad one."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    clean = dict(changes)
    if "title" in clean:
        title = (clean["title"] or "").strip()
        if not title:
            raise DomainError("A deal needs a title.", field="title")
        if len(title) > 200:
            raise DomainError("The title can be at most 200 characters long.", field="title")
        clean["title"] = title
    if "value" in clean:
        value = clean["value"] if clean["value"] is not None else Decimal("0")
        try:
            value = Decimal(value).quantize(Decimal("0.01"))
        except Exception as exc:
            raise DomainError(f"'{clean['value']}' is not an amount.", field="value") from exc
        if value < 0:
            raise DomainError("The value cannot be negative.", field="value")
        if value > MAX_VALUE:
            raise DomainError("The value is too large.", field="value")
        clean["value"] = value
    if "currency" in clean:
        currency = (clean["currency"] or "").strip().upper()
        if currency not in CURRENCY_CODES:
            raise DomainError(f"'{clean['currency']}' is not a known currency.", field="currency")
        clean["currency"] = currency
    if "owner" in clean:
        owner = clean["owner"]
        if not isinstance(owner, User) or not owner.is_active:
            raise DomainError("A deal needs an active user as its owner.", field="owner")
    if clean.get("organization") is not None and not isinstance(
        clean["organization"], Organization
    ):
        raise DomainError("Unknown organization.", field="organization")
    if clean.get("contact") is not None and not isinstance(clean["contact"], Contact):
        raise DomainError("Unknown contact.", field="contact")
    if clean.get("source") is not None and not isinstance(clean["source"], Source):
        raise DomainError("Unknown source.", field="source")
    if clean.get("campaign") is not None and not isinstance(clean["campaign"], Campaign):
        raise DomainError("Unknown campaign.", field="campaign")
    return clean


@transaction.atomic
def deal_create(
    *,
    actor: Any,
    title: str,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    owner: User | None = None,
    organization: Organization | None = None,
    contact: Contact | None = None,
    value: Decimal | int = Decimal("0"),
    currency: str | None = None,
    expected_close_date: dt.date | None = None,
    source: Source | None = None,
    campaign: Campaign | None = None,
) -> Deal:
    """Open a deal in a stage (the pipeline's first by default) and start its stage history."""
    if stage is None:
        pipeline = pipeline or Pipeline.objects.filter(is_default=True).first()
        if pipeline is None:
            raise DomainError("Create a pipeline first.", field="pipeline")
        stage = pipeline.stages.order_by("position", "pk").first()
        if stage is None:
            raise DomainError(f"The pipeline “{pipeline}” has no stages yet.", field="stage")
    elif pipeline is not None and stage.pipeline_id != pipeline.pk:
        raise DomainError(f"“{stage}” is not a stage of “{pipeline}”.", field="stage")
    owner = owner or acting_user(actor)
    if contact is not None and organization is None:
        organization = contact.organization
    fields = _clean_fields(
        {
            "title": title,
            "owner": owner,
            "organization": organization,
            "contact": contact,
            "value": value,
            "currency": currency or base_currency(),
            "expected_close_date": expected_close_date,
            "source": source,
            "campaign": campaign,
        }
    )
    deal = Deal.objects.create(pipeline_id=stage.pipeline_id, stage=stage, **fields)
    audit_created(actor=actor, obj=deal)
    _record(deal, actor=acting_user(actor), from_stage=None, from_status="", at=deal.created_at)
    deal_facts_refresh(deal_ids=[deal.pk])
    deal_event_emit("deal.created", deal)
    return deal


def _describe(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return str(value)


@transaction.atomic
def deal_update(
    *, actor: Any, deal: Deal, changes: dict[str, Any], expected_version: int | None = None
) -> Deal:
    """Change a deal's fields, refusing a stale edit; the timeline says what changed."""
    deal = _lock(deal, actor=actor, expected_version=expected_version)
    clean = _clean_fields(changes)
    changed: list[str] = []
    lines: list[str] = []
    for name, new in clean.items():
        old = getattr(deal, name)
        if old != new:
            label = str(getattr(Deal._meta.get_field(name), "verbose_name", name)).capitalize()
            lines.append(f"{label}: {_describe(old)} → {_describe(new)}")
            setattr(deal, name, new)
            changed.append(name)
    if not changed:
        return deal
    _save(deal, changed, actor=actor)
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject="Deal updated",
        body="\n".join(lines),
        actor=acting_user(actor),
        deal=deal,
    )
    deal_facts_refresh(deal_ids=[deal.pk])
    return deal


@transaction.atomic
def deal_move_to_stage(
    *, actor: Any, deal: Deal, stage: Stage, expected_version: int | None = None
) -> Deal:
    """Move an open deal to another stage (possibly of another pipeline) and record the step."""
    deal = _lock(deal, actor=actor, expected_version=expected_version)
    _require_open(deal, "move it")
    if stage.pk == deal.stage_id:
        raise DomainError(f"“{deal.title}” is already in {stage.name}.", field="stage")
    from_stage = deal.stage
    deal.stage = stage
    deal.pipeline_id = stage.pipeline_id
    _save(deal, ["stage", "pipeline"], actor=actor)
    _record(
        deal,
        actor=acting_user(actor),
        from_stage=from_stage,
        from_status=deal.status,
        at=timezone.now(),
    )
    deal_facts_refresh(deal_ids=[deal.pk])
    deal_event_emit(
        "deal.stage_changed", deal, from_stage={"id": from_stage.pk, "name": from_stage.name}
    )
    return deal


@transaction.atomic
def deal_mark_won(*, actor: Any, deal: Deal, expected_version: int | None = None) -> Deal:
    """Close an open deal as won; it keeps the stage it was won in."""
    deal = _lock(deal, actor=actor, expected_version=expected_version)
    _require_open(deal, "mark it won")
    now = timezone.now()
    deal.status = DealStatus.WON
    deal.won_at = now
    _save(deal, ["status", "won_at"], actor=actor)
    _record(
        deal, actor=acting_user(actor), from_stage=deal.stage, from_status=DealStatus.OPEN, at=now
    )
    deal_facts_refresh(deal_ids=[deal.pk])
    for handler in DEAL_WON_HANDLERS.values():
        handler(actor=actor, deal=deal)
    deal_event_emit("deal.won", deal)
    return deal


@transaction.atomic
def deal_mark_lost(
    *,
    actor: Any,
    deal: Deal,
    reason: LostReason | None,
    competitor: str = "",
    note: str = "",
    expected_version: int | None = None,
) -> Deal:
    """Close an open deal as lost; a reason from the list is required, the stage is kept."""
    deal = _lock(deal, actor=actor, expected_version=expected_version)
    _require_open(deal, "mark it lost")
    if reason is None:
        raise DomainError("Say why the deal was lost: pick a reason.", field="reason")
    if not reason.is_active:
        raise DomainError(f"“{reason}” is no longer offered as a reason.", field="reason")
    if len(competitor) > 200:
        raise DomainError("The competitor can be at most 200 characters long.", field="competitor")
    now = timezone.now()
    deal.status = DealStatus.LOST
    deal.lost_at = now
    deal.lost_reason = reason
    deal.competitor = competitor.strip()
    deal.lost_note = note.strip()
    _save(deal, ["status", "lost_at", "lost_reason", "competitor", "lost_note"], actor=actor)
    _record(
        deal, actor=acting_user(actor), from_stage=deal.stage, from_status=DealStatus.OPEN, at=now
    )
    deal_facts_refresh(deal_ids=[deal.pk])
    deal_event_emit("deal.lost", deal, lost_note=deal.lost_note)
    return deal


@transaction.atomic
def deal_reopen(*, actor: Any, deal: Deal, expected_version: int | None = None) -> Deal:
    """Reopen a won or lost deal in the stage it closed in; the won/lost details are cleared."""
    deal = _lock(deal, actor=actor, expected_version=expected_version)
    if deal.status == DealStatus.OPEN:
        raise DomainError(f"“{deal.title}” is already open.")
    previous = deal.status
    deal.status = DealStatus.OPEN
    deal.won_at = None
    deal.lost_at = None
    deal.lost_reason = None
    deal.competitor = ""
    deal.lost_note = ""
    _save(
        deal, ["status", "won_at", "lost_at", "lost_reason", "competitor", "lost_note"], actor=actor
    )
    _record(
        deal,
        actor=acting_user(actor),
        from_stage=deal.stage,
        from_status=previous,
        at=timezone.now(),
    )
    deal_facts_refresh(deal_ids=[deal.pk])
    deal_event_emit("deal.reopened", deal, previous_status=previous)
    return deal


@transaction.atomic
def deal_note_add(*, actor: Any, deal: Deal, body: str) -> Activity:
    """Add a note to a deal's timeline (and its contact's and organization's)."""
    deal = _lock(deal, actor=actor, expected_version=None)
    return activity_create(actor=actor, body=body, deal=deal)


@transaction.atomic
def deal_trash(*, actor: Any, deal: Deal) -> Deal:
    """Put a deal in the trash; it leaves every list and board until restored."""
    deal = _lock(deal, actor=actor, expected_version=None)
    deal.deleted_at = timezone.now()
    deal.deleted_by = acting_user(actor)
    _save(deal, ["deleted_at", "deleted_by"], actor=actor)
    audit_trashed(actor=actor, obj=deal)
    deal_facts_refresh(deal_ids=[deal.pk])
    return deal


@transaction.atomic
def deal_restore(*, actor: Any, deal: Deal) -> Deal:
    """Take a deal out of the trash, exactly as it was."""
    qs = Deal.with_trashed.select_for_update().filter(pk=deal.pk, deleted_at__isnull=False)
    current = qs.visible_to(actor).first() if actor is not None else qs.first()
    if current is None:
        raise DomainError("This deal is not in the trash.")
    current.deleted_at = None
    current.deleted_by = None
    _save(current, ["deleted_at", "deleted_by"], actor=actor)
    audit_restored(actor=actor, obj=current)
    deal_facts_refresh(deal_ids=[current.pk])
    return current
