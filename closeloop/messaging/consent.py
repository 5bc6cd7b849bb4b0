"""Marketing consent and the suppression list: who may receive promotional email.

A contact receives marketing mail only with consent *and* an address that is not suppressed.
Unsubscribing withdraws the consent and suppresses the address at once; the outbox checks the
suppression list again when it sends, so mail already queued is not sent either. Every change is
recorded (`ConsentChange`) with when, how and by whom.
"""

from __future__ import annotations

import hashlib
from email.utils import getaddresses
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.core.exceptions import DomainError
from closeloop.people.models import Contact
from closeloop.people.services import contact_consent_set

from .choices import SuppressionReason
from .models import ConsentChange, Suppression


def email_key(email: str) -> str:
    return (email or "").strip().lower()


def email_hash(email: str) -> str:
    """How the suppression list keeps an erased person's address: the SHA-256 of it, lower-case."""
    return hashlib.sha256(email_key(email).encode()).hexdigest()


def email_suppressed(email: str) -> bool:
    """True when marketing mail must not go to this address (listed as it is, or hashed)."""
    key = email_key(email)
    return Suppression.objects.filter(Q(email=key) | Q(email_hash=email_hash(key))).exists()


def suppressed_among(emails: list[str]) -> set[str]:
    """The suppressed addresses among `emails` (bare or "Name <address>"), lower-case, in one
    query (addresses listed as they are or hashed)."""
    keys = {email_key(address) for _, address in getaddresses(emails) if address}
    hashes = {email_hash(key): key for key in keys}
    found = set()
    for email, hashed in Suppression.objects.filter(
        Q(email__in=keys) | Q(email_hash__in=list(hashes))
    ).values_list("email", "email_hash"):
        found.add(email if email in keys else hashes[hashed])
    return found


@transaction.atomic
def suppression_erase_address(*, email: str) -> Suppression:
    """An erased person's address: never mailed again, kept only hashed. An entry it already
    had (unsubscribed, bounced…) keeps its reason and loses the address; otherwise one is made."""
    key = email_key(email)
    hashed = email_hash(key)
    Suppression.objects.filter(email=key).update(
        email=None, email_hash=hashed, contact=None, source=""
    )
    entry = Suppression.objects.filter(email_hash=hashed).order_by("pk").first()
    if entry is None:
        entry = Suppression.objects.create(
            email=None, email_hash=hashed, reason=SuppressionReason.ERASED
        )
    return entry


@transaction.atomic
def suppression_add(
    *, email: str, reason: str, source: str = "", contact: Contact | None = None
) -> Suppression:
    """Put an address on the suppression list (again: keeps the first entry)."""
    key = email_key(email)
    if not key or "@" not in key:
        raise DomainError(f"'{email}' is not an email address.", field="email")
    if reason not in SuppressionReason.values:
        raise DomainError(f"'{reason}' is not a suppression reason.", field="reason")
    entry, _ = Suppression.objects.get_or_create(
        email=key, defaults={"reason": reason, "source": source[:200], "contact": contact}
    )
    return entry


@transaction.atomic
def marketing_consent_set(
    *, actor: Any, contact: Contact, granted: bool, source: str, email: str = ""
) -> Contact:
    """Give or withdraw a contact's marketing consent, recording when, how and by whom.

    Granting it again (the person asked to be mailed) lifts an unsubscribe suppression of the
    address; a bounce or complaint stays."""
    source = (source or "").strip()
    if not source:
        raise DomainError("Say how the consent was given or withdrawn.", field="source")
    now = timezone.now()
    contact_consent_set(actor=actor, contact=contact, granted=granted, at=now, method=source)
    address = email_key(email) or email_key(_primary_email(contact))
    ConsentChange.objects.create(
        contact=contact,
        email=address,
        granted=granted,
        at=now,
        source=source[:200],
        actor=acting_user(actor),
    )
    if granted and address:
        Suppression.objects.filter(email=address, reason=SuppressionReason.UNSUBSCRIBED).delete()
    return contact


@transaction.atomic
def marketing_unsubscribe(*, email: str, contact: Contact | None, source: str) -> Suppression:
    """The person asked for no more marketing mail: suppress the address, withdraw consent."""
    entry = suppression_add(
        email=email, reason=SuppressionReason.UNSUBSCRIBED, source=source, contact=contact
    )
    if contact is not None and contact.marketing_consent:
        marketing_consent_set(
            actor=None, contact=contact, granted=False, source=source, email=email
        )
    else:
        ConsentChange.objects.create(
            contact=contact,
            email=email_key(email),
            granted=False,
            at=timezone.now(),
            source=source[:200],
        )
    return entry


def _primary_email(contact: Contact) -> str:
    first = contact.emails.values_list("email", flat=True).first()  # primary first
    return first or ""
