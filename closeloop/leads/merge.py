"""Merging duplicate leads and contacts, and scanning existing leads for likely duplicates.

A merge is one transaction: the winner takes the chosen field values, everything attached to
the loser moves to the winner, the merge is written on the winner's timeline, and the loser goes
to the trash (restorable, but with nothing attached to it any more).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Model, Q
from django.db.models.functions import Lower, Substr
from django.utils import timezone

from closeloop.accounts.models import User
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.people.models import Contact, ContactEmail, ContactPhone
from closeloop.pipeline.models import Deal

from .choices import DuplicateState
from .dedupe import CANDIDATE_LIMIT, LIKELY_THRESHOLD, similarity
from .duplicate_selectors import (
    CONTACT_MERGE_FIELDS,
    LEAD_MERGE_FIELDS,
    contact_pair_candidates,
    model_field,
)
from .models import DuplicatePair, Lead

SIDES = ("winner", "loser")
# Values that only make sense together travel together.
COMPANIONS = {"phone": ("phone_e164",), "marketing_consent": ("consent_at", "consent_method")}
PAIRS_PER_LEAD = 5  # as many as lead_create flags for a new lead
SCAN_BATCH = 1000


def _actor(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


def _lock_both(model: type[Model], winner: Any, loser: Any, actor: Any) -> tuple[Any, Any]:
    if winner.pk == loser.pk:
        raise DomainError("A record cannot be merged with itself.")
    qs = model.objects.select_for_update().filter(pk__in=[winner.pk, loser.pk])  # type: ignore[attr-defined]
    if actor is not None:
        qs = qs.visible_to(actor)
    found = {obj.pk: obj for obj in qs}
    if len(found) < 2:
        noun = model._meta.verbose_name_plural
        raise DomainError(f"One of these {noun} does not exist or is not visible to you.")
    return found[winner.pk], found[loser.pk]


def _label(model: type[Model], name: str) -> str:
    return str(model_field(model, name).verbose_name)


def _take_chosen(
    winner: Model, loser: Model, choices: dict[str, str], fields: tuple[str, ...]
) -> list[str]:
    """Copy the fields chosen from the loser onto the winner; the names of those that changed."""
    unknown = sorted(set(choices) - set(fields))
    if unknown:
        raise DomainError(f"These fields cannot be merged: {', '.join(unknown)}.")
    wrong = sorted(name for name, side in choices.items() if side not in SIDES)
    if wrong:
        raise DomainError(f"Choose the winner's or the loser's value for: {', '.join(wrong)}.")
    taken = []
    for name in fields:
        attname = model_field(winner, name).attname
        if choices.get(name) != "loser" or getattr(winner, attname) == getattr(loser, attname):
            continue
        for attr in (attname, *COMPANIONS.get(name, ())):
            setattr(winner, attr, getattr(loser, attr))
        taken.append(_label(type(winner), name))
    return taken


def _inherit(winner: Model, loser: Model, names: tuple[str, ...]) -> list[str]:
    """Attribution and history the winner lacks come from the loser (campaign, import batch)."""
    taken = []
    for name in names:
        attname = model_field(winner, name).attname
        if getattr(winner, attname) is None and getattr(loser, attname) is not None:
            setattr(winner, attname, getattr(loser, attname))
            taken.append(_label(type(winner), name))
    return taken


def _close_pairs(between: Q, actor: Any, now: Any) -> None:
    DuplicatePair.objects.filter(between).exclude(state=DuplicateState.MERGED).update(
        state=DuplicateState.MERGED, resolved_by=_actor(actor), resolved_at=now, updated_at=now
    )


def _move_lead_pairs(winner: Lead, loser: Lead) -> None:
    """Pairs that name the loser name the winner instead, unless the winner has that pair."""
    mine = DuplicatePair.objects.filter(Q(lead=winner) | Q(other_lead=winner))
    keys: set[frozenset[tuple[str, int | None]]] = {
        frozenset({("l", a), ("l", b) if b else ("c", c)})
        for a, b, c in mine.values_list("lead_id", "other_lead_id", "other_contact_id")
    }
    others = DuplicatePair.objects.filter(Q(lead=loser) | Q(other_lead=loser)).exclude(
        Q(lead=winner) | Q(other_lead=winner)
    )
    for pair in others:
        lead_id = winner.pk if pair.lead_id == loser.pk else pair.lead_id
        other_id = winner.pk if pair.other_lead_id == loser.pk else pair.other_lead_id
        key = frozenset(
            {("l", lead_id), ("l", other_id) if other_id else ("c", pair.other_contact_id)}
        )
        if key in keys:
            pair.delete()  # the winner already has this pair; two would show it twice
            continue
        keys.add(key)
        DuplicatePair.objects.filter(pk=pair.pk).update(lead_id=lead_id, other_lead_id=other_id)


def _record(*, actor: Any, winner: Any, loser: Any, taken: list[str], moved: str) -> None:
    body = [
        f"Fields taken from #{loser.pk}: {', '.join(taken)}."
        if taken
        else "Every field kept this record's value.",
        f"Moved here: {moved}.",
    ]
    if loser.notes and loser.notes != winner.notes:
        body.append(f"Notes of the merged record:\n{loser.notes}")
    Activity.objects.create(
        kind=ActivityKind.CHANGE,
        subject=f"Merged {loser.full_name} (#{loser.pk})"[:200],
        body="\n".join(body),
        actor=_actor(actor),
        **(
            {"lead": winner}
            if isinstance(winner, Lead)
            else {"contact": winner, "organization_id": winner.organization_id}
        ),
    )


def _trash(loser: Any, actor: Any, now: Any) -> None:
    loser.deleted_at = now
    loser.deleted_by = _actor(actor)
    loser.save(update_fields=["deleted_at", "deleted_by", "updated_at"])


def _count(n: int, noun: str, plural: str = "") -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


@transaction.atomic
def lead_merge(*, actor: Any, winner: Lead, loser: Lead, choices: dict[str, str]) -> Lead:
    """Merge two leads the actor sees into `winner`; the loser's timeline moves, it is trashed."""
    winner, loser = _lock_both(Lead, winner, loser, actor)
    taken = _take_chosen(winner, loser, choices, LEAD_MERGE_FIELDS)
    taken += _inherit(winner, loser, ("campaign", "source", "import_batch"))
    now = timezone.now()
    winner.save()
    activities = Activity.objects.filter(lead=loser).update(lead=winner)
    _close_pairs(Q(lead=winner, other_lead=loser) | Q(lead=loser, other_lead=winner), actor, now)
    _move_lead_pairs(winner, loser)
    _record(
        actor=actor, winner=winner, loser=loser, taken=taken,
        moved=_count(activities, "timeline entry", "timeline entries"),
    )  # fmt: skip
    _trash(loser, actor, now)
    return winner


def _move_emails(winner: Contact, loser: Contact) -> int:
    have = set(winner.emails.values_list("email", flat=True))
    # A contact without emails takes the loser's primary as its own.
    extra = {} if not have else {"is_primary": False}
    return (
        ContactEmail.objects.filter(contact=loser)
        .exclude(email__in=have)
        .update(contact=winner, **extra)
    )


def _move_phones(winner: Contact, loser: Contact) -> int:
    existing = list(winner.phones.values_list("e164", "raw"))
    e164s = {e164 for e164, _ in existing if e164}
    raws = {raw.strip() for e164, raw in existing if not e164}
    moving = [
        phone.pk
        for phone in loser.phones.all()
        if not (phone.e164 in e164s if phone.e164 else phone.raw.strip() in raws)
    ]
    extra = {} if not existing else {"is_primary": False}
    return ContactPhone.objects.filter(pk__in=moving).update(contact=winner, **extra)


def _move_contact_pairs(winner: Contact, loser: Contact) -> None:
    """Lead pairs that name the loser name the winner instead, unless the winner has that pair."""
    have = set(DuplicatePair.objects.filter(other_contact=winner).values_list("lead_id", flat=True))
    DuplicatePair.objects.filter(other_contact=loser, lead_id__in=have).delete()
    DuplicatePair.objects.filter(other_contact=loser).update(other_contact=winner)


@transaction.atomic
def contact_merge(
    *, actor: Any, winner: Contact, loser: Contact, choices: dict[str, str]
) -> Contact:
    """Merge two contacts the actor sees; deals, timeline, emails and phones move to `winner`."""
    winner, loser = _lock_both(Contact, winner, loser, actor)
    taken = _take_chosen(winner, loser, choices, CONTACT_MERGE_FIELDS)
    taken += _inherit(winner, loser, ("import_batch",))
    now = timezone.now()
    winner.save()
    emails, phones = _move_emails(winner, loser), _move_phones(winner, loser)
    # Trashed deals move too, so restoring one never brings back a link to the trashed loser.
    deals = Deal.with_trashed.filter(contact=loser).update(
        contact=winner, version=F("version") + 1, updated_at=now
    )
    activities = Activity.objects.filter(contact=loser).update(contact=winner)
    _move_contact_pairs(winner, loser)
    moved = ", ".join(
        [
            _count(activities, "timeline entry", "timeline entries"),
            _count(deals, "deal"),
            _count(emails, "email"),
            _count(phones, "phone"),
        ]
    )
    _record(actor=actor, winner=winner, loser=loser, taken=taken, moved=moved)
    _trash(loser, actor, now)
    return winner


# Scanning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What a duplicates scan looked at and what it found."""

    leads_checked: int
    pairs_flagged: int
    contact_pairs: int


Candidate = tuple[int, int, int, str]  # newer lead, older lead or contact, score, evidence
LeadRow = tuple[int, str, str, str, str]  # pk, first name, last name, company, block


def _lead_blocks(batch_size: int) -> Iterator[list[list[LeadRow]]]:
    """Leads with a last name, grouped by its first three letters, a bounded batch at a time."""
    rows = (
        Lead.objects.exclude(last_name="")
        .annotate(block=Lower(Substr("last_name", 1, 3)))
        .order_by("block", Lower("last_name"), Lower("first_name"), "pk")
        .values_list("pk", "first_name", "last_name", "company_name", "block")
        .iterator(chunk_size=batch_size)
    )
    batch: list[list[LeadRow]] = []
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


def _evidence(first: str, last: str, company: str, other_company: str) -> str:
    both = " and company" if company and other_company else ""
    at = f", {other_company}" if other_company else ""
    return f"similar name{both}: {first} {last}{at}"


def _likely_in(batch: list[list[LeadRow]]) -> tuple[list[Candidate], list[Candidate]]:
    """Similar leads within each block (neighbours in name order), and similar contacts."""
    lead_pairs: list[Candidate] = []
    for members in batch:
        for i, one in enumerate(members):
            for two in members[i + 1 : i + 1 + CANDIDATE_LIMIT]:
                score = similarity(f"{one[1]} {one[2]}", one[3], f"{two[1]} {two[2]}", two[3])
                if score >= LIKELY_THRESHOLD:
                    # As on arrival: the newer lead is flagged, the evidence names the older.
                    new, old = (one, two) if one[0] > two[0] else (two, one)
                    evidence = _evidence(old[1], old[2], new[3], old[3])
                    lead_pairs.append((new[0], old[0], min(score, 99), evidence))
    blocks = {members[0][4] for members in batch if members}
    contacts: dict[str, list[tuple[int, str, str, str]]] = {}
    for c_pk, c_first, c_last, org, block in (
        Contact.objects.exclude(last_name="")
        .annotate(block=Lower(Substr("last_name", 1, 3)))
        .filter(block__in=blocks)
        .values_list("pk", "first_name", "last_name", "organization__name", "block")
    ):
        contacts.setdefault(block, []).append((c_pk, c_first, c_last, org or ""))
    contact_pairs: list[Candidate] = []
    for members in batch:
        block_contacts = contacts.get(members[0][4], [])[:CANDIDATE_LIMIT] if members else []
        for pk, first, last, company, _ in members:
            for c_pk, c_first, c_last, org in block_contacts:
                score = similarity(f"{first} {last}", company, f"{c_first} {c_last}", org)
                if score >= LIKELY_THRESHOLD:
                    evidence = _evidence(c_first, c_last, company, org)
                    contact_pairs.append((pk, c_pk, min(score, 99), evidence))
    return lead_pairs, contact_pairs


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
        pairs: list[Candidate] = []
        for value, group in groupby(rows, key=lambda row: row[0]):
            first, *later = [pk for _, pk in group]
            pairs += [(pk, first, 100, f"same {label} {value}") for pk in later]
        yield pairs


@transaction.atomic
def _save_flags(lead_pairs: list[Candidate], contact_pairs: list[Candidate]) -> int:
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


def duplicates_scan(*, actor: Any, batch_size: int = SCAN_BATCH) -> ScanResult:
    """Flag likely and exact duplicates among existing leads (admins and managers only).

    Not one transaction on purpose: each batch of similar last names commits on its own, so a
    large workspace is scanned in bounded memory and a stopped scan keeps what it found.
    """
    if actor is not None and getattr(actor, "role", None) not in ("admin", "manager"):
        raise DomainError("Only admins and managers can scan for duplicates.")
    checked = flagged = 0
    for batch in _lead_blocks(batch_size):
        checked += sum(len(members) for members in batch)
        flagged += _save_flags(*_likely_in(batch))
    for field, label in (("email", "email"), ("phone_e164", "phone")):
        for pairs in _exact_leads(field, label, batch_size):
            flagged += _save_flags(pairs, [])
    contact_pairs = len(contact_pair_candidates(contacts=Contact.objects.all(), limit=10_000))
    return ScanResult(leads_checked=checked, pairs_flagged=flagged, contact_pairs=contact_pairs)
