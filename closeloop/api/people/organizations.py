"""Organizations over the API: list, create, read, change, trash.

Create and change refuse a domain or a name another organization has (409), as an import skips
them; the pages only warn. Reads and writes go through the visibility rules: an organization
the token's user may not see answers 404, like a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from closeloop.people.models import Organization
from closeloop.people.selectors import OrganizationFilters, organization_get, organization_search
from closeloop.people.services import organization_create, organization_trash, organization_update

from ..errors import ERRORS, WRITE_ERRORS, not_found
from ..ids import PathId, RecordId
from ..lists import ListQuery, Page, page_of
from .shared import filters_of, owner_pick, web_address

router = Router(tags=["organizations"])

ORGANIZATION_ORDERINGS = ("name", "created_at", "updated_at")


class OrganizationIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    domain: str = Field("", max_length=200, description="e.g. example.com")
    website: str = Field("", max_length=300, description="`https://` is assumed")
    phone: str = Field("", max_length=50)
    address: str = Field("", max_length=10_000)
    industry: str = Field("", max_length=100)
    size: str = Field("", max_length=30)
    notes: str = Field("", max_length=100_000)
    owner_id: RecordId | None = Field(
        None, description="defaults to the token's user; `null`: nobody (shared with everyone)"
    )
    external_id: str = Field("", max_length=100, description="its id in another system")

    _website = field_validator("website")(web_address)


class OrganizationPatch(Schema):
    """Only the fields sent change; the rest keep their values."""

    name: str | None = Field(None, min_length=1, max_length=200)
    domain: str | None = Field(None, max_length=200)
    website: str | None = Field(None, max_length=300)
    phone: str | None = Field(None, max_length=50)
    address: str | None = Field(None, max_length=10_000)
    industry: str | None = Field(None, max_length=100)
    size: str | None = Field(None, max_length=30)
    notes: str | None = Field(None, max_length=100_000)
    owner_id: RecordId | None = Field(None, description="`null`: nobody (shared with everyone)")
    external_id: str | None = Field(None, max_length=100)

    _website = field_validator("website")(web_address)


class OrganizationOut(Schema):
    id: int
    name: str
    domain: str
    website: str
    phone: str
    address: str
    industry: str
    size: str
    notes: str
    owner_id: int | None
    owner_email: str | None
    external_id: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_owner_email(obj: Organization) -> str | None:
        return obj.owner.email if obj.owner else None


class OrganizationListQuery(ListQuery):
    q: str = Field("", max_length=200, description="part of the name or domain")
    owner_id: RecordId | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


def _visible(request: HttpRequest, organization_id: int) -> Organization:
    organization = organization_get(user=request.user, pk=organization_id)
    if organization is None:
        raise not_found("organization")
    return organization


@router.get("", response={200: Page[OrganizationOut], **ERRORS}, summary="List organizations")
def list_organizations(request: HttpRequest, query: Query[OrganizationListQuery]) -> Any:
    """The organizations the token's user may see, by name unless `ordering` says otherwise."""
    filters = filters_of(query, OrganizationFilters)
    organizations = organization_search(user=request.user, filters=filters)
    return page_of(organizations, query, orderings=ORGANIZATION_ORDERINGS, default="name")


@router.post("", response={201: OrganizationOut, **WRITE_ERRORS}, summary="Create an organization")
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Status[Any]:
    """Add an organization; one with the same domain or name (any case) answers 409."""
    values = payload.dict(exclude={"owner_id"})
    if "owner_id" in payload.model_fields_set:
        values["owner"] = owner_pick(request, payload.owner_id)
    organization = organization_create(actor=request.user, refuse_duplicates=True, **values)
    return Status(201, _visible(request, organization.pk))


@router.get(
    "/{organization_id}", response={200: OrganizationOut, **ERRORS}, summary="Read an organization"
)
def read_organization(request: HttpRequest, organization_id: PathId) -> Organization:
    """One organization the token's user may see; others answer 404."""
    return _visible(request, organization_id)


@router.patch(
    "/{organization_id}",
    response={200: OrganizationOut, **WRITE_ERRORS},
    summary="Change an organization",
)
def update_organization(
    request: HttpRequest, organization_id: PathId, payload: OrganizationPatch
) -> Organization:
    """Change the fields sent; a new domain or name another organization has answers 409."""
    organization = _visible(request, organization_id)
    sent = payload.dict(exclude_unset=True)
    values = {k: v for k, v in sent.items() if k != "owner_id" and v is not None}
    if "owner_id" in sent:
        values["owner"] = owner_pick(request, sent["owner_id"], organization.owner)
    organization_update(
        actor=request.user, organization=organization, refuse_duplicates=True, **values
    )
    return _visible(request, organization_id)


@router.delete(
    "/{organization_id}", response={204: None, **WRITE_ERRORS}, summary="Trash an organization"
)
def delete_organization(request: HttpRequest, organization_id: PathId) -> Status[None]:
    """Move the organization to the trash; its contacts and deals stay. Restorable until purged."""
    organization_trash(actor=request.user, organization=_visible(request, organization_id))
    return Status(204, None)
