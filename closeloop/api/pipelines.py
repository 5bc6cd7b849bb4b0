"""Pipelines and their stages over the API, with the settings pages' services and rules.

Every token reads them (creating or moving a deal names a stage). Changing them is for admins
and managers, as on the settings pages; anyone else gets 403. A name already taken (any case)
answers 409; a stage that still holds deals is deleted only with `move_to_id`, where its deals
(open and closed, trashed too) go, each with a stage change in its history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from closeloop.accounts.actors import require_admin_or_manager
from closeloop.pipeline.models import Pipeline, Stage
from closeloop.pipeline.selectors import pipeline_list, pipeline_list_with_stages
from closeloop.pipeline.services import (
    pipeline_automation_set,
    pipeline_create,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_reorder,
    stage_update,
)

from .errors import ERRORS, WRITE_ERRORS, field_error, fields_renamed, not_found
from .ids import PathId, RecordId
from .lists import ListQuery, Page, page_of
from .roles import role_required

router = Router(tags=["pipelines"])

PIPELINE_ORDERINGS = ("position", "name", "created_at", "updated_at")
REFUSAL = "Only admins and managers can change pipelines and stages."


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    position: int = Field(..., description="the order in the pipeline, smallest first")
    probability: int = Field(..., description="win probability in percent")
    rot_days: int | None = Field(..., description="idle days before a deal rots; null: never")
    is_optional: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    is_default: bool
    win_on_acceptance: bool = Field(..., description="an accepted proposal wins the deal")
    proposal_stage_id: int | None = Field(..., description="sending a proposal moves deals here")
    negotiation_stage_id: int | None = Field(..., description="a later version moves them here")
    stages: list[StageOut] = Field(..., description="in order")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[Stage]:
        return list(obj.stages.all())


class PipelineIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    with_default_stages: bool = Field(True, description="start with the default stages")


class PipelinePatch(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, min_length=1, max_length=120)
    is_default: bool | None = Field(None, description="true makes it the default pipeline")
    win_on_acceptance: bool | None = None
    proposal_stage_id: RecordId | None = Field(None, description="one of its stages; null: none")
    negotiation_stage_id: RecordId | None = Field(None, description="one of its stages; null: none")


class StageIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    probability: int = Field(0, ge=0, le=100, description="win probability in percent")
    rot_days: int | None = Field(None, ge=1, le=36_500, description="null: never rots")
    is_optional: bool = False
    position: int | None = Field(
        None, ge=0, le=1000, description="its place, 0 first; default: last"
    )


class StagePatch(Schema):
    """Only the fields sent change; `position` moves the stage (0 is first)."""

    name: str | None = Field(None, min_length=1, max_length=120)
    probability: int | None = Field(None, ge=0, le=100)
    rot_days: int | None = Field(None, ge=1, le=36_500, description="null: never rots")
    is_optional: bool | None = None
    position: int | None = Field(None, ge=0, le=1000)


class StageDeleteQuery(Schema):
    move_to_id: RecordId | None = Field(
        None, description="another stage of the pipeline, for the deals the stage holds"
    )


class StageDeleted(Schema):
    moved_deals: int = Field(..., description="how many deals moved to `move_to_id`")


def _pipeline(pipeline_id: int) -> Pipeline:
    pipeline = pipeline_list_with_stages().filter(pk=pipeline_id).first()
    if pipeline is None:
        raise not_found("pipeline")
    return pipeline


def _stage(pipeline: Pipeline, stage_id: int, field: str | None = None) -> Stage:
    stage = next((s for s in pipeline.stages.all() if s.pk == stage_id), None)
    if stage is None:
        if field:
            raise field_error(field, f"Stage {stage_id} is not a stage of “{pipeline}”.")
        raise not_found("stage")
    return stage


def _sent_or(sent: dict[str, Any], name: str, current: Any) -> Any:
    """The value sent for a field that cannot be emptied; `null` or nothing keeps `current`."""
    return current if sent.get(name) is None else sent[name]


def _place(actor: Any, pipeline: Pipeline, stage_id: int, position: int) -> None:
    """Move one stage to `position` (0 first; past the end means last), keeping the others'
    order."""
    fresh = pipeline_list().get(pk=pipeline.pk)  # not the prefetched stages: one may be new
    ids = [s.pk for s in fresh.stages.order_by("position", "pk")]
    ids.remove(stage_id)
    ids.insert(min(position, len(ids)), stage_id)
    stage_reorder(actor=actor, pipeline=fresh, stage_ids=ids)


@router.get("", response={200: Page[PipelineOut], **ERRORS}, summary="List pipelines")
def list_pipelines(request: HttpRequest, query: Query[ListQuery]) -> Any:
    """Every pipeline with its stages in order; by position unless `ordering` says otherwise."""
    return page_of(
        pipeline_list_with_stages(), query, orderings=PIPELINE_ORDERINGS, default="position"
    )


@router.post("", response={201: PipelineOut, **WRITE_ERRORS}, summary="Add a pipeline")
def create_pipeline(request: HttpRequest, payload: PipelineIn) -> Status[Any]:
    """Add a pipeline at the end, with the default stages unless `with_default_stages` is false
    (then add stages before deals can enter it). The first pipeline becomes the default."""
    role_required(require_admin_or_manager, request.user, REFUSAL)
    pipeline = pipeline_create(
        actor=request.user, name=payload.name, with_default_stages=payload.with_default_stages
    )
    return Status(201, _pipeline(pipeline.pk))


@router.get("/{pipeline_id}", response={200: PipelineOut, **ERRORS}, summary="Read a pipeline")
def read_pipeline(request: HttpRequest, pipeline_id: PathId) -> Pipeline:
    """One pipeline with its stages in order."""
    return _pipeline(pipeline_id)


@router.patch(
    "/{pipeline_id}", response={200: PipelineOut, **WRITE_ERRORS}, summary="Change a pipeline"
)
def update_pipeline(request: HttpRequest, pipeline_id: PathId, payload: PipelinePatch) -> Any:
    """Rename it, make it the default (`is_default: true`; the old default stops being one), or
    set its proposal automation. All or nothing: a refused field changes none."""
    role_required(require_admin_or_manager, request.user, REFUSAL)
    pipeline = _pipeline(pipeline_id)
    sent = payload.dict(exclude_unset=True)
    with transaction.atomic():
        if {"name", "is_default"} & set(sent):
            pipeline_update(
                actor=request.user,
                pipeline=pipeline,
                name=sent.get("name") or pipeline.name,
                is_default=_sent_or(sent, "is_default", pipeline.is_default),
            )
        if {"win_on_acceptance", "proposal_stage_id", "negotiation_stage_id"} & set(sent):
            stages = {}
            for name in ("proposal_stage_id", "negotiation_stage_id"):
                pk = sent.get(name, getattr(pipeline, name))
                stages[name] = None if pk is None else _stage(pipeline, pk, name)
            with fields_renamed(
                {"proposal_stage": "proposal_stage_id", "negotiation_stage": "negotiation_stage_id"}
            ):
                pipeline_automation_set(
                    actor=request.user,
                    pipeline=pipeline,
                    win_on_acceptance=_sent_or(
                        sent, "win_on_acceptance", pipeline.win_on_acceptance
                    ),
                    proposal_stage=stages["proposal_stage_id"],
                    negotiation_stage=stages["negotiation_stage_id"],
                )
    return _pipeline(pipeline_id)


# Stages ------------------------------------------------------------------------------------


@router.get(
    "/{pipeline_id}/stages", response={200: list[StageOut], **ERRORS}, summary="List stages"
)
def list_stages(request: HttpRequest, pipeline_id: PathId) -> list[Stage]:
    """A pipeline's stages in order (all of them: a pipeline has at most 63)."""
    return list(_pipeline(pipeline_id).stages.all())


@router.post(
    "/{pipeline_id}/stages", response={201: StageOut, **WRITE_ERRORS}, summary="Add a stage"
)
def create_stage(request: HttpRequest, pipeline_id: PathId, payload: StageIn) -> Status[Any]:
    """Add a stage at the end of the pipeline, or at `position`."""
    role_required(require_admin_or_manager, request.user, REFUSAL)
    pipeline = _pipeline(pipeline_id)
    with transaction.atomic():
        stage = stage_create(
            actor=request.user,
            pipeline=pipeline,
            name=payload.name,
            probability=payload.probability,
            rot_days=payload.rot_days,
            is_optional=payload.is_optional,
        )
        if payload.position is not None:
            _place(request.user, pipeline, stage.pk, payload.position)
    return Status(201, Stage.objects.get(pk=stage.pk))


@router.get(
    "/{pipeline_id}/stages/{stage_id}", response={200: StageOut, **ERRORS}, summary="Read a stage"
)
def read_stage(request: HttpRequest, pipeline_id: PathId, stage_id: PathId) -> Stage:
    """One stage of the pipeline."""
    return _stage(_pipeline(pipeline_id), stage_id)


@router.patch(
    "/{pipeline_id}/stages/{stage_id}",
    response={200: StageOut, **WRITE_ERRORS},
    summary="Change a stage",
)
def update_stage(
    request: HttpRequest, pipeline_id: PathId, stage_id: PathId, payload: StagePatch
) -> Stage:
    """Rename a stage, change its win probability, days to rot (`null`: never) or optional
    flag, or move it to `position` (0 first; the other stages keep their order)."""
    role_required(require_admin_or_manager, request.user, REFUSAL)
    pipeline = _pipeline(pipeline_id)
    stage = _stage(pipeline, stage_id)
    sent = payload.dict(exclude_unset=True)
    with transaction.atomic():
        if {"name", "probability", "rot_days", "is_optional"} & set(sent):
            stage_update(
                actor=request.user,
                stage=stage,
                name=sent.get("name") or stage.name,
                probability=_sent_or(sent, "probability", stage.probability),
                rot_days=sent.get("rot_days", stage.rot_days),
                is_optional=_sent_or(sent, "is_optional", stage.is_optional),
            )
        if sent.get("position") is not None:
            _place(request.user, pipeline, stage.pk, sent["position"])
    return Stage.objects.get(pk=stage.pk)


@router.delete(
    "/{pipeline_id}/stages/{stage_id}",
    response={200: StageDeleted, **WRITE_ERRORS},
    summary="Delete a stage",
)
def delete_stage(
    request: HttpRequest,
    pipeline_id: PathId,
    stage_id: PathId,
    query: Query[StageDeleteQuery],
) -> dict[str, int]:
    """Delete a stage. One that holds deals (open, won, lost or trashed) needs `move_to_id`,
    another stage of the same pipeline: its deals move there, each with a stage change in its
    history. Without it the answer is 400 naming `move_to_id`; the last stage is never deleted."""
    role_required(require_admin_or_manager, request.user, REFUSAL)
    pipeline = _pipeline(pipeline_id)
    stage = _stage(pipeline, stage_id)
    move_to = None
    if query.move_to_id is not None:
        move_to = _stage(pipeline, query.move_to_id, "move_to_id")
    with fields_renamed({"move_to": "move_to_id"}):
        moved = stage_delete(actor=request.user, stage=stage, move_to=move_to)
    return {"moved_deals": moved}
