"""Duplicate detection for every way a lead comes in (UI, web form, import, API).

Exact: the same email (case-insensitive) or the same phone in E.164, on a lead or a contact.
Likely: a similar name at a similar company (rapidfuzz), flagged for review, never merged.
Detection looks at every record, not just the ones the user may see, so a rep cannot
create a second copy of a colleague's lead; what it reveals is only that one exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from rapidfuzz import fuzz

from closeloop.people.models import Contact, ContactEmail, ContactPhone

from .models import Lead

LIKELY_THRESHOLD = 88
CANDIDATE_LIMIT = 200


@dataclass(frozen=True)
class Match:
    """An existing record that looks like the incoming one, and why."""

    lead_id: int | None
    contact_id: int | None
    score: int
    evidence: str
    field: str = ""

    @property
    def exact(self) -> bool:
        return self.score >= 100


def find_exact(
    *, email: str = "", phone_e164: str = "", exclude_lead_id: int | None = None
) -> Match | None:
    """The first lead or contact with the same email or phone, or None."""
    email = (email or "").strip().lower()
    if email:
        lead = Lead.objects.filter(email=email).exclude(pk=exclude_lead_id).values("pk").first()
        if lead:
            return Match(lead["pk"], None, 100, f"same email {email}", "email")
        contact = (
            ContactEmail.objects.filter(email=email, contact__deleted_at__isnull=True)
            .values("contact_id")
            .first()
        )
        if contact:
            return Match(None, contact["contact_id"], 100, f"same email {email}", "email")
    if phone_e164:
        lead = (
            Lead.objects.filter(phone_e164=phone_e164)
            .exclude(pk=exclude_lead_id)
            .values("pk")
            .first()
        )
        if lead:
            return Match(lead["pk"], None, 100, f"same phone {phone_e164}", "phone")
        contact = (
            ContactPhone.objects.filter(e164=phone_e164, contact__deleted_at__isnull=True)
            .values("contact_id")
            .first()
        )
        if contact:
            return Match(None, contact["contact_id"], 100, f"same phone {phone_e164}", "phone")
    return None


def similarity(name_a: str, company_a: str, name_b: str, company_b: str) -> int:
    """0–100: how alike two (name, company) pairs are; the name counts most."""
    name = fuzz.token_sort_ratio(name_a.lower(), name_b.lower())
    if company_a and company_b:
        company = fuzz.token_set_ratio(company_a.lower(), company_b.lower())
        return round(0.65 * name + 0.35 * company)
    return round(name * 0.9)  # without companies to compare, a name alone is weaker evidence


def likely_evidence(first: str, last: str, *, company: str, other_company: str | None) -> str:
    """What a likely pair is shown with: the other record's name (and company)."""
    both = " and company" if company and other_company else ""
    at = f", {other_company}" if other_company else ""
    return f"similar name{both}: {first} {last}{at}"


def find_likely(
    *, first_name: str, last_name: str, company: str, exclude_lead_id: int | None = None
) -> list[Match]:
    """Leads and contacts with a similar name at a similar company, best first."""
    first_name, last_name, company = (
        (first_name or "").strip(),
        (last_name or "").strip(),
        (company or "").strip(),
    )
    if not last_name or not (first_name or company):
        return []
    full = f"{first_name} {last_name}"
    # Candidates share the last name's first letters: a cheap index-friendly block.
    block = last_name[:3]
    matches: list[Match] = []
    leads = (
        Lead.objects.filter(last_name__istartswith=block)
        .exclude(pk=exclude_lead_id)
        .values_list("pk", "first_name", "last_name", "company_name")[:CANDIDATE_LIMIT]
    )
    for pk, f, lname, c in leads:
        score = similarity(full, company, f"{f} {lname}", c)
        if score >= LIKELY_THRESHOLD:
            matches.append(
                Match(
                    pk,
                    None,
                    min(score, 99),
                    likely_evidence(f, lname, company=company, other_company=c),
                )
            )
    contacts = Contact.objects.filter(Q(last_name__istartswith=block)).values_list(
        "pk", "first_name", "last_name", "organization__name"
    )[:CANDIDATE_LIMIT]
    for pk, f, lname, c in contacts:
        score = similarity(full, company, f"{f} {lname}", c or "")
        if score >= LIKELY_THRESHOLD:
            matches.append(
                Match(
                    None,
                    pk,
                    min(score, 99),
                    likely_evidence(f, lname, company=company, other_company=c),
                )
            )
    return sorted(matches, key=lambda m: -m.score)
