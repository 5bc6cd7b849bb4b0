"""Merging duplicate leads and contacts (the scan that finds them is in duplicate_scan.py).

A merge is one transaction: the winner takes the chosen field values, everything attached to
the loser moves to the winner, the merge is written on the winner's timeline, and the loser goes
to the trash (restorable, but with nothing attached to it any more).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, Model, Q
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.core.audit import audit_diff, audit_record, audit_snapshot
from closeloop.core.exceptions import DomainError
from closeloop.core.models import AuditAction
from closeloop.integrations.payloads import contact_merge_data
from closeloop.integrations.services import webhook_event_emit
from closeloop.people.models import Contact, ContactEmail, ContactPhone
from closeloop.people.services import contact_email_texts, contact_phone_texts
from closeloop.pipeline.models import Deal

from .choices import DuplicateState
from .duplicate_selectors import CONTACT_MERGE_FIELDS, LEAD_MERGE_FIELDS, model_field
from .models import DuplicatePair, Lead

SIDES = ("winner", "loser")
# Values that only make sense together travel together.
COMPANIONS = {"phone": ("phone_e164",), "marketing_consent": ("consent_at", "consent_method")}


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
        state=DuplicateState.MERGED, resolved_by=acting_user(actor), resolved_at=now, updated_at=now
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
        actor=acting_user(actor),
        **(
            {"lead": winner}
            if isinstance(winner, Lead)
            else {"contact": winner, "organization_id": winner.organization_id}
        ),
    )


def _trash(loser: Any, actor: Any, now: Any) -> None:
    loser.deleted_at = now
    loser.deleted_by = acting_user(actor)
    loser.version += 1
    loser.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])


def _ref(record: Any) -> dict[str, Any]:
    return {"id": record.pk, "label": str(record)}


def _audit_merge(
    *,
    actor: Any,
    winner: Any,
    loser: Any,
    before: dict[str, Any],
    moved: str,
    extra: dict[str, list[Any]] | None = None,
) -> None:
    """One entry on each side: the winner's says what it took and from whom, the loser's where
    it went (it is in the trash from then on)."""
    changes: dict[str, list[Any]] = dict(audit_diff(winner, before))
    for name, (old, new) in (extra or {}).items():
        if old != new:
            changes[name] = [old, new]
    changes["merged_from"] = [None, _ref(loser)]
    changes["moved_here"] = [None, moved]
    audit_record(actor=actor, obj=winner, action=AuditAction.MERGE, changes=changes)
    audit_record(
        actor=actor,
        obj=loser,
        action=AuditAction.MERGE,
        changes={"merged_into": [None, _ref(winner)]},
    )


def _count(n: int, noun: str, plural: str = "") -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


@transaction.atomic
def lead_merge(*, actor: Any, winner: Lead, loser: Lead, choices: dict[str, str]) -> Lead:
    """Merge two leads the actor sees into `winner`; the loser's timeline moves, it is trashed."""
    winner, loser = _lock_both(Lead, winner, loser, actor)
    before = audit_snapshot(winner)
    taken = _take_chosen(winner, loser, choices, LEAD_MERGE_FIELDS)
    taken += _inherit(winner, loser, ("campaign", "source", "import_batch"))
    now = timezone.now()
    winner.version += 1
    winner.save()
    activities = Activity.objects.filter(lead=loser).update(lead=winner)
    # Trashed deals move too, so restoring one never links it to the trashed loser.
    deals = Deal.with_trashed.filter(lead=loser).update(
        lead=winner, version=F("version") + 1, updated_at=now
    )
    _close_pairs(Q(lead=winner, other_lead=loser) | Q(lead=loser, other_lead=winner), actor, now)
    _move_lead_pairs(winner, loser)
    moved = ", ".join(
        [_count(activities, "timeline entry", "timeline entries"), _count(deals, "deal")]
    )
    _record(actor=actor, winner=winner, loser=loser, taken=taken, moved=moved)
    _trash(loser, actor, now)
    _audit_merge(actor=actor, winner=winner, loser=loser, before=before, moved=moved)
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
    """Pairs that name the loser name the winner instead, unless the winner has that pair.

    Contact–contact pairs keep the lower id first, as the scan stores them.
    """
    have = set(DuplicatePair.objects.filter(other_contact=winner).values_list("lead_id", flat=True))
    DuplicatePair.objects.filter(other_contact=loser, lead_id__in=have).delete()
    DuplicatePair.objects.filter(other_contact=loser, lead__isnull=False).update(
        other_contact=winner
    )
    mine = DuplicatePair.objects.filter(Q(contact=winner) | Q(other_contact=winner), lead=None)
    keys = {frozenset(key) for key in mine.values_list("contact_id", "other_contact_id")}
    naming_loser = DuplicatePair.objects.filter(
        Q(contact=loser) | Q(other_contact=loser), lead=None
    )
    for pair in naming_loser.exclude(Q(contact=winner) | Q(other_contact=winner)):
        other = pair.other_contact_id if pair.contact_id == loser.pk else pair.contact_id
        assert other is not None
        key = frozenset((winner.pk, other))
        if key in keys:
            pair.delete()  # the winner already has this pair; two would show it twice
            continue
        keys.add(key)
        DuplicatePair.objects.filter(pk=pair.pk).update(
            contact_id=min(key), other_contact_id=max(key)
        )


@transaction.atomic
def contact_merge(
    *, actor: Any, winner: Contact, loser: Contact, choices: dict[str, str]
) -> Contact:
    """Merge two contacts the actor sees; deals, timeline, emails and phones move to `winner`."""
    winner, loser = _lock_both(Contact, winner, loser, actor)
    before = audit_snapshot(winner)
    texts_before = {"emails": contact_email_texts(winner), "phones": contact_phone_texts(winner)}
    taken = _take_chosen(winner, loser, choices, CONTACT_MERGE_FIELDS)
    taken += _inherit(winner, loser, ("import_batch",))
    now = timezone.now()
    winner.version += 1
    winner.save()
    emails, phones = _move_emails(winner, loser), _move_phones(winner, loser)
    # Trashed deals move too, so restoring one never brings back a link to the trashed loser.
    deals = Deal.with_trashed.filter(contact=loser).update(
        contact=winner, version=F("version") + 1, updated_at=now
    )
    activities = Activity.objects.filter(contact=loser).update(contact=winner)
    _close_pairs(
        Q(contact=winner, other_contact=loser) | Q(contact=loser, other_contact=winner), actor, now
    )
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
    _audit_merge(
        actor=actor,
        winner=winner,
        loser=loser,
        before=before,
        moved=moved,
        extra={
            "emails": [texts_before["emails"], contact_email_texts(winner)],
            "phones": [texts_before["phones"], contact_phone_texts(winner)],
        },
    )
    webhook_event_emit(
        name="contact.merged", payload=contact_merge_data(winner, loser), owners=[winner.owner_id]
    )
    return winner
