"""Finding duplicates among existing records: the full scan, and one contact as it is saved.

The scan scales by blocking, never by comparing every record with every other: exact matches
(the same email or phone) are found by grouping in SQL; likely ones are compared only within a
block of records whose last names share their first three letters (and, for contacts, the same
organization), and within a block rapidfuzz compares one name against the whole block in C, so
Python only looks at the few pairs whose names are already close.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import groupby
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower, Substr
from django.utils import timezone
from rapidfuzz import fuzz, process

from closeloop.accounts.actors import require_admin_or_manager
from closeloop.core.exceptions import DomainError
from closeloop.core.streaming import rows_streamed
from closeloop.people.models import Contact, ContactEmail, ContactPhone

from .choices import DuplicateScanState
from .dedupe import CANDIDATE_LIMIT, LIKELY_THRESHOLD, likely_evidence, similarity
from .models import DuplicatePair, DuplicateScan, Lead

PAIRS_PER_LEAD = 5  # as many as lead_create flags for a new lead
SCAN_BATCH = 1000
SCAN_STALE_AFTER = timedelta(hours=6)
# similarity() weighs the name 0.65 and the company 0.35: below this name score not even the
# same company can lift a pair to LIKELY_THRESHOLD, so such pairs are never looked at in Python.
NAME_CUTOFF = (LIKELY_THRESHOLD - 0.5 - 35) / 0.65


@dataclass(frozen=True)
class ScanResult:
    """What a duplicates scan looked at and what it found."""

    leads_checked: int
    pairs_flagged: int  # new lead–lead and lead–contact pairs
    contact_pairs: int  # new contact–contact pairs
    contacts_checked: int = 0


Candidate = tuple[int, int, int, str]  # newer lead, older lead or contact, score, evidence
Row = tuple[int, str, str, str, str]  # pk, first name, last name, company, block


def close_names(names: list[str], choices: list[str] | None = None) -> Iterator[tuple[int, int]]:
    """(i, j) where names[i] and choices[j] are close enough to be worth a full comparison.

    Without `choices`, names are compared among themselves, each pair once (i < j).
    """
    for i, name in enumerate(names):
        offset = i + 1 if choices is None else 0
        pool = names[offset:] if choices is None else choices
        for _, _, j in process.extract(
            name, pool, scorer=fuzz.token_sort_ratio, score_cutoff=NAME_CUTOFF, limit=None
        ):
            yield i, j + offset


def _lower_names(rows: list[Row]) -> list[str]:
    return [f"{row[1]} {row[2]}".lower() for row in rows]


def _blocked(queryset: Any, company: str, batch_size: int) -> Iterator[list[list[Row]]]:
    """Rows with a last name, grouped by its first three letters, a bounded batch at a time."""
    # streamed apart: the caller stores each batch's pairs before the next is read
    rows = rows_streamed(
        queryset.exclude(last_name="")
        .annotate(block=Lower(Substr("last_name", 1, 3)))
        .order_by("block", "pk")
        .values_list("pk", "first_name", "last_name", company, "block"),
        chunk_size=batch_size,
    )
    batch: list[list[Row]] = []
    size = 0
    for _, group in groupby(rows, key=lambda row: row[4]):
        members = [row for row in group if row[1] or row[3]]  # as find_likely: a name or company
        batch.append(members)
        size += len(members)
        if size >= batch_size:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _likely_in(batch: list[list[Row]]) -> tuple[list[Candidate], list[Candidate]]:
    """Similar leads within each block, and leads similar to a contact of the same block."""
    lead_pairs: list[Candidate] = []
    for members in batch:
        names = _lower_names(members)
        for i, j in close_names(names):
            one, two = members[i], members[j]
            score = similarity(names[i], one[3] or "", names[j], two[3] or "")
            if score >= LIKELY_THRESHOLD:
                # As on arrival: the newer lead is flagged, the evidence names the older.
                new, old = (one, two) if one[0] > two[0] else (two, one)
                evidence = likely_evidence(old[1], old[2], company=new[3], other_company=old[3])
                lead_pairs.append((new[0], old[0], min(score, 99), evidence))
    blocks = {members[0][4] for members in batch if members}
    contacts: dict[str, list[Row]] = {}
    for row in (
        Contact.objects.exclude(last_name="")
        .annotate(block=Lower(Substr("last_name", 1, 3)))
        .filter(block__in=blocks)
        .values_list("pk", "first_name", "last_name", "organization__name", "block")
    ):
        contacts.setdefault(row[4], []).append(row)
    contact_pairs: list[Candidate] = []
    for members in batch:
        block_contacts = contacts.get(members[0][4], [])[:CANDIDATE_LIMIT] if members else []
        if not block_contacts:
            continue
        names, contact_names = _lower_names(members), _lower_names(block_contacts)
        for i, j in close_names(names, contact_names):
            pk, _, _, company, _ = members[i]
            c_pk, c_first, c_last, org, _ = block_contacts[j]
            score = similarity(names[i], company, contact_names[j], org or "")
            if score >= LIKELY_THRESHOLD:
                evidence = likely_evidence(c_first, c_last, company=company, other_company=org)
                contact_pairs.append((pk, c_pk, min(score, 99), evidence))
    return lead_pairs, contact_pairs


def _shared(rows: Iterable[tuple[str, int]], label: str) -> list[Candidate]:
    """Rows (value, pk) ordered by value: each later record paired with the first."""
    pairs: list[Candidate] = []
    for value, group in groupby(rows, key=lambda row: row[0]):
        first, *later = sorted({pk for _, pk in group})
        pairs += [(pk, first, 100, f"same {label} {value}") for pk in later]
    return pairs


def _exact_leads(field: str, label: str, batch_size: int) -> Iterator[list[Candidate]]:
    """Leads sharing an email or phone: each later one paired with the first, in batches."""
    shared = (
        Lead.objects.exclude(**{field: ""})
        .values(field)
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list(field, flat=True)
    )
    values = list(shared.iterator(chunk_size=batch_size))
    for start in range(0, len(values), batch_size):
        rows = (
            Lead.objects.filter(**{f"{field}__in": values[start : start + batch_size]})
            .order_by(field, "pk")
            .values_list(field, "pk")
        )
        yield _shared(rows, label)


@transaction.atomic
def save_lead_pairs(lead_pairs: list[Candidate], contact_pairs: list[Candidate]) -> int:
    """Store pairs not flagged before in either direction (a dismissed pair stays dismissed)."""
    ids = {p[0] for p in lead_pairs} | {p[1] for p in lead_pairs} | {p[0] for p in contact_pairs}
    existing = DuplicatePair.objects.filter(Q(lead_id__in=ids) | Q(other_lead_id__in=ids))
    seen = set()
    for a, b, c in existing.values_list("lead_id", "other_lead_id", "other_contact_id"):
        seen.add((min(a, b), max(a, b), "l") if b else (a, c, "c"))
    per_lead: dict[int, int] = {}
    new = []
    for kind, pairs in (("l", lead_pairs), ("c", contact_pairs)):
        for lead_id, other_id, score, evidence in sorted(pairs, key=lambda p: -p[2]):
            key = (min(lead_id, other_id), max(lead_id, other_id), kind) if kind == "l" else (
                lead_id, other_id, kind)  # fmt: skip
            if key in seen or per_lead.get(lead_id, 0) >= PAIRS_PER_LEAD:
                continue
            seen.add(key)
            per_lead[lead_id] = per_lead.get(lead_id, 0) + 1
            other = {"other_lead_id": other_id} if kind == "l" else {"other_contact_id": other_id}
            new.append(
                DuplicatePair(lead_id=lead_id, score=score, evidence=evidence[:300], **other)
            )
    DuplicatePair.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


# Contacts -------------------------------------------------------------------------------------


@transaction.atomic
def save_contact_pairs(pairs: list[Candidate]) -> int:
    """Store contact pairs, the older contact first; one already stored (dismissed too) stays."""
    wanted: dict[tuple[int, int], tuple[int, str]] = {}
    for a, b, score, evidence in sorted(pairs, key=lambda p: -p[2]):
        if a != b:
            wanted.setdefault((min(a, b), max(a, b)), (score, evidence))
    if not wanted:
        return 0
    ids = {pk for key in wanted for pk in key}
    stored = set(
        DuplicatePair.objects.filter(contact_id__in=ids, other_contact_id__in=ids).values_list(
            "contact_id", "other_contact_id"
        )
    )
    new = [
        DuplicatePair(contact_id=a, other_contact_id=b, score=score, evidence=evidence[:300])
        for (a, b), (score, evidence) in wanted.items()
        if (a, b) not in stored and (b, a) not in stored
    ]
    DuplicatePair.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def contact_name_pairs(members: list[tuple[int, str, str, str]]) -> list[Candidate]:
    """Contacts of one organization and name block whose names are alike."""
    names = [f"{first} {last}".lower() for _, first, last, _ in members]
    pairs: list[Candidate] = []
    for i, j in close_names(names):
        (a, first_a, last_a, org), (b, first_b, last_b, _) = members[i], members[j]
        score = similarity(names[i], org, names[j], org)
        if score >= LIKELY_THRESHOLD:
            # as for leads, the evidence names the older record
            first, last = (first_a, last_a) if a < b else (first_b, last_b)
            pairs.append((a, b, min(score, 99), f"similar name at {org}: {first} {last}"))
    return pairs


def _scan_contacts(batch_size: int) -> tuple[int, int]:
    """(contacts compared, new pairs): the same email or phone, or a similar name at the same
    organization."""
    alive = Contact.objects.values("pk")
    flagged = 0
    for model, field, label in ((ContactEmail, "email", "email"), (ContactPhone, "e164", "phone")):
        shared = (
            model.objects.filter(contact__in=alive)
            .exclude(**{field: ""})
            .values(field)
            .annotate(n=Count("contact", distinct=True))
            .filter(n__gt=1)
            .values_list(field, flat=True)
        )
        values = list(shared.iterator(chunk_size=batch_size))
        for start in range(0, len(values), batch_size):
            rows = (
                model.objects.filter(
                    contact__in=alive, **{f"{field}__in": values[start : start + batch_size]}
                )
                .order_by(field, "contact_id")
                .values_list(field, "contact_id")
            )
            flagged += save_contact_pairs(_shared(rows, label))
    named = rows_streamed(  # pairs are stored while the rows are read
        Contact.objects.exclude(last_name="")
        .exclude(organization=None)
        .annotate(block=Lower(Substr("last_name", 1, 3)))
        .order_by("organization_id", "block", "pk")
        .values_list(
            "pk", "first_name", "last_name", "organization__name", "organization_id", "block"
        ),
        chunk_size=batch_size,
    )
    checked = Contact.objects.count()
    pending: list[Candidate] = []
    for _, group in groupby(named, key=lambda row: (row[4], row[5])):
        members = [(pk, first, last, org) for pk, first, last, org, _, _ in group]
        if len(members) > 1:
            pending += contact_name_pairs(members[:CANDIDATE_LIMIT])
        if len(pending) >= batch_size:
            flagged, pending = flagged + save_contact_pairs(pending), []
    flagged += save_contact_pairs(pending)
    return checked, flagged


def contact_duplicates_flag(*, contact: Contact) -> int:
    """Store pairs between `contact` and the other contacts with its email or phone, or a similar
    name at its organization; a pair once dismissed stays dismissed. Returns how many are new."""
    pairs: list[Candidate] = []
    emails = ContactEmail.objects.filter(contact=contact).values("email")
    for email, other in (
        ContactEmail.objects.filter(email__in=emails, contact__deleted_at__isnull=True)
        .exclude(contact=contact)
        .values_list("email", "contact_id")[:CANDIDATE_LIMIT]
    ):
        pairs.append((contact.pk, other, 100, f"same email {email}"))
    phones = ContactPhone.objects.filter(contact=contact).exclude(e164="").values("e164")
    for e164, other in (
        ContactPhone.objects.filter(e164__in=phones, contact__deleted_at__isnull=True)
        .exclude(contact=contact)
        .values_list("e164", "contact_id")[:CANDIDATE_LIMIT]
    ):
        pairs.append((contact.pk, other, 100, f"same phone {e164}"))
    if contact.organization_id and contact.last_name.strip():
        org = contact.organization.name if contact.organization else ""
        others = (
            Contact.objects.filter(
                organization_id=contact.organization_id,
                last_name__istartswith=contact.last_name.strip()[:3],
            )
            .exclude(pk=contact.pk)
            .values_list("pk", "first_name", "last_name")[:CANDIDATE_LIMIT]
        )
        members = [(contact.pk, contact.first_name, contact.last_name, org)]
        members += [(pk, first, last, org) for pk, first, last in others]
        pairs += [p for p in contact_name_pairs(members) if p[0] == contact.pk]
    return save_contact_pairs(pairs)


def duplicates_scan(*, actor: Any, batch_size: int = SCAN_BATCH) -> ScanResult:
    """Flag likely and exact duplicates among existing leads and contacts (admins and managers).

    Not one transaction on purpose: each batch of similar last names commits on its own, so a
    large workspace is scanned in bounded memory and a stopped scan keeps what it found.
    """
    require_admin_or_manager(actor, "Only admins and managers can scan for duplicates.")
    checked = flagged = 0
    for batch in _blocked(Lead.objects.all(), "company_name", batch_size):
        checked += sum(len(members) for members in batch)
        flagged += save_lead_pairs(*_likely_in(batch))
    for field, label in (("email", "email"), ("phone_e164", "phone")):
        for pairs in _exact_leads(field, label, batch_size):
            flagged += save_lead_pairs(pairs, [])
    contacts_checked, contact_pairs = _scan_contacts(batch_size)
    return ScanResult(
        leads_checked=checked,
        pairs_flagged=flagged,
        contact_pairs=contact_pairs,
        contacts_checked=contacts_checked,
    )


# Running the scan in the background ----------------------------------------------------------


def duplicates_scan_queue(*, actor: Any) -> DuplicateScan:
    """Queue a full scan for the background worker (admins, managers or the command line with
    no actor; one at a time)."""
    require_admin_or_manager(actor, "Only admins and managers can scan for duplicates.")
    from .duplicate_tasks import duplicates_scan_task

    with transaction.atomic():
        # A scan whose worker died long ago no longer blocks a new one.
        recent = timezone.now() - SCAN_STALE_AFTER
        busy = DuplicateScan.objects.select_for_update().filter(
            state__in=[DuplicateScanState.QUEUED, DuplicateScanState.RUNNING],
            created_at__gte=recent,
        )
        if busy.exists():
            raise DomainError("A duplicate scan is already queued or running.")
        scan = DuplicateScan.objects.create(requested_by=actor if actor is not None else None)
    # enqueued after the commit, so the worker never sees a scan row that is not there yet
    duplicates_scan_task.enqueue(scan_id=scan.pk)
    scan.refresh_from_db()
    return scan


def duplicates_scan_run(*, scan: DuplicateScan) -> DuplicateScan:
    """Run a queued scan, writing when it started and finished and what it found (or why not)."""
    DuplicateScan.objects.filter(pk=scan.pk).update(
        state=DuplicateScanState.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    )
    try:
        result = duplicates_scan(actor=None)
    except Exception as exc:  # recorded for the page; the worker logs the traceback
        DuplicateScan.objects.filter(pk=scan.pk).update(
            state=DuplicateScanState.FAILED, error=str(exc)[:2000],
            finished_at=timezone.now(), updated_at=timezone.now(),
        )  # fmt: skip
        raise
    DuplicateScan.objects.filter(pk=scan.pk).update(
        state=DuplicateScanState.DONE, finished_at=timezone.now(), updated_at=timezone.now(),
        leads_checked=result.leads_checked, contacts_checked=result.contacts_checked,
        pairs_flagged=result.pairs_flagged + result.contact_pairs,
    )  # fmt: skip
    scan.refresh_from_db()
    return scan
