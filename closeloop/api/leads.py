"""Leads over the API: create (same duplicate checks as every channel), read, and the outcomes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import EmailStr

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import Campaign, DisqualifyReason, Lead, Source
from closeloop.leads.qualification import lead_disqualify, lead_nurture, lead_qualify
from closeloop.leads.selectors import LeadFilters, lead_get, lead_list, source_named
from closeloop.leads.services import LEAD_EDITABLE, LeadInput, lead_create, lead_trash, lead_update
from closeloop.people.selectors import contact_queryset, organization_queryset
from closeloop.pipeline.models import Pipeline, Stage
from closeloop.pipeline.selectors import pipeline_default

from .errors import ERRORS, WRITE_ERRORS, field_error, not_found
from .ids import ExpectedVersion, PathId, RecordId
from .lists import ListQuery, Page, page_of

router = Router(tags=["leads"])


def _visible_lead(request: HttpRequest, lead_id: int) -> Lead:
    lead = lead_get(user=request.user, pk=lead_id)
    if lead is None:
        raise not_found("lead")
    return lead


class LeadIn(Schema):
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    email: EmailStr | None = None
    phone: str = Field("", max_length=60)
    job_title: str = Field("", max_length=150)
    company_name: str = Field("", max_length=200)
    company_domain: str = Field("", max_length=200)
    website: str = Field("", max_length=300)
    company_size: str = Field("", max_length=30)
    industry: str = Field("", max_length=100)
    country: str = Field("", max_length=2, description="ISO 3166 code")
    status: LeadStatus = LeadStatus.NEW
    source: str = Field("API", description="name of a lead source; defaults to API")
    campaign_id: RecordId | None = None
    owner_email: str | None = Field(None, description="defaults to the token's user")
    utm_source: str = Field("", max_length=200)
    utm_medium: str = Field("", max_length=200)
    utm_campaign: str = Field("", max_length=200)
    utm_term: str = Field("", max_length=200)
    utm_content: str = Field("", max_length=200)
    marketing_consent: bool = False
    consent_method: str = Field("", max_length=200)
    notes: str = Field("", max_length=100_000)
    external_id: str = Field("", max_length=100)


class LeadOut(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    phone_e164: str
    job_title: str
    company_name: str
    company_domain: str
    organization_id: int | None
    status: str
    score: int
    nurture_until: dt.date | None
    source: str | None
    campaign_id: int | None
    owner_email: str | None
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    marketing_consent: bool
    consent_at: dt.datetime | None
    consent_method: str
    external_id: str
    version: int = Field(
        ..., description="send it back as `expected_version` to refuse stale writes"
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    likely_duplicates: list[str] = []

    @staticmethod
    def resolve_source(obj: Lead) -> str | None:
        return obj.source.name if obj.source else None

    @staticmethod
    def resolve_owner_email(obj: Lead) -> str | None:
        return obj.owner.email if obj.owner else None


def _source(name: str) -> Source:
    source = source_named(name)
    if source is None:
        raise field_error("source", f"Unknown source “{name}”.")
    return source


def _campaign(pk: int | None) -> Campaign | None:
    if pk is None:
        return None
    campaign = Campaign.objects.filter(pk=pk).first()
    if campaign is None:
        raise field_error("campaign_id", f"Unknown campaign id {pk}.")
    return campaign


def _owner(email: str) -> User:
    owner = User.objects.filter(email__iexact=email, is_active=True).first()
    if owner is None:
        raise field_error("owner_email", f"No active user with the email {email}.")
    return owner


def _input(payload: LeadIn, user: Any) -> LeadInput:
    values = payload.dict(exclude={"source", "campaign_id", "owner_email", "email"})
    return LeadInput(
        **values,
        email=str(payload.email or ""),
        source=_source(payload.source),
        campaign=_campaign(payload.campaign_id),
        owner=_owner(payload.owner_email) if payload.owner_email else user,
    )


class LeadListQuery(ListQuery):
    q: str = Field("", max_length=200, description="part of a name, email or company")
    status: LeadStatus | None = None
    source_id: RecordId | None = None
    campaign_id: RecordId | None = None
    owner_id: RecordId | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


class LeadPatch(Schema):
    """Only the fields sent change; the rest keep their values."""

    expected_version: ExpectedVersion = None
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(None, max_length=60)
    job_title: str | None = Field(None, max_length=150)
    company_name: str | None = Field(None, max_length=200)
    company_domain: str | None = Field(None, max_length=200)
    website: str | None = Field(None, max_length=300)
    company_size: str | None = Field(None, max_length=30)
    industry: str | None = Field(None, max_length=100)
    country: str | None = Field(None, max_length=2)
    status: LeadStatus | None = Field(None, description="between the open statuses only")
    source: str | None = None
    campaign_id: RecordId | None = None
    owner_email: str | None = None
    marketing_consent: bool | None = None
    consent_method: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=100_000)
    external_id: str | None = Field(None, max_length=100)


LEAD_ORDERINGS = ("created_at", "updated_at", "last_name", "score")


@router.get("", response={200: Page[LeadOut], **ERRORS}, summary="List leads")
def list_leads(request: HttpRequest, query: Query[LeadListQuery]) -> dict[str, Any]:
    """The leads the token's user may see, newest first unless `ordering` says otherwise."""
    filters = LeadFilters(
        q=query.q.strip(),
        status=query.status,
        source_id=query.source_id,
        campaign_id=query.campaign_id,
        owner_id=query.owner_id,
        created_from=query.created_from,
        created_to=query.created_to,
    )
    return page_of(lead_list(user=request.user, filters=filters), query, orderings=LEAD_ORDERINGS)


@router.post("", response={201: LeadOut, **WRITE_ERRORS}, summary="Create a lead")
def create_lead(request: HttpRequest, payload: LeadIn) -> Status[Any]:
    """Create a lead. An existing lead or contact with the same email or phone answers 409."""
    if payload.marketing_consent and not payload.consent_method:
        payload.consent_method = "API"
    result = lead_create(actor=request.user, data=_input(payload, request.user))
    lead = result.lead
    assert lead is not None
    lead.likely_duplicates = [m.evidence for m in result.flagged]  # type: ignore[attr-defined]
    return Status(201, lead)


@router.get("/{lead_id}", response={200: LeadOut, **ERRORS}, summary="Read a lead")
def read_lead(request: HttpRequest, lead_id: PathId) -> Lead:
    """One lead the token's user may see; others answer 404."""
    return _visible_lead(request, lead_id)


@router.patch("/{lead_id}", response={200: LeadOut, **WRITE_ERRORS}, summary="Change a lead")
def update_lead(request: HttpRequest, lead_id: PathId, payload: LeadPatch) -> Lead:
    """Change the fields sent, with the same checks as the lead's page (duplicates answer 409).
    With `expected_version`, a lead changed since that version answers 409 naming the change,
    and nothing is written."""
    lead = _visible_lead(request, lead_id)
    sent = payload.dict(exclude_unset=True)
    values = {name: getattr(lead, name) for name in LEAD_EDITABLE}
    values.update({k: v for k, v in sent.items() if k in values and v is not None})
    if "email" in sent:
        values["email"] = str(sent["email"] or "")
    if sent.get("source") is not None:
        values["source"] = _source(sent["source"])
    if "campaign_id" in sent:
        values["campaign"] = _campaign(sent["campaign_id"])
    if sent.get("owner_email") is not None:
        values["owner"] = _owner(sent["owner_email"])
    lead_update(
        actor=request.user,
        lead=lead,
        data=LeadInput(**values),
        expected_version=payload.expected_version,
    )
    return _visible_lead(request, lead_id)


@router.delete("/{lead_id}", response={204: None, **WRITE_ERRORS}, summary="Trash a lead")
def delete_lead(request: HttpRequest, lead_id: PathId) -> Status[None]:
    """Move the lead to the trash (restorable from the trash page until it is purged)."""
    lead_trash(actor=request.user, lead=_visible_lead(request, lead_id))
    return Status(204, None)


# The three outcomes ---------------------------------------------------------------------------


class QualifyIn(Schema):
    pipeline_id: RecordId | None = Field(None, description="defaults to the default pipeline")
    stage_id: RecordId | None = Field(None, description="defaults to the pipeline's first stage")
    title: str = Field("", max_length=200)
    value: Decimal | None = Field(None, ge=0, description="defaults to the budget's upper end")
    contact_id: RecordId | None = Field(
        None, description="link this contact; else the duplicate or new"
    )
    organization_id: RecordId | None = Field(None, description="link this organization")
    override_reason: str = Field("", max_length=2000)


class QualifyOut(Schema):
    deal_id: int
    contact_id: int | None
    organization_id: int | None
    lead: LeadOut


class NurtureIn(Schema):
    reason: str = Field(..., max_length=300)
    until: dt.date
    remind_to_email: bool = False


class DisqualifyIn(Schema):
    reason: str = Field(..., description="name of a discard reason from the workspace's list")
    note: str = Field("", max_length=10_000)


def _record(model: Any, pk: int | None, visible: Any, field: str) -> Any:
    if pk is None:
        return None
    obj = (
        visible.filter(pk=pk).first()
        if visible is not None
        else model.objects.filter(pk=pk).first()
    )
    if obj is None:
        raise DomainError(f"Unknown {field.replace('_', ' ')} {pk}.", field=field)
    return obj


@router.post(
    "/{lead_id}/qualify", response={201: QualifyOut, **WRITE_ERRORS}, summary="Qualify a lead"
)
def qualify_lead(request: HttpRequest, lead_id: PathId, payload: QualifyIn) -> Status[Any]:
    """Turn an open lead into a deal (with the same rules as the lead page)."""
    lead = _visible_lead(request, lead_id)
    pipeline = (
        _record(Pipeline, payload.pipeline_id, None, "pipeline_id")
        if payload.pipeline_id is not None
        else pipeline_default()
    )
    if pipeline is None:
        raise DomainError("Create a pipeline first.", field="pipeline_id")
    deal = lead_qualify(
        actor=request.user,
        lead=lead,
        pipeline=pipeline,
        stage=_record(Stage, payload.stage_id, None, "stage_id"),
        title=payload.title or None,
        value=payload.value,
        contact=_record(
            None, payload.contact_id, contact_queryset(user=request.user), "contact_id"
        ),
        organization=_record(
            None,
            payload.organization_id,
            organization_queryset(user=request.user),
            "organization_id",
        ),
        override_reason=payload.override_reason,
    )
    lead = _visible_lead(request, lead_id)
    return Status(
        201,
        {
            "deal_id": deal.pk,
            "contact_id": deal.contact_id,
            "organization_id": deal.organization_id,
            "lead": lead,
        },
    )


@router.post(
    "/{lead_id}/nurture", response={200: LeadOut, **WRITE_ERRORS}, summary="Nurture a lead"
)
def nurture_lead(request: HttpRequest, lead_id: PathId, payload: NurtureIn) -> Lead:
    """Park an open lead until `until`; it returns to its owner's inbox by itself."""
    lead = _visible_lead(request, lead_id)
    lead_nurture(
        actor=request.user,
        lead=lead,
        reason=payload.reason,
        until=payload.until,
        remind_to_email=payload.remind_to_email,
    )
    return _visible_lead(request, lead_id)


@router.post(
    "/{lead_id}/disqualify", response={200: LeadOut, **WRITE_ERRORS}, summary="Discard a lead"
)
def disqualify_lead(request: HttpRequest, lead_id: PathId, payload: DisqualifyIn) -> Lead:
    """Discard an open lead for a reason from the workspace's list."""
    lead = _visible_lead(request, lead_id)
    reason = DisqualifyReason.objects.filter(name__iexact=payload.reason.strip()).first()
    if reason is None:
        raise DomainError(f"Unknown discard reason “{payload.reason}”.", field="reason")
    lead_disqualify(actor=request.user, lead=lead, reason=reason, note=payload.note)
    return _visible_lead(request, lead_id)
