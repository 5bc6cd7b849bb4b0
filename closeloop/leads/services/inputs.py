"""What a lead is made of, from any channel, and the checks every channel's input passes."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from closeloop.accounts.models import User
from closeloop.core.exceptions import DomainError

from ..choices import FREE_MAIL_DOMAINS, LeadStatus
from ..dedupe import Match
from ..models import Campaign, Lead, Source

MAX_NOTES = 100_000
TEXT_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "phone": 60,
    "job_title": 150,
    "company_name": 200,
    "company_domain": 200,
    "website": 300,
    "company_size": 30,
    "industry": 100,
    "country": 2,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_term": 200,
    "utm_content": 200,
    "consent_method": 200,
    "external_id": 100,
}


@dataclass
class LeadInput:
    """What a lead is made of, from any channel; empty strings mean 'not given'."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    job_title: str = ""
    company_name: str = ""
    company_domain: str = ""
    website: str = ""
    company_size: str = ""
    industry: str = ""
    country: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    marketing_consent: bool = False
    consent_method: str = ""
    notes: str = ""
    external_id: str = ""
    owner: User | None = None
    source: Source | None = None
    campaign: Campaign | None = None
    status: str = LeadStatus.NEW
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LeadResult:
    """What lead_create did: the lead (new or existing) and any duplicate evidence."""

    lead: Lead | None
    created: bool
    duplicate: Match | None = None
    flagged: list[Match] = field(default_factory=list)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].lower() if "@" in email else ""


def clean_lead_input(data: LeadInput) -> LeadInput:
    """Trim, check and normalise every field; raise DomainError naming the first bad one."""
    for name, limit in TEXT_LIMITS.items():
        value = getattr(data, name)
        value = "" if value is None else str(value).strip()
        if len(value) > limit:
            raise DomainError(
                f"{name.replace('_', ' ').capitalize()} can be at most {limit} characters long.",
                field=name,
            )
        setattr(data, name, value)
    data.email = (data.email or "").strip().lower()
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError as exc:
            raise DomainError(
                f"“{data.email}” is not a valid email address.", field="email"
            ) from exc
    if len(data.notes or "") > MAX_NOTES:
        raise DomainError(f"Notes can be at most {MAX_NOTES:,} characters long.", field="notes")
    data.notes = (data.notes or "").strip()
    data.country = data.country.upper()
    if data.status not in LeadStatus.values:
        raise DomainError(f"“{data.status}” is not a lead status.", field="status")
    if not (data.first_name or data.last_name or data.email or data.phone or data.company_name):
        raise DomainError(
            "A lead needs at least a name, an email, a phone or a company.", field="last_name"
        )
    domain = (data.company_domain or "").lower().removeprefix("https://").removeprefix("http://")
    data.company_domain = domain.removeprefix("www.").split("/")[0]
    if not data.company_domain and data.email:
        domain = email_domain(data.email)
        if domain not in FREE_MAIL_DOMAINS:
            data.company_domain = domain
    if data.owner is not None and not data.owner.is_active:
        raise DomainError(f"{data.owner} is deactivated and cannot own leads.", field="owner")
    return data


LEAD_EDITABLE = [f.name for f in fields(LeadInput) if f.name != "extra"]
