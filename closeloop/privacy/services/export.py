"""Everything stored about one contact, as a zip: `contact.json` and the files (attachments
of the mail to and from them, the PDFs of the proposals they were sent). Each export is
logged on the contact (who, when, how much) without the data itself."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from closeloop.accounts.actors import require_admin_or_manager
from closeloop.core.audit import audit_record, json_safe
from closeloop.core.exceptions import DomainError
from closeloop.core.models import AuditAction, AuditEntry
from closeloop.people.models import Contact
from closeloop.pipeline.models import StageChange

from ..selectors import Footprint, contact_footprint, may_export

FORMAT = "closeloop-contact-export/1"
SKIPPED = frozenset({"claim_token"})  # the outbox's internal bookkeeping, not about anyone


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: how many records and files (the audit entry says the same)."""

    records: int
    files: int
    missing_files: int
    name: str


def record_json(obj: models.Model) -> dict[str, Any]:
    """A record's stored values, foreign keys as `<name>_id`, files by their stored name."""
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.name in SKIPPED:
            continue
        value = getattr(obj, field.attname)
        data[field.attname] = json_safe(value)
    return data


class _Zip:
    """The archive being written: the files it holds, named under `files/`."""

    def __init__(self, target: IO[bytes]) -> None:
        self.archive = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED)
        self.files = 0
        self.missing = 0

    def add_file(self, stored: FieldFile, folder: str, filename: str = "") -> dict[str, Any]:
        """Copy a stored file in; its entry says where it is in the zip, or that it is gone."""
        base = (filename or (stored.name or "file").rsplit("/", 1)[-1]).replace("/", "_")
        path = f"files/{folder}/{base}"
        try:
            with stored.open("rb") as source, self.archive.open(path, "w") as copy:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    copy.write(chunk)
        except (FileNotFoundError, OSError, ValueError):
            self.missing += 1
            return {"stored_as": stored.name, "missing": True}
        self.files += 1
        return {"path": path}


def _files(zip_: _Zip, rows: Any, folder: str) -> list[dict[str, Any]]:
    return [
        {**record_json(row), **zip_.add_file(row.file, f"{folder}/{row.pk}", row.filename)}
        for row in rows
    ]


def _document(footprint: Footprint, zip_: _Zip) -> dict[str, Any]:
    contact = footprint.contact
    organization = contact.organization
    deals = list(footprint.deals)
    history: dict[int, list[dict[str, Any]]] = {deal.pk: [] for deal in deals}
    for change in StageChange.objects.filter(deal__in=deals).order_by("changed_at", "pk"):
        history[change.deal_id].append(record_json(change))
    return {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "contact": {
            **record_json(contact),
            "emails": [record_json(e) for e in contact.emails.all()],
            "phones": [record_json(p) for p in contact.phones.all()],
            "organization": record_json(organization) if organization is not None else None,
        },
        "leads": [
            {**record_json(lead), "scorecard": [record_json(i) for i in lead.scorecard.all()]}
            for lead in footprint.leads
        ],
        "deals": [{**record_json(d), "stage_history": history[d.pk]} for d in deals],
        "activities": [record_json(a) for a in footprint.activities],
        "meeting_invitations": [record_json(a) for a in footprint.attendees],
        "bookings": [record_json(b) for b in footprint.bookings],
        "messages_sent": [
            {**record_json(m), "attachments": _files(zip_, m.attachments.all(), f"sent/{m.pk}")}
            for m in footprint.messages
        ],
        "messages_received": [
            {
                **record_json(m),
                "attachments": _files(zip_, m.attachments.all(), f"received/{m.pk}"),
            }
            for m in footprint.received
        ],
        "proposals": [
            {**record_json(p), "lines": [record_json(line) for line in p.lines.all()]}
            for p in footprint.proposals
        ],
        "proposal_versions": [
            {
                **record_json(v),
                "pdf": zip_.add_file(v.pdf, f"proposals/{v.proposal_id}") if v.pdf else None,
            }
            for v in footprint.versions
        ],
        "proposal_answers": [record_json(r) for r in footprint.responses],
        "survey_answers": [
            {
                **record_json(invite),
                "survey": invite.survey.name,
                "response": record_json(invite.response) if hasattr(invite, "response") else None,
            }
            for invite in footprint.survey_invites
        ],
        "coupons": [record_json(c) for c in footprint.coupons],
        "coupon_redemptions": [record_json(r) for r in footprint.redemptions],
        "referrals": [record_json(r) for r in footprint.referrals],
        "consent_changes": [record_json(c) for c in footprint.consent_changes],
        "suppressions": [record_json(s) for s in footprint.suppressions],
        "mailings": [record_json(r) for r in footprint.mailings],
        "follow_up_plans": [record_json(p) for p in footprint.plans],
        "audit_entries": [_entry_json(e) for e in footprint.audit_entries()],
    }


def _entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "record": f"{entry.content_type.app_label}.{entry.content_type.model}",
        "record_id": entry.object_id,
        "label": entry.object_label,
        "by": entry.actor_label,
        "action": entry.action,
        "changes": entry.changes,
        "at": entry.created_at.isoformat(),
    }


def export_name(contact: Contact) -> str:
    return f"contact-{contact.pk}-export-{timezone.now():%Y%m%d-%H%M%S}.zip"


@transaction.atomic
def contact_export(*, actor: Any, contact: Contact, target: IO[bytes]) -> ExportSummary:
    """Write everything about `contact` into `target` as a zip (`contact.json` and `files/`);
    admins, managers who may see the contact, or the command line (actor None)."""
    require_admin_or_manager(actor, "Only admins and managers can export a contact's data.")
    if actor is not None and not may_export(user=actor, contact=contact):
        raise DomainError("This contact does not exist or is not visible to you.")
    # read in one transaction, so the document is one consistent moment
    footprint = contact_footprint(contact=Contact.with_trashed.get(pk=contact.pk))
    zip_ = _Zip(target)
    with zip_.archive:
        document = _document(footprint, zip_)
        records = sum(len(v) for v in document.values() if isinstance(v, list)) + 1
        zip_.archive.writestr(
            "contact.json", json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
        )
    audit_record(
        actor=actor,
        obj=footprint.contact,
        action=AuditAction.EXPORT,
        changes={
            "records": [None, records],
            "files": [None, zip_.files],
            **({"missing_files": [None, zip_.missing]} if zip_.missing else {}),
        },
    )
    return ExportSummary(
        records=records,
        files=zip_.files,
        missing_files=zip_.missing,
        name=export_name(footprint.contact),
    )
