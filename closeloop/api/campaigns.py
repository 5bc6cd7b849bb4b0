"""Campaigns and lead sources over the API, with the campaign pages' rules.

Both lists are shared by the workspace: every token reads them, with the number of leads the
token's user may see in each. Admins and managers create and change them (others 403). A name
another campaign or source has (any case) answers 409.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from closeloop.accounts.actors import require_admin_or_manager
from closeloop.core.money import CURRENCY_CODES, base_currency
from closeloop.leads.choices import CampaignChannel
from closeloop.leads.models import Campaign, Source
from closeloop.leads.selectors import campaign_list_with_counts, source_list
from closeloop.leads.services import (
    CAMPAIGN_FIELDS,
    campaign_create,
    campaign_update,
    source_create,
    source_update,
)
from closeloop.leads.services.sources import ONLY_MANAGERS

from .errors import ERRORS, WRITE_ERRORS, not_found
from .ids import PathId
from .lists import ListQuery, Page, page_of
from .roles import role_required

campaigns_router = Router(tags=["campaigns"])
sources_router = Router(tags=["sources"])

CAMPAIGN_ORDERINGS = ("name", "created_at", "updated_at")
SOURCE_ORDERINGS = ("position", "name", "created_at", "updated_at")
MAX_MONEY = Decimal("999999999.99")


def _currency(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().upper()
    if code and code not in CURRENCY_CODES:
        raise ValueError(f"“{value}” is not a currency this workspace uses.")
    return code


class CampaignIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    channel: CampaignChannel = CampaignChannel.OTHER
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    cost: Decimal | None = Field(None, ge=0, le=MAX_MONEY, decimal_places=2)
    currency: str | None = Field(
        None, max_length=3, description="ISO 4217; defaults to the base currency"
    )
    utm_campaign: str = Field("", max_length=200, description="leads with it join the campaign")
    notes: str = Field("", max_length=100_000)

    _currency = field_validator("currency")(_currency)


class CampaignPatch(Schema):
    """Only the fields sent change; `null` clears a date or the cost."""

    name: str | None = Field(None, min_length=1, max_length=200)
    channel: CampaignChannel | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    cost: Decimal | None = Field(None, ge=0, le=MAX_MONEY, decimal_places=2)
    currency: str | None = Field(None, max_length=3)
    utm_campaign: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=100_000)

    _currency = field_validator("currency")(_currency)


class CampaignOut(Schema):
    id: int
    name: str
    channel: CampaignChannel
    starts_on: dt.date | None
    ends_on: dt.date | None
    cost: Decimal | None
    currency: str
    utm_campaign: str
    notes: str
    lead_count: int = Field(..., description="its leads the token's user may see")
    created_at: dt.datetime
    updated_at: dt.datetime


class CampaignListQuery(ListQuery):
    q: str = Field("", max_length=200, description="part of the name")
    channel: CampaignChannel | None = None


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    campaign = campaign_list_with_counts(user=request.user).filter(pk=pk).first()
    if campaign is None:
        raise not_found("campaign")
    return campaign


@campaigns_router.get("", response={200: Page[CampaignOut], **ERRORS}, summary="List campaigns")
def list_campaigns(request: HttpRequest, query: Query[CampaignListQuery]) -> Any:
    """Every campaign, by name unless `ordering` says otherwise."""
    campaigns = campaign_list_with_counts(user=request.user)
    if query.q.strip():
        campaigns = campaigns.filter(name__icontains=query.q.strip())
    if query.channel:
        campaigns = campaigns.filter(channel=query.channel)
    return page_of(campaigns, query, orderings=CAMPAIGN_ORDERINGS, default="name")


@campaigns_router.post("", response={201: CampaignOut, **WRITE_ERRORS}, summary="Add a campaign")
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[Any]:
    """Add a campaign leads can be attributed to (admins and managers)."""
    role_required(require_admin_or_manager, request.user, ONLY_MANAGERS)
    values = payload.dict()
    if values["currency"] is None:
        values["currency"] = base_currency()
    campaign = campaign_create(actor=request.user, **values)
    return Status(201, _campaign(request, campaign.pk))


@campaigns_router.get(
    "/{campaign_id}", response={200: CampaignOut, **ERRORS}, summary="Read a campaign"
)
def read_campaign(request: HttpRequest, campaign_id: PathId) -> Campaign:
    """One campaign."""
    return _campaign(request, campaign_id)


@campaigns_router.patch(
    "/{campaign_id}", response={200: CampaignOut, **WRITE_ERRORS}, summary="Change a campaign"
)
def update_campaign(request: HttpRequest, campaign_id: PathId, payload: CampaignPatch) -> Campaign:
    """Change the fields sent (admins and managers); the dates must stay in order."""
    campaign = _campaign(request, campaign_id)
    role_required(require_admin_or_manager, request.user, ONLY_MANAGERS)
    values = {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}
    clearable = {"starts_on", "ends_on", "cost"}
    values.update(
        {
            k: v
            for k, v in payload.dict(exclude_unset=True).items()
            if v is not None or k in clearable
        }
    )
    campaign_update(actor=request.user, campaign=campaign, **values)
    return _campaign(request, campaign_id)


# Sources -------------------------------------------------------------------------------------


class SourceIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)


class SourcePatch(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, min_length=1, max_length=120)
    is_active: bool | None = Field(None, description="false retires it; its leads keep it")


class SourceOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    lead_count: int = Field(..., description="its leads the token's user may see")
    created_at: dt.datetime
    updated_at: dt.datetime


class SourceListQuery(ListQuery):
    is_active: bool | None = Field(None, description="empty: in use and retired ones")


def _source(request: HttpRequest, pk: int) -> Source:
    source = source_list(user=request.user).filter(pk=pk).first()
    if source is None:
        raise not_found("source")
    return source


@sources_router.get("", response={200: Page[SourceOut], **ERRORS}, summary="List lead sources")
def list_sources(request: HttpRequest, query: Query[SourceListQuery]) -> Any:
    """Every lead source in the list's order, retired ones too unless `is_active` says."""
    sources = source_list(user=request.user)
    if query.is_active is not None:
        sources = sources.filter(is_active=query.is_active)
    return page_of(sources, query, orderings=SOURCE_ORDERINGS, default="position")


@sources_router.post("", response={201: SourceOut, **WRITE_ERRORS}, summary="Add a lead source")
def create_source(request: HttpRequest, payload: SourceIn) -> Status[Any]:
    """Add a source at the end of the list (admins and managers)."""
    role_required(require_admin_or_manager, request.user, ONLY_MANAGERS)
    source = source_create(actor=request.user, name=payload.name)
    return Status(201, _source(request, source.pk))


@sources_router.get(
    "/{source_id}", response={200: SourceOut, **ERRORS}, summary="Read a lead source"
)
def read_source(request: HttpRequest, source_id: PathId) -> Source:
    """One lead source, in use or retired."""
    return _source(request, source_id)


@sources_router.patch(
    "/{source_id}", response={200: SourceOut, **WRITE_ERRORS}, summary="Change a lead source"
)
def update_source(request: HttpRequest, source_id: PathId, payload: SourcePatch) -> Source:
    """Rename a source, or retire it (`is_active: false`) or use it again (admins and managers)."""
    source = _source(request, source_id)
    role_required(require_admin_or_manager, request.user, ONLY_MANAGERS)
    source_update(
        actor=request.user,
        source=source,
        name=source.name if payload.name is None else payload.name,
        is_active=source.is_active if payload.is_active is None else payload.is_active,
    )
    return _source(request, source_id)
