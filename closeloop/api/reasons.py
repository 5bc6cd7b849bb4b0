"""The workspace's reason lists over the API: why deals are lost (`/lost-reasons`) and why leads
are discarded (`/discard-reasons`).

Every token may read them (losing a deal or discarding a lead names one). Changing them follows
the settings pages: lost reasons admins and managers, discard reasons admins only (others 403).
A reason is never deleted: deactivating retires it, and the deals or leads that name it keep it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from closeloop.accounts.actors import require_admin, require_admin_or_manager
from closeloop.leads.qualification import disqualify_reason_create, disqualify_reason_update
from closeloop.leads.selectors import disqualify_reason_list
from closeloop.pipeline.selectors import lost_reason_list
from closeloop.pipeline.services import lost_reason_create, lost_reason_update

from .errors import ERRORS, WRITE_ERRORS, not_found
from .ids import PathId
from .lists import ListQuery, Page, page_of
from .roles import role_required

REASON_ORDERINGS = ("position", "name", "created_at", "updated_at")


class ReasonIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)


class ReasonPatch(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, min_length=1, max_length=120)
    is_active: bool | None = Field(None, description="false retires it: no longer offered")


class ReasonOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ReasonListQuery(ListQuery):
    is_active: bool | None = Field(None, description="empty: offered and retired ones")


def reason_router(
    *,
    noun: str,
    listing: Callable[[], QuerySet[Any]],
    create: Callable[..., Model],
    update: Callable[..., Model],
    rule: Callable[[Any, str], None],
    refusal: str,
) -> Router:
    """The five endpoints of one reason list, over its own selector, services and role rule."""
    router = Router(tags=[f"{noun}s"])
    slug = noun.replace(" ", "_")  # the two lists share these view names: ids must differ

    def visible(pk: int) -> Any:
        reason = listing().filter(pk=pk).first()
        if reason is None:
            raise not_found(noun)
        return reason

    def change(request: HttpRequest, reason: Any, name: str | None, active: bool | None) -> Any:
        role_required(rule, request.user, refusal)
        update(
            actor=request.user,
            reason=reason,
            name=reason.name if name is None else name,
            is_active=reason.is_active if active is None else active,
        )
        return visible(reason.pk)

    @router.get(
        "",
        response={200: Page[ReasonOut], **ERRORS},
        operation_id=f"list_{slug}s",
        summary=f"List {noun}s",
    )
    def list_reasons(request: HttpRequest, query: Query[ReasonListQuery]) -> Any:
        """Every reason in the list's order, retired ones too unless `is_active` says."""
        reasons = listing()
        if query.is_active is not None:
            reasons = reasons.filter(is_active=query.is_active)
        return page_of(reasons, query, orderings=REASON_ORDERINGS, default="position")

    @router.post(
        "",
        response={201: ReasonOut, **WRITE_ERRORS},
        operation_id=f"create_{slug}",
        summary=f"Add a {noun}",
    )
    def create_reason(request: HttpRequest, payload: ReasonIn) -> Status[Any]:
        """Add a reason at the end of the list; a name already there (any case) answers 409."""
        role_required(rule, request.user, refusal)
        return Status(201, create(actor=request.user, name=payload.name))

    @router.get(
        "/{reason_id}",
        response={200: ReasonOut, **ERRORS},
        operation_id=f"read_{slug}",
        summary=f"Read a {noun}",
    )
    def read_reason(request: HttpRequest, reason_id: PathId) -> Any:
        """One reason, offered or retired."""
        return visible(reason_id)

    @router.patch(
        "/{reason_id}",
        response={200: ReasonOut, **WRITE_ERRORS},
        operation_id=f"update_{slug}",
        summary=f"Change a {noun}",
    )
    def update_reason(request: HttpRequest, reason_id: PathId, payload: ReasonPatch) -> Any:
        """Rename a reason, or retire (`is_active: false`) or offer it again."""
        return change(request, visible(reason_id), payload.name, payload.is_active)

    @router.post(
        "/{reason_id}/deactivate",
        response={200: ReasonOut, **WRITE_ERRORS},
        operation_id=f"deactivate_{slug}",
        summary=f"Retire a {noun}",
    )
    def deactivate_reason(request: HttpRequest, reason_id: PathId) -> Any:
        """Stop offering a reason; what was lost or discarded for it keeps it."""
        return change(request, visible(reason_id), None, False)

    return router


lost_reasons_router = reason_router(
    noun="lost reason",
    listing=lost_reason_list,
    create=lost_reason_create,
    update=lost_reason_update,
    rule=require_admin_or_manager,
    refusal="Only admins and managers can change the lost reasons.",
)
discard_reasons_router = reason_router(
    noun="discard reason",
    listing=disqualify_reason_list,
    create=disqualify_reason_create,
    update=disqualify_reason_update,
    rule=require_admin,
    refusal="Only admins can change the discard reasons.",
)
