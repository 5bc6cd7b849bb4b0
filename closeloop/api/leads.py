"""Leads over the API: create (same duplicate checks as every channel), read, and the outcomes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import EmailStr

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError
from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import Campaign, DisqualifyReason, Lead
from closeloop.leads.qualification import lead_disqualify, lead_nurture, lead_qualify
from closeloop.leads.selectors import lead_get, source_named
from closeloop.leads.services import LeadInput, lead_create
from closeloop.people.selectors import contact_queryset, organization_queryset
from closeloop.pipeline.models import Pipeline, Stage
from closeloop.pipeline.selectors import pipeline_default

router = Router(tags=["leads"])


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
    campaign_id: int | None = None
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
    created_at: dt.datetime
    likely_duplicates: list[str] = []

    @staticmethod
    def resolve_source(obj: Lead) -> str | None:
        return obj.source.name if obj.source else None

    @staticmethod
    def resolve_owner_email(obj: Lead) -> str | None:
        return obj.owner.email if obj.owner else None


def _input(payload: LeadIn, user: Any) -> LeadInput:
    source = source_named(payload.source)
    if source is None:
        raise HttpError(400, f"Unknown source “{payload.source}”.")
    campaign = None
    if payload.campaign_id is not None:
        campaign = Campaign.objects.filter(pk=payload.campaign_id).first()
        if campaign is None:
            raise HttpError(400, f"Unknown campaign id {payload.campaign_id}.")
    owner = user
    if payload.owner_email:
        owner = User.objects.filter(email__iexact=payload.owner_email, is_active=True).first()
        if owner is None:
            raise HttpError(400, f"No active user with the email {payload.owner_email}.")
    values = payload.dict(exclude={"source", "campaign_id", "owner_email", "email"})
    return LeadInput(
        **values, email=str(payload.email or ""), source=source, campaign=campaign, owner=owner
    )


@router.post("", response={201: LeadOut}, summary="Create a lead")
def create_lead(request: HttpRequest, payload: LeadIn) -> Status[Any]:
    """Create a lead. An existing lead or contact with the same email or phone answers 409."""
    if payload.marketing_consent and not payload.consent_method:
        payload.consent_method = "API"
    result = lead_create(actor=request.user, data=_input(payload, request.user))
    lead = result.lead
    assert lead is not None
    lead.likely_duplicates = [m.evidence for m in result.flagged]  # type: ignore[attr-defined]
    return Status(201, lead)


@router.get("/{lead_id}", response=LeadOut, summary="Read a lead")
def read_lead(request: HttpRequest, lead_id: int) -> Lead:
    """One lead the token's user may see; others answer 404."""
    lead = lead_get(user=request.user, pk=lead_id)
    if lead is None:
        raise HttpError(404, "Not found")
    return lead


# The three outcomes ---------------------------------------------------------------------------


def _visible_lead(request: HttpRequest, lead_id: int) -> Lead:
    lead = lead_get(user=request.user, pk=lead_id)
    if lead is None:
        raise HttpError(404, "Not found")
    return lead


class QualifyIn(Schema):
    pipeline_id: int | None = Field(None, description="defaults to the default pipeline")
    stage_id: int | None = Field(None, description="defaults to the pipeline's first stage")
    title: str = Field("", max_length=200)
    value: Decimal | None = Field(None, ge=0, description="defaults to the budget's upper end")
    contact_id: int | None = Field(None, description="link this contact; else the duplicate or new")
    organization_id: int | None = Field(None, description="link this organization")
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


@router.post("/{lead_id}/qualify", response={201: QualifyOut}, summary="Qualify a lead")
def qualify_lead(request: HttpRequest, lead_id: int, payload: QualifyIn) -> Status[Any]:
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


@router.post("/{lead_id}/nurture", response=LeadOut, summary="Nurture a lead")
def nurture_lead(request: HttpRequest, lead_id: int, payload: NurtureIn) -> Lead:
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


@router.post("/{lead_id}/disqualify", response=LeadOut, summary="Discard a lead")
def disqualify_lead(request: HttpRequest, lead_id: int, payload: DisqualifyIn) -> Lead:
    """Discard an open lead for a reason from the workspace's list."""
    lead = _visible_lead(request, lead_id)
    reason = DisqualifyReason.objects.filter(name__iexact=payload.reason.strip()).first()
    if reason is None:
        raise DomainError(f"Unknown discard reason “{payload.reason}”.", field="reason")
    lead_disqualify(actor=request.user, lead=lead, reason=reason, note=payload.note)
    return _visible_lead(request, lead_id)
