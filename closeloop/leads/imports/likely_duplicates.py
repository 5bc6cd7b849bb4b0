"""Likely duplicates among the records an import created, flagged when the import ends.

Up to LIKELY_CHECK_LIMIT new records are checked at once and their pairs stored for the
Duplicates page; a larger import is not checked here but queues the full duplicate scan, which
compares every record in the background, so no new record is left unchecked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower, Substr

from closeloop.core.exceptions import DomainError
from closeloop.people.models import Contact, ContactEmail, ContactPhone

from ..dedupe import CANDIDATE_LIMIT, LIKELY_THRESHOLD, likely_evidence, similarity
from ..duplicate_scan import (
    Candidate,
    close_names,
    contact_name_pairs,
    duplicates_scan_queue,
    save_contact_pairs,
    save_lead_pairs,
)
from ..models import DuplicatePair, ImportBatch, Lead

LIKELY_CHECK_LIMIT = 2000
CONTACT_CHUNK = 500
NOTE = "likely_duplicates"


def _scan_queued(batch: ImportBatch) -> str:
    """Queue the full scan for what the import did not check; say what happened."""
    user = batch.created_by
    requester = user if getattr(user, "role", None) in ("admin", "manager") else None
    try:
        duplicates_scan_queue(actor=requester)
    except DomainError:
        return "a duplicate scan already queued or running will look at them"
    return "a duplicate scan has been queued to look at them"


def over_limit_note(batch: ImportBatch, *, count: int, noun: str) -> dict[str, Any]:
    """The note for an import with more new records than the check at import time takes."""
    return {
        NOTE: f"not checked at import ({count:,} new {noun}s; the check runs for up to "
        f"{LIKELY_CHECK_LIMIT:,}) — {_scan_queued(batch)}",
        "likely_duplicates_flagged": 0,
    }


def flagged_note(*, flagged: int, noun: str) -> dict[str, Any]:
    return {
        NOTE: f"{flagged:,} new {noun}(s) flagged as likely duplicates",
        "likely_duplicates_flagged": flagged,
    }


def _blocks(queryset: Any) -> Any:
    return queryset.exclude(last_name="").annotate(block=Lower(Substr("last_name", 1, 3)))


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CONTACT_CHUNK):
        yield ids[start : start + CONTACT_CHUNK]


ContactRow = tuple[int, str, str, str]  # pk, first name, last name, organization name


def _same_organization(ids: list[int]) -> list[Candidate]:
    """New contacts with a similar name at the same organization as another contact."""
    new = list(
        _blocks(Contact.objects.filter(pk__in=ids).exclude(organization=None)).values_list(
            "organization_id", "block"
        )
    )
    if not new:
        return []
    wanted = set(new)
    rows = (
        _blocks(Contact.objects.filter(organization_id__in={org for org, _ in new}))
        .filter(block__in={block for _, block in new})
        .order_by("organization_id", "block", "pk")
        .values_list(
            "pk", "first_name", "last_name", "organization__name", "organization_id", "block"
        )
    )
    mine = set(ids)
    pairs: list[Candidate] = []
    for key, group in groupby(rows, key=lambda row: (row[4], row[5])):
        if key not in wanted:
            continue
        members: list[ContactRow] = [(pk, f, last, org) for pk, f, last, org, _, _ in group]
        # the new contacts first, so the candidate limit never leaves them out
        members.sort(key=lambda m: (m[0] not in mine, m[0]))
        pairs += [
            p for p in contact_name_pairs(members[:CANDIDATE_LIMIT]) if p[0] in mine or p[1] in mine
        ]
    return pairs


def _similar_leads(ids: list[int]) -> list[Candidate]:
    """(lead, new contact) pairs: a lead with a similar name at a similar company, as the full
    scan compares leads with contacts (the evidence names the contact)."""
    contacts: dict[str, list[tuple[int, str, str, str, str]]] = {}
    for row in (
        _blocks(Contact.objects.filter(pk__in=ids))
        .order_by("pk")
        .values_list("pk", "first_name", "last_name", "organization__name", "block")
    ):
        if row[1] or row[3]:  # as find_likely: a first name or a company to go on
            contacts.setdefault(row[4], []).append(row)
    if not contacts:
        return []
    leads = (
        _blocks(Lead.objects.all())
        .filter(block__in=contacts.keys())
        .order_by("block", "pk")
        .values_list("pk", "first_name", "last_name", "company_name", "block")
        .iterator(chunk_size=2000)
    )
    pairs: list[Candidate] = []
    for block, group in groupby(leads, key=lambda row: row[4]):
        block_leads = [row for row in group if row[1] or row[3]]
        block_contacts = contacts[block]
        names = [f"{c[1]} {c[2]}".lower() for c in block_contacts]
        lead_names = [f"{lead[1]} {lead[2]}".lower() for lead in block_leads]
        for i, j in close_names(names, lead_names):
            c_pk, c_first, c_last, org, _ = block_contacts[i]
            lead_pk, _, _, company, _ = block_leads[j]
            score = similarity(names[i], org or "", lead_names[j], company or "")
            if score >= LIKELY_THRESHOLD:
                evidence = likely_evidence(c_first, c_last, company=company, other_company=org)
                pairs.append((lead_pk, c_pk, min(score, 99), evidence))
    return pairs


def _same_email_or_phone_as_lead(ids: list[int]) -> list[Candidate]:
    """(lead, new contact) pairs sharing an email or a phone: a lead with a contact's email or
    phone would have been refused as a duplicate, so the contact is flagged against it."""
    pairs: list[Candidate] = []
    sources: Iterable[tuple[Any, str, str, str]] = (
        (ContactEmail, "email", "email", "email"),
        (ContactPhone, "e164", "phone_e164", "phone"),
    )
    for model, field, lead_field, label in sources:
        values: dict[str, list[int]] = {}
        for value, contact_id in (
            model.objects.filter(contact_id__in=ids)
            .exclude(**{field: ""})
            .values_list(field, "contact_id")
        ):
            values.setdefault(value, []).append(contact_id)
        if not values:
            continue
        for value, lead_pk in Lead.objects.filter(**{f"{lead_field}__in": values}).values_list(
            lead_field, "pk"
        ):
            pairs += [(lead_pk, c, 100, f"same {label} {value}") for c in values[value]]
    return pairs


def flag_new_contacts(batch: ImportBatch) -> dict[str, Any]:
    """Flag the contacts an import created that look like another contact (similar name at the
    same organization) or a lead (same email or phone, or similar name and company), for up to
    LIKELY_CHECK_LIMIT new contacts; more than that queue the full scan instead."""
    created = Contact.objects.filter(import_batch=batch)
    count = created.count()
    if count > LIKELY_CHECK_LIMIT:
        return over_limit_note(batch, count=count, noun="contact")
    ids = list(created.order_by("pk").values_list("pk", flat=True))
    for chunk in _chunks(ids):
        save_contact_pairs(_same_organization(chunk))
        save_lead_pairs([], _same_email_or_phone_as_lead(chunk) + _similar_leads(chunk))
    paired = DuplicatePair.objects.filter(
        Q(contact_id__in=ids) | Q(other_contact_id__in=ids)
    ).values_list("contact_id", "other_contact_id")
    mine = set(ids)
    flagged = {pk for pair in paired for pk in pair if pk in mine}
    return flagged_note(flagged=len(flagged), noun="contact")
