"""Duplicate checks for lead imports: exact ones per chunk, likely ones after the last chunk."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from closeloop.people.models import ContactEmail, ContactPhone

from ..dedupe import find_likely
from ..models import ImportBatch, Lead
from ..services.leads import likely_matches_store
from . import likely_duplicates
from .likely_duplicates import flagged_note, over_limit_note

PRELOAD_LIMIT = 500_000


class ExistingIndex:
    """Emails and phones of existing leads and contacts, for the exact-duplicate check.

    Up to PRELOAD_LIMIT records are read once into memory (two streamed queries), so a chunk
    costs no queries at all; a larger database is asked once per chunk and key instead.
    """

    def __init__(self) -> None:
        self.loaded: dict[str, dict[Any, tuple[str, int]]] | None = None
        size = Lead.objects.count() + ContactEmail.objects.count() + ContactPhone.objects.count()
        if size <= PRELOAD_LIMIT:
            self.loaded = self._query(None, None)

    def _query(self, emails: set[str] | None, phones: set[str] | None) -> dict[str, dict]:
        found: dict[str, dict[Any, tuple[str, int]]] = {"email": {}, "phone": {}}
        leads = Lead.objects.order_by()
        contact_emails = ContactEmail.objects.filter(contact__deleted_at__isnull=True).order_by()
        contact_phones = ContactPhone.objects.filter(contact__deleted_at__isnull=True).order_by()
        if emails is None or emails:
            qs = leads.exclude(email="") if emails is None else leads.filter(email__in=emails)
            for email, pk in qs.values_list("email", "pk").iterator(chunk_size=10_000):
                found["email"].setdefault(email, ("lead", pk))
            ce = contact_emails if emails is None else contact_emails.filter(email__in=emails)
            for email, pk in ce.values_list("email", "contact_id").iterator(chunk_size=10_000):
                found["email"].setdefault(email, ("contact", pk))
        if phones is None or phones:
            qs = (
                leads.exclude(phone_e164="")
                if phones is None
                else leads.filter(phone_e164__in=phones)
            )
            for phone, pk in qs.values_list("phone_e164", "pk").iterator(chunk_size=10_000):
                found["phone"].setdefault(phone, ("lead", pk))
            cp = (
                contact_phones.exclude(e164="")
                if phones is None
                else contact_phones.filter(e164__in=phones)
            )
            for phone, pk in cp.values_list("e164", "contact_id").iterator(chunk_size=10_000):
                found["phone"].setdefault(phone, ("contact", pk))
        return found

    def lookup(self, values: list[dict[str, Any]]) -> dict[str, dict[Any, tuple[str, int]]]:
        """Existing records by email and by phone: key -> ('lead' or 'contact', id)."""
        if self.loaded is not None:
            return self.loaded
        emails = {v["email"] for v in values if v.get("email")}
        phones = {v["phone_e164"] for v in values if v.get("phone_e164")}
        return self._query(emails, phones)

    def add(self, kind: str, value: Any, record: tuple[str, int]) -> None:
        if self.loaded is not None and value:
            self.loaded[kind].setdefault(value, record)


class WrittenKeys:
    """The keys (emails or phones) earlier chunks of an import wrote, as a bitmap of their
    hashes: a key written is always reported, a few never written are too (1 % for a million
    keys), so the caller confirms the candidates against the database.
    """

    BITS = 1 << 26  # 8 MB

    def __init__(self) -> None:
        self.bits = bytearray(self.BITS >> 3)

    def add(self, keys: Iterable[Any]) -> None:
        bits, mask = self.bits, self.BITS - 1
        for key in keys:
            h = hash(key) & mask
            bits[h >> 3] |= 1 << (h & 7)

    def candidates(self, keys: Iterable[Any]) -> set[Any]:
        """The non-empty keys among `keys` that an earlier chunk may have written."""
        bits, mask = self.bits, self.BITS - 1
        found = set()
        for key in keys:
            if key:
                h = hash(key) & mask
                if bits[h >> 3] & (1 << (h & 7)):
                    found.add(key)
        return found


def flag_likely_duplicates(batch: ImportBatch) -> dict[str, Any]:
    """Flag new leads with a similar name at a similar company (up to LIKELY_CHECK_LIMIT; more
    queue the full scan instead)."""
    created = Lead.objects.filter(import_batch=batch)
    count = created.count()
    if count > likely_duplicates.LIKELY_CHECK_LIMIT:
        return over_limit_note(batch, count=count, noun="lead")
    flagged = 0
    named = created.filter(~Q(last_name="")).only("pk", "first_name", "last_name", "company_name")
    # two look-alike rows of one file find each other; the pair is stored once, as first found
    paired: set[tuple[int, int]] = set()
    for lead in named:
        matches = [
            m
            for m in find_likely(
                first_name=lead.first_name,
                last_name=lead.last_name,
                company=lead.company_name,
                exclude_lead_id=lead.pk,
            )
            if (m.lead_id, lead.pk) not in paired
        ]
        # likely_matches_store keeps the best five, so only those count as paired
        paired.update((lead.pk, m.lead_id) for m in matches[:5] if m.lead_id is not None)
        if matches:
            flagged += 1
            likely_matches_store(lead, matches)
    return flagged_note(flagged=flagged, noun="lead")
