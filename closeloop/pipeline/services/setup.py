"""Pipelines, stages and lost reasons: the workspace's sales process, set up by admins/managers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from closeloop.accounts.choices import Role
from closeloop.core.exceptions import ConflictError, DomainError

from ..choices import DEFAULT_LOST_REASONS, DEFAULT_STAGES
from ..facts import (
    MAX_SLOT,
    deal_facts_forget,
    deal_facts_refresh,
    deals_with_stage,
    stage_slot_free,
)
from ..models import Deal, LostReason, Pipeline, Stage, StageChange


def _require_setup_role(actor: Any) -> None:
    if actor is None:
        return  # the system itself (migrations, demo data)
    if getattr(actor, "role", None) not in (Role.ADMIN, Role.MANAGER) or not actor.is_active:
        raise DomainError("Only admins and managers can change pipelines and stages.")


def _clean_stage_fields(
    *, name: str, probability: int, rot_days: int | None
) -> tuple[str, int, int | None]:
    name = (name or "").strip()
    if not name:
        raise DomainError("A stage needs a name.", field="name")
    if len(name) > 120:
        raise DomainError("A stage name can be at most 120 characters long.", field="name")
    if probability is None or not 0 <= int(probability) <= 100:
        raise DomainError("The win probability must be between 0 and 100 %.", field="probability")
    if rot_days is not None and int(rot_days) < 1:
        raise DomainError("Days to rot must be at least 1, or empty for never.", field="rot_days")
    return name, int(probability), rot_days


@transaction.atomic
def pipeline_create(*, actor: Any, name: str, with_default_stages: bool = True) -> Pipeline:
    """Add a pipeline (with the default stages to start from); the first one is the default."""
    _require_setup_role(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("A pipeline needs a name.", field="name")
    if Pipeline.objects.filter(name__iexact=name).exists():
        raise ConflictError(f"There is already a pipeline called “{name}”.", field="name")
    position = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    pipeline = Pipeline.objects.create(
        name=name, position=position, is_default=not Pipeline.objects.exists()
    )
    if with_default_stages:
        stages = [
            Stage.objects.create(
                pipeline=pipeline,
                name=stage_name,
                position=i,
                slot=i,
                probability=probability,
                rot_days=rot_days,
                is_optional=optional,
            )
            for i, (stage_name, probability, rot_days, optional) in enumerate(DEFAULT_STAGES)
        ]
        # the default stages after the demo are the proposal and the negotiation
        pipeline.proposal_stage, pipeline.negotiation_stage = stages[1], stages[2]
        pipeline.save(update_fields=["proposal_stage", "negotiation_stage"])
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: Any, pipeline: Pipeline, name: str, is_default: bool) -> Pipeline:
    """Rename a pipeline or make it the default (there is always exactly one default)."""
    _require_setup_role(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("A pipeline needs a name.", field="name")
    if Pipeline.objects.filter(name__iexact=name).exclude(pk=pipeline.pk).exists():
        raise ConflictError(f"There is already a pipeline called “{name}”.", field="name")
    if pipeline.is_default and not is_default:
        raise DomainError("Make another pipeline the default instead.", field="is_default")
    if is_default:
        Pipeline.objects.exclude(pk=pipeline.pk).update(is_default=False)
    pipeline.name = name
    pipeline.is_default = is_default
    pipeline.save(update_fields=["name", "is_default", "updated_at"])
    return pipeline


@transaction.atomic
def pipeline_automation_set(
    *,
    actor: Any,
    pipeline: Pipeline,
    win_on_acceptance: bool,
    proposal_stage: Stage | None,
    negotiation_stage: Stage | None,
) -> Pipeline:
    """What proposals do to this pipeline's deals: win on acceptance, and the stages sending
    the first and a later version moves them to (each a stage of this pipeline, or none)."""
    _require_setup_role(actor)
    for name, stage in (
        ("proposal_stage", proposal_stage),
        ("negotiation_stage", negotiation_stage),
    ):
        if stage is not None and stage.pipeline_id != pipeline.pk:
            raise DomainError(f"“{stage}” is not a stage of “{pipeline}”.", field=name)
    if (
        proposal_stage is not None
        and negotiation_stage is not None
        and negotiation_stage.position < proposal_stage.position
    ):
        raise DomainError(
            "The negotiation stage comes before the proposal stage; deals only move forward.",
            field="negotiation_stage",
        )
    pipeline.win_on_acceptance = win_on_acceptance
    pipeline.proposal_stage = proposal_stage
    pipeline.negotiation_stage = negotiation_stage
    pipeline.save(
        update_fields=["win_on_acceptance", "proposal_stage", "negotiation_stage", "updated_at"]
    )
    return pipeline


@transaction.atomic
def stage_create(
    *,
    actor: Any,
    pipeline: Pipeline,
    name: str,
    probability: int = 0,
    rot_days: int | None = None,
    is_optional: bool = False,
) -> Stage:
    """Add a stage at the end of a pipeline."""
    _require_setup_role(actor)
    name, probability, rot_days = _clean_stage_fields(
        name=name, probability=probability, rot_days=rot_days
    )
    if pipeline.stages.filter(name__iexact=name).exists():
        raise ConflictError(f"“{pipeline}” already has a stage called “{name}”.", field="name")
    position = (pipeline.stages.aggregate(m=Max("position"))["m"] or 0) + 1
    slot = stage_slot_free(pipeline.pk)
    if slot > MAX_SLOT:
        raise DomainError(f"A pipeline can have at most {MAX_SLOT + 1} stages.", field="name")
    return Stage.objects.create(
        pipeline=pipeline,
        name=name,
        position=position,
        slot=slot,
        probability=probability,
        rot_days=rot_days,
        is_optional=is_optional,
    )


@transaction.atomic
def stage_update(
    *,
    actor: Any,
    stage: Stage,
    name: str,
    probability: int,
    rot_days: int | None,
    is_optional: bool,
) -> Stage:
    """Rename a stage or change its probability, days to rot or optional flag."""
    _require_setup_role(actor)
    name, probability, rot_days = _clean_stage_fields(
        name=name, probability=probability, rot_days=rot_days
    )
    if (
        Stage.objects.filter(pipeline=stage.pipeline_id, name__iexact=name)
        .exclude(pk=stage.pk)
        .exists()
    ):
        raise ConflictError(
            f"“{stage.pipeline}” already has a stage called “{name}”.", field="name"
        )
    stage.name = name
    stage.probability = probability
    stage.rot_days = rot_days
    stage.is_optional = is_optional
    stage.save(update_fields=["name", "probability", "rot_days", "is_optional", "updated_at"])
    return stage


@transaction.atomic
def stage_reorder(*, actor: Any, pipeline: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Put a pipeline's stages in the given order; the list must name each stage once."""
    _require_setup_role(actor)
    stages = {s.pk: s for s in pipeline.stages.all()}
    if sorted(stage_ids) != sorted(stages):
        raise DomainError("The new order must list every stage of the pipeline exactly once.")
    for position, pk in enumerate(stage_ids):
        stages[pk].position = position
    Stage.objects.bulk_update(stages.values(), ["position"])
    return [stages[pk] for pk in stage_ids]


@transaction.atomic
def stage_delete(*, actor: Any, stage: Stage, move_to: Stage | None = None) -> int:
    """Delete a stage after moving its deals (open and closed, trashed too) to another stage.

    Each moved deal gets a StageChange, so its history stays complete. Returns how many moved.
    """
    _require_setup_role(actor)
    pipeline = stage.pipeline
    if pipeline.stages.count() <= 1:
        raise DomainError("A pipeline needs at least one stage.")
    deals = list(Deal.with_trashed.select_for_update().filter(stage=stage))
    if deals and move_to is None:
        raise DomainError(
            f"“{stage}” still holds {len(deals)} deal(s): choose a stage to move them to.",
            field="move_to",
        )
    if move_to is not None and (move_to.pk == stage.pk or move_to.pipeline_id != pipeline.pk):
        raise DomainError("Move the deals to another stage of the same pipeline.", field="move_to")
    # the deals that ever entered the stage lose it from their facts, as the history (whose
    # rows now point nowhere) says; the moved ones get their new stage
    touched = {d.pk for d in deals} | set(deals_with_stage(stage))
    now = timezone.now()
    if deals and move_to is not None:
        StageChange.objects.bulk_create(
            StageChange(
                deal=deal,
                from_stage=stage,
                to_stage=move_to,
                from_status=deal.status,
                to_status=deal.status,
                actor=actor,
                changed_at=now,
            )
            for deal in deals
        )
        for deal in deals:
            deal.stage = move_to
            deal.version += 1
        Deal.with_trashed.bulk_update(deals, ["stage", "version"])
    # the stage's deletion cascades to the facts and stays naming it: take them out of the
    # rollup cells first, and write them again from the history once it is gone
    deal_facts_forget(deal_ids=touched)
    stage.delete()
    deal_facts_refresh(deal_ids=touched)
    return len(deals)


@transaction.atomic
def lost_reason_create(*, actor: Any, name: str) -> LostReason:
    """Add a reason to the list offered when a deal is lost."""
    _require_setup_role(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("A reason needs a name.", field="name")
    if LostReason.objects.filter(name__iexact=name).exists():
        raise ConflictError(f"“{name}” is already in the list.", field="name")
    position = (LostReason.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    return LostReason.objects.create(name=name, position=position)


@transaction.atomic
def lost_reason_update(*, actor: Any, reason: LostReason, name: str, is_active: bool) -> LostReason:
    """Rename a reason or retire it (deals lost for it keep it)."""
    _require_setup_role(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("A reason needs a name.", field="name")
    if LostReason.objects.filter(name__iexact=name).exclude(pk=reason.pk).exists():
        raise ConflictError(f"“{name}” is already in the list.", field="name")
    reason.name = name
    reason.is_active = is_active
    reason.save(update_fields=["name", "is_active", "updated_at"])
    return reason


@transaction.atomic
def workspace_defaults_ensure() -> None:
    """Give an empty workspace the default pipeline, lost reasons and lead sources (as the
    migrations do)."""
    from closeloop.leads.choices import DEFAULT_SOURCES
    from closeloop.leads.models import Source

    if not Source.objects.exists():
        Source.objects.bulk_create(
            Source(name=name, position=position) for position, name in enumerate(DEFAULT_SOURCES)
        )
    if not Pipeline.objects.exists():
        pipeline_create(actor=None, name="Sales")
    if not LostReason.objects.exists():
        for name in DEFAULT_LOST_REASONS:
            lost_reason_create(actor=None, name=name)
    from closeloop.leads.qualification import qualification_defaults_ensure

    qualification_defaults_ensure()
