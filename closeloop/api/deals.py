"""Deals over the API: list, create, read, change, trash, and the moves of the board.

Every write goes through the pipeline services, so each move, win, loss and reopening lands in
the stage history, the report facts, the timeline and the webhooks exactly as from the board.
Each deal carries a `version` that grows with every write; a write that sends
`expected_version` and finds another answers 409 (someone changed the deal meanwhile).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from closeloop.leads.models import Campaign, Source
from closeloop.people.models import full_name_of
from closeloop.people.selectors import contact_queryset, organization_queryset
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal, Stage, weighted_value_of
from closeloop.pipeline.selectors import (
    DealFilters,
    deal_get,
    deal_rows_names,
    deal_search,
    lost_reason_list,
    pipeline_list,
)
from closeloop.pipeline.services import (
    deal_create,
    deal_mark_lost,
    deal_mark_won,
    deal_move_to_stage,
    deal_reopen,
    deal_trash,
    deal_update,
)
from closeloop.pipeline.services.deals import MAX_VALUE

from .errors import ERRORS, WRITE_ERRORS, field_error, fields_renamed, not_found
from .ids import ExpectedVersion, PathId, RecordId
from .lists import ListQuery, Page, json_page, page_of
from .people.shared import filters_of, owner_pick

router = Router(tags=["deals"])

DEAL_ORDERINGS = ("created_at", "updated_at", "value", "title")
# the services name the records; the API names their ids
FIELD_IDS = {
    name: f"{name}_id"
    for name in ("stage", "pipeline", "owner", "organization", "contact", "source", "campaign")
} | {"reason": "reason_id"}
Amount = Field(None, ge=0, le=MAX_VALUE, max_digits=14, decimal_places=2)


class Named(Schema):
    id: int
    name: str


class DealOut(Schema):
    id: int
    title: str
    pipeline: Named
    stage: Named
    status: DealStatus
    value: Decimal
    currency: str
    weighted_value: Decimal = Field(..., description="value × the stage's win probability")
    expected_close_date: dt.date | None
    owner_id: int
    owner_email: str
    organization_id: int | None
    organization_name: str | None
    contact_id: int | None
    contact_name: str | None
    lead_id: int | None
    source_id: int | None
    campaign_id: int | None
    won_at: dt.datetime | None
    lost_at: dt.datetime | None
    lost_reason: Named | None
    competitor: str
    lost_note: str
    external_id: str
    version: int = Field(
        ..., description="send it back as `expected_version` to refuse stale writes"
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_owner_email(obj: Deal) -> str:
        return obj.owner.email

    @staticmethod
    def resolve_organization_name(obj: Deal) -> str | None:
        return obj.organization.name if obj.organization else None

    @staticmethod
    def resolve_contact_name(obj: Deal) -> str | None:
        return obj.contact.full_name if obj.contact else None


# What a list row reads: the deal's own columns and the names of the optional records it links
# to (left joins). Owner, pipeline and stage come from two small lookups instead: joined, they
# let SQLite start from the few users or pipelines and sort every deal they own (300 ms).
DEAL_COLUMNS = (
    "id", "title", "pipeline_id", "stage_id", "status", "value", "currency",
    "expected_close_date", "owner_id", "organization_id", "organization__name", "contact_id",
    "contact__first_name", "contact__last_name", "lead_id", "source_id", "campaign_id",
    "won_at", "lost_at", "lost_reason_id", "lost_reason__name", "competitor", "lost_note",
    "external_id", "version", "created_at", "updated_at",
)  # fmt: skip
_COPIED = (
    "id", "title", "status", "value", "currency", "expected_close_date", "owner_id",
    "organization_id", "organization__name", "contact_id", "lead_id", "source_id",
    "campaign_id", "won_at", "lost_at", "competitor", "lost_note", "external_id", "version",
    "created_at", "updated_at",
)  # fmt: skip


def _deal_rows(rows: list[dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The function shaping each list row as DealOut has it (a test holds the two equal),
    with the page's owners, stages and pipelines looked up once (two queries)."""
    stages, emails = deal_rows_names(
        stage_ids={row["stage_id"] for row in rows}, owner_ids={row["owner_id"] for row in rows}
    )

    def shape(row: dict[str, Any]) -> dict[str, Any]:
        item = {name.replace("__", "_"): row[name] for name in _COPIED}
        stage_name, probability, pipeline_id, pipeline_name = stages[row["stage_id"]]
        item["owner_email"] = emails[row["owner_id"]]
        item["pipeline"] = {"id": pipeline_id, "name": pipeline_name}
        item["stage"] = {"id": row["stage_id"], "name": stage_name}
        item["weighted_value"] = weighted_value_of(row["value"], probability)
        item["contact_name"] = (
            full_name_of(row["contact__first_name"], row["contact__last_name"])
            if row["contact_id"]
            else None
        )
        item["lost_reason"] = (
            {"id": row["lost_reason_id"], "name": row["lost_reason__name"]}
            if row["lost_reason_id"]
            else None
        )
        return item

    return shape


class DealListQuery(ListQuery):
    pipeline_id: RecordId | None = None
    stage_id: RecordId | None = None
    owner_id: RecordId | None = None
    team_id: RecordId | None = Field(None, description="deals owned by members of this team")
    status: DealStatus | None = None
    source_id: RecordId | None = None
    campaign_id: RecordId | None = None
    organization_id: RecordId | None = None
    contact_id: RecordId | None = None
    q: str = Field(
        "", max_length=200, description="part of the title, organization "
        "or contact name",
    )  # fmt: skip
    value_min: Decimal | None = Amount
    value_max: Decimal | None = Amount
    expected_close_from: dt.date | None = None
    expected_close_to: dt.date | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


class DealIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    pipeline_id: RecordId | None = Field(None, description="defaults to the default pipeline")
    stage_id: RecordId | None = Field(None, description="defaults to the pipeline's first stage")
    owner_id: RecordId | None = Field(None, description="defaults to the token's user")
    organization_id: RecordId | None = Field(None, description="defaults to the contact's")
    contact_id: RecordId | None = None
    value: Decimal = Field(Decimal("0"), ge=0, le=MAX_VALUE, max_digits=14, decimal_places=2)
    currency: str | None = Field(None, max_length=3, description="defaults to the base currency")
    expected_close_date: dt.date | None = None
    source_id: RecordId | None = None
    campaign_id: RecordId | None = None


class DealPatch(Schema):
    """Only the fields sent change; `null` clears an organization, contact, date, source or
    campaign. The stage and status change through the actions (move, win, lose, reopen)."""

    expected_version: ExpectedVersion = None
    title: str | None = Field(None, min_length=1, max_length=200)
    owner_id: RecordId | None = None
    organization_id: RecordId | None = None
    contact_id: RecordId | None = None
    value: Decimal | None = Amount
    currency: str | None = Field(None, max_length=3)
    expected_close_date: dt.date | None = None
    source_id: RecordId | None = None
    campaign_id: RecordId | None = None


class VersionIn(Schema):
    expected_version: ExpectedVersion = None


class MoveIn(VersionIn):
    stage_id: RecordId = Field(..., description="a stage of any pipeline")


class LoseIn(VersionIn):
    reason_id: RecordId = Field(..., description="an active reason of /lost-reasons")
    competitor: str = Field("", max_length=200)
    note: str = Field("", max_length=10_000)


def _visible(request: HttpRequest, deal_id: int) -> Deal:
    deal = deal_get(user=request.user, pk=deal_id)
    if deal is None:
        raise not_found("deal")
    return deal


def _stage(pk: int | None) -> Stage | None:
    if pk is None:
        return None
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise field_error("stage_id", f"Unknown stage id {pk}.")
    return stage


def _linked(request: HttpRequest, sent: dict[str, Any], deal: Deal | None = None) -> dict[str, Any]:
    """The records the ids sent name, each one the token's user may see or pick (the deal's
    current ones are kept as they are); `None` for an id sent as `null`."""
    user = request.user
    lookups: dict[str, Any] = {
        "organization": organization_queryset(user=user),
        "contact": contact_queryset(user=user).select_related("organization"),
        "source": Source.objects.all(),
        "campaign": Campaign.objects.all(),
    }
    records: dict[str, Any] = {}
    for name, queryset in lookups.items():
        field = f"{name}_id"
        if field not in sent:
            continue
        pk = sent[field]
        if pk is None or (deal is not None and getattr(deal, field) == pk):
            records[name] = getattr(deal, name) if pk is not None else None
            continue
        if name == "source":
            queryset = queryset.filter(is_active=True)  # retired ones are not offered anew
        records[name] = queryset.filter(pk=pk).first()
        if records[name] is None:
            raise field_error(field, f"Unknown {name} id {pk}.")
    if sent.get("owner_id") is not None:
        records["owner"] = owner_pick(request, sent["owner_id"], deal.owner if deal else None)
    return records


@router.get("", response={200: Page[DealOut], **ERRORS}, summary="List deals")
def list_deals(request: HttpRequest, query: Query[DealListQuery]) -> Any:
    """The deals the token's user may see, newest first unless `ordering` says otherwise
    (`created_at`, `updated_at`, `value`, `title`; `-` in front for descending)."""
    filters = filters_of(query, DealFilters)
    page = page_of(
        deal_search(user=request.user, filters=filters),
        query,
        orderings=DEAL_ORDERINGS,
        default="-created_at",
        columns=DEAL_COLUMNS,
    )
    return json_page(page, _deal_rows(page["items"]))


@router.post("", response={201: DealOut, **WRITE_ERRORS}, summary="Create a deal")
def create_deal(request: HttpRequest, payload: DealIn) -> Status[Any]:
    """Open a deal in `stage_id` (or the first stage of `pipeline_id` or the default pipeline);
    its history starts there and the `deal.created` webhook goes out."""
    sent = payload.dict()
    records = _linked(request, sent)
    pipeline = None
    if payload.pipeline_id is not None:
        pipeline = pipeline_list().filter(pk=payload.pipeline_id).first()
        if pipeline is None:
            raise field_error("pipeline_id", f"Unknown pipeline id {payload.pipeline_id}.")
    with fields_renamed(FIELD_IDS):
        deal = deal_create(
            actor=request.user,
            title=payload.title,
            pipeline=pipeline,
            stage=_stage(payload.stage_id),
            value=payload.value,
            currency=payload.currency,
            expected_close_date=payload.expected_close_date,
            **records,
        )
    return Status(201, _visible(request, deal.pk))


@router.get("/{deal_id}", response={200: DealOut, **ERRORS}, summary="Read a deal")
def read_deal(request: HttpRequest, deal_id: PathId) -> Deal:
    """One deal the token's user may see; others answer 404."""
    return _visible(request, deal_id)


@router.patch("/{deal_id}", response={200: DealOut, **WRITE_ERRORS}, summary="Change a deal")
def update_deal(request: HttpRequest, deal_id: PathId, payload: DealPatch) -> Deal:
    """Change the fields sent; the timeline says what changed. With `expected_version`, a deal
    changed since that version answers 409 and nothing is written."""
    deal = _visible(request, deal_id)
    sent = payload.dict(exclude_unset=True)
    version = sent.pop("expected_version", None)
    changes = {
        name: value
        for name, value in sent.items()
        if not name.endswith("_id") and (value is not None or name == "expected_close_date")
    }
    changes.update(_linked(request, sent, deal))
    with fields_renamed(FIELD_IDS):
        deal_update(actor=request.user, deal=deal, changes=changes, expected_version=version)
    return _visible(request, deal_id)


@router.delete("/{deal_id}", response={204: None, **WRITE_ERRORS}, summary="Trash a deal")
def delete_deal(request: HttpRequest, deal_id: PathId) -> Status[None]:
    """Move the deal to the trash (restorable from the trash page until it is purged)."""
    deal_trash(actor=request.user, deal=_visible(request, deal_id))
    return Status(204, None)


# The board's moves -----------------------------------------------------------------------


@router.post("/{deal_id}/move", response={200: DealOut, **WRITE_ERRORS}, summary="Move a deal")
def move_deal(request: HttpRequest, deal_id: PathId, payload: MoveIn) -> Deal:
    """Move an open deal to another stage (of its pipeline or another); the history records
    the step and `deal.stage_changed` goes out. A closed deal answers 400: reopen it first."""
    deal = _visible(request, deal_id)
    stage = _stage(payload.stage_id)
    assert stage is not None
    with fields_renamed(FIELD_IDS):
        deal_move_to_stage(
            actor=request.user, deal=deal, stage=stage, expected_version=payload.expected_version
        )
    return _visible(request, deal_id)


@router.post("/{deal_id}/win", response={200: DealOut, **WRITE_ERRORS}, summary="Win a deal")
def win_deal(request: HttpRequest, deal_id: PathId, payload: VersionIn | None = None) -> Deal:
    """Close an open deal as won; it keeps its stage. Follow-up plans and referral rewards
    start as when it is won on the board."""
    deal = _visible(request, deal_id)
    version = payload.expected_version if payload else None
    deal_mark_won(actor=request.user, deal=deal, expected_version=version)
    return _visible(request, deal_id)


@router.post("/{deal_id}/lose", response={200: DealOut, **WRITE_ERRORS}, summary="Lose a deal")
def lose_deal(request: HttpRequest, deal_id: PathId, payload: LoseIn) -> Deal:
    """Close an open deal as lost, for a reason from the lost reasons (a retired one answers
    400), with the competitor it went to and a note if you like. It keeps its stage."""
    deal = _visible(request, deal_id)
    reason = lost_reason_list().filter(pk=payload.reason_id).first()
    if reason is None:
        raise field_error("reason_id", f"Unknown lost reason id {payload.reason_id}.")
    with fields_renamed(FIELD_IDS):
        deal_mark_lost(
            actor=request.user,
            deal=deal,
            reason=reason,
            competitor=payload.competitor,
            note=payload.note,
            expected_version=payload.expected_version,
        )
    return _visible(request, deal_id)


@router.post("/{deal_id}/reopen", response={200: DealOut, **WRITE_ERRORS}, summary="Reopen a deal")
def reopen_deal(request: HttpRequest, deal_id: PathId, payload: VersionIn | None = None) -> Deal:
    """Reopen a won or lost deal in the stage it closed in; the won/lost details are cleared."""
    deal = _visible(request, deal_id)
    version = payload.expected_version if payload else None
    deal_reopen(actor=request.user, deal=deal, expected_version=version)
    return _visible(request, deal_id)
