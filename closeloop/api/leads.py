"""Leads over the API: create (with the same duplicate checks as every other channel) and read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import EmailStr

from closeloop.accounts.models import User
from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import Campaign, Lead
from closeloop.leads.selectors import lead_get, source_named
from closeloop.leads.services import LeadInput, lead_create

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
