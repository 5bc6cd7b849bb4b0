"""Erasing a contact: their personal data is anonymised wherever it is stored, while the deals
stay as they were (values, stages, won or lost, their history), so every report keeps its
figures. Their addresses go on the suppression list as hashes, never to be mailed again. The
audit log records that it happened (who, when, how many records) and nothing of what was said.

Two degrees of it:
- records about the person (their contact, their leads, the notes and mail on those, their
  survey comments, their answers to proposals, bookings, consent records) lose the personal
  text outright;
- records that only mention them (a note on their deal, a deal's title, a proposal they were
  sent, a notification, a webhook's stored payload, the log's entries) have each occurrence of
  their full name, addresses and numbers replaced with "(erased)".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from django.db import models, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import reverse

from closeloop.accounts.actors import require_admin
from closeloop.activities.models import Notification
from closeloop.core.audit import audit_record
from closeloop.core.exceptions import DomainError
from closeloop.core.models import AuditAction, AuditEntry
from closeloop.integrations.models import WebhookEvent
from closeloop.leads.models import DuplicatePair, ImportRow
from closeloop.messaging.choices import MessageState
from closeloop.messaging.consent import suppression_erase_address
from closeloop.messaging.models import SendAttempt
from closeloop.people.models import Contact

from ..selectors import Footprint, contact_footprint

ERASED = "(erased)"
ERASED_ADDRESS = "erased@erased.invalid"  # stands in for an address in a list of recipients
# a lead's fields that describe the person (the company, source and status stay)
LEAD_PERSONAL = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "phone_e164",
    "job_title",
    "notes",
    "external_id",
    "consent_method",
    "outcome_note",
    "override_reason",
    "nurture_reason",
)
CONTACT_PERSONAL = ("first_name", "last_name", "job_title", "notes", "external_id")
UNSENT = (MessageState.QUEUED, MessageState.RETRYING, MessageState.NOT_SENT)
UNSENT_NOTE = "Not sent: the recipient's personal data was erased."


@dataclass
class Scrubber:
    """Replaces every mention of the person (name, addresses, numbers) in text and JSON."""

    needles: list[str]
    pattern: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        words = sorted({n.strip() for n in self.needles if len(n.strip()) >= 3}, key=len)
        if words:
            alternatives = "|".join(re.escape(w) for w in reversed(words))
            self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def text(self, value: str) -> str:
        if not value or self.pattern is None:
            return value
        return self.pattern.sub(ERASED, value)

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value

    def fields(self, obj: models.Model, names: Iterable[str]) -> list[str]:
        """Scrub the named text fields of `obj`; the names of those that changed."""
        changed = []
        for name in names:
            old = getattr(obj, name)
            new = self.data(old)
            if new != old:
                setattr(obj, name, new)
                changed.append(name)
        return changed

    def search(self, name: str = "text") -> Q:
        """Rows whose column `name` may mention the person (a JSON column cast to text holds
        non-ASCII letters escaped, so the escaped form is looked for too)."""
        condition = Q(pk__in=[])
        for needle in self.needles:
            if len(needle) >= 3:
                for form in {needle, json.dumps(needle)[1:-1]}:
                    condition |= Q(**{f"{name}__icontains": form})
        return condition


def _full_names(first: str, last: str) -> set[str]:
    # a first or last name alone is no needle: "Will", "Baker" or "Rose" are words too, and
    # the texts about the person (where they are called "Lena") are emptied anyway
    if not (first.strip() and last.strip()):
        return set()
    first, last = first.strip(), last.strip()
    return {f"{first} {last}", f"{last} {first}", f"{last}, {first}"}


def _needles(contact: Contact, footprint: Footprint) -> list[str]:
    names = _full_names(contact.first_name, contact.last_name)
    for lead in footprint.leads:
        names |= _full_names(lead.first_name, lead.last_name)
    return sorted(names | set(footprint.emails) | set(footprint.phones))


def _save(obj: models.Model, names: list[str], *, versioned: bool = False) -> None:
    if not names:
        return
    if versioned:
        obj.version += 1  # type: ignore[attr-defined]
        names = [*names, "version"]
    extra = ["updated_at"] if any(f.name == "updated_at" for f in obj._meta.concrete_fields) else []
    obj.save(update_fields=[*names, *extra])


def _blank(obj: models.Model, values: dict[str, Any]) -> list[str]:
    changed = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


def _erase_people(footprint: Footprint, scrub: Scrubber) -> None:
    contact = footprint.contact
    for address in footprint.emails:
        suppression_erase_address(email=address)
    changed = _blank(contact, {name: "" for name in CONTACT_PERSONAL})
    changed += _blank(contact, {"first_name": ERASED, "marketing_consent": False})
    changed += _blank(contact, {"consent_at": None, "consent_method": ""})
    _save(contact, changed, versioned=True)
    contact.emails.all().delete()
    contact.phones.all().delete()
    for lead in footprint.leads:
        values: dict[str, Any] = {name: "" for name in LEAD_PERSONAL}
        values.update(first_name=ERASED, marketing_consent=False, consent_at=None)
        _save(lead, _blank(lead, values), versioned=True)
        lead.scorecard.update(note="", decision_maker="")
    DuplicatePair.objects.filter(
        Q(contact=contact)
        | Q(other_contact=contact)
        | Q(lead__in=footprint.leads)
        | Q(other_lead__in=footprint.leads)
    ).delete()
    if contact.organization is not None:
        _save(contact.organization, scrub.fields(contact.organization, ["notes"]))


def _erase_timeline(footprint: Footprint, scrub: Scrubber) -> None:
    for activity in footprint.activities:
        if footprint.is_theirs(activity):
            changed = _blank(activity, {"subject": ERASED, "body": "", "location": ""})
        else:
            changed = scrub.fields(activity, ["subject", "body", "location"])
        _save(activity, changed)
    for attendee in footprint.attendees:
        _save(attendee, _blank(attendee, {"name": ERASED, "email": ""}))
    for booking in footprint.bookings:
        values = {"visitor_name": ERASED, "visitor_email": ERASED_ADDRESS}
        values.update(visitor_company="", visitor_question="")
        _save(booking, _blank(booking, values))


def _address_of(value: Any) -> str:
    return parseaddr(str(value))[1].strip().lower()


def _addresses(values: list[str], emails: set[str]) -> list[str]:
    """A list of recipients ("Name <address>" or bare) with theirs replaced."""
    return [ERASED_ADDRESS if _address_of(v) in emails else v for v in values]


def _mentions(values: list[str], emails: set[str]) -> bool:
    return any(_address_of(v) in emails for v in values)


def _delete_files(rows: Iterable[Any]) -> None:
    for row in rows:
        row.file.delete(save=False)
        row.delete()


def _erase_mail(footprint: Footprint, scrub: Scrubber) -> None:
    emails = set(footprint.emails)
    for message in footprint.messages.prefetch_related("attachments"):
        recipients = [*message.to, *message.cc, *message.bcc]
        theirs = (
            message.contact_id == footprint.contact.pk
            or message.lead_id in footprint.lead_ids
            or _mentions(recipients, emails)
        )
        if not theirs:
            _save(message, scrub.fields(message, ["subject", "text_body", "html_body"]))
            continue
        values: dict[str, Any] = {
            "subject": ERASED,
            "text_body": "",
            "html_body": "",
            "headers": {},
        }
        values.update(
            to=_addresses(message.to, emails),
            cc=_addresses(message.cc, emails),
            bcc=_addresses(message.bcc, emails),
            last_error=scrub.text(message.last_error),
        )
        if message.state in UNSENT:
            # never sent now: the address it was for is gone
            values.update(state=MessageState.FAILED, last_error=UNSENT_NOTE, next_attempt_at=None)
        _save(message, _blank(message, values))
        _delete_files(message.attachments.all())
        for attempt in SendAttempt.objects.filter(message=message):
            values = {"response": scrub.text(attempt.response), "refused": {}}
            _save(attempt, _blank(attempt, values))
    for received in footprint.received.prefetch_related("attachments"):
        values = {"from_name": ERASED, "from_email": ERASED_ADDRESS, "subject": ERASED}
        values.update(text_body="", html_body="", note=scrub.text(received.note))
        values.update(to=_addresses(received.to, emails), cc=_addresses(received.cc, emails))
        _save(received, _blank(received, values))
        _delete_files(received.attachments.all())


def _erase_proposals(footprint: Footprint, scrub: Scrubber) -> None:
    for proposal in footprint.proposals:
        _save(proposal, scrub.fields(proposal, ["intro", "closing"]), versioned=True)
    for version in footprint.versions:
        snapshot = scrub.data(version.snapshot)
        customer = dict(snapshot.get("customer") or {})
        if customer:
            customer.update(contact=ERASED, email="")
            snapshot["customer"] = customer
        changed = _blank(version, {"snapshot": snapshot, "note": scrub.text(version.note)})
        if version.pdf:
            # the PDF printed their name; a new one is printed from the scrubbed snapshot
            version.pdf.delete(save=False)
            changed.append("pdf")
        _save(version, changed)
    for response in footprint.responses:
        values: dict[str, Any] = {"name": ERASED if response.name else "", "comment": ""}
        values.update(ip_address=None, user_agent="")
        _save(response, _blank(response, values))


def _erase_aftersales(footprint: Footprint, scrub: Scrubber) -> None:
    for invite in footprint.survey_invites:
        _save(invite, _blank(invite, {"email": ERASED_ADDRESS}))
        response = getattr(invite, "response", None)
        if response is None:
            continue
        text_keys = {q["key"] for q in invite.survey.questions if q.get("kind") == "text"}
        answers = {k: ("" if k in text_keys else v) for k, v in (response.answers or {}).items()}
        _save(response, _blank(response, {"comment": "", "answers": answers}))
    for redemption in footprint.redemptions:
        _save(redemption, _blank(redemption, {"note": scrub.text(redemption.note)}))
    for coupon in footprint.coupons:
        _save(coupon, scrub.fields(coupon, ["description"]))
    for change in footprint.consent_changes:
        _save(change, _blank(change, {"email": "", "source": scrub.text(change.source)}))
    for recipient in footprint.mailings:
        values = {"email": ERASED_ADDRESS, "reason": scrub.text(recipient.reason)}
        _save(recipient, _blank(recipient, values))


def _erase_mentions(footprint: Footprint, scrub: Scrubber) -> None:
    """Where they are only mentioned: deals' texts, notifications, stored webhook payloads,
    rows an import kept, and the audit log's entries on their records."""
    for deal in footprint.deals:
        _save(deal, scrub.fields(deal, ["title", "lost_note"]), versioned=True)
    # a notification pointing at one of their records is about them (it may quote what they
    # wrote, by first name); others may mention them
    about = Notification.objects.filter(url__in=_record_urls(footprint))
    for note in about:
        _save(note, _blank(note, {"title": scrub.text(note.title), "body": ""}))
    mentioning_notes = Notification.objects.filter(scrub.search("title") | scrub.search("body"))
    for note in mentioning_notes.exclude(pk__in=about.values("pk")):
        _save(note, scrub.fields(note, ["title", "body"]))
    events = WebhookEvent.objects.annotate(text=Cast("payload", TextField()))
    for event in events.filter(scrub.search()):
        _save(event, scrub.fields(event, ["payload"]))
    rows = ImportRow.objects.annotate(
        text=Cast("data", TextField()), before=Cast("previous", TextField())
    )
    for row in rows.filter(scrub.search() | scrub.search("before")):
        _save(row, scrub.fields(row, ["data", "previous"]))
    # their records' own entries, and any other entry that names them (a coupon issued to them,
    # a merge into another contact…)
    mentioning = AuditEntry.objects.annotate(text=Cast("changes", TextField())).filter(
        scrub.search() | scrub.search("object_label")
    )
    for entry in footprint.audit_entries():
        _save(entry, _scrub_entry(entry, footprint, scrub))
    for entry in mentioning:  # read after the loop above: what it left that names them
        _save(entry, _scrub_entry(entry, footprint, scrub))


def _record_urls(footprint: Footprint) -> list[str]:
    urls = [reverse("people:contact_detail", args=[footprint.contact.pk])]
    urls += [reverse("leads:lead_detail", args=[pk]) for pk in footprint.lead_ids]
    urls += [
        reverse("pipeline:deal_detail", args=[pk])
        for pk in footprint.deals.values_list("pk", flat=True)
    ]
    urls += [
        reverse("proposals:detail", args=[pk])
        for pk in footprint.proposals.values_list("pk", flat=True)
    ]
    return urls


def _scrub_entry(entry: AuditEntry, footprint: Footprint, scrub: Scrubber) -> list[str]:
    """The contact's and leads' own entries lose the values of personal fields; every entry
    loses mentions of the person (and of the contact as a linked record)."""
    personal = set(CONTACT_PERSONAL) | set(LEAD_PERSONAL) | {"emails", "phones"}
    model = entry.content_type.model
    changes = {}
    for name, pair in (entry.changes or {}).items():
        if (
            model in ("contact", "lead")
            and entry.object_id in _own_ids(footprint, model)
            and (name in personal or name.startswith("scorecard"))
        ):
            pair = [ERASED if v not in (None, "", []) else v for v in pair]
        elif name == "contact" and isinstance(pair, list):
            pair = [
                {**v, "label": ERASED}
                if isinstance(v, dict) and v.get("id") == footprint.contact.pk
                else v
                for v in pair
            ]
        changes[name] = scrub.data(pair)
    values = {"changes": changes, "object_label": scrub.text(entry.object_label)}
    if model in ("contact", "lead") and entry.object_id in _own_ids(footprint, model):
        values["object_label"] = ERASED
    return _blank(entry, values)


def _own_ids(footprint: Footprint, model: str) -> set[int]:
    return {footprint.contact.pk} if model == "contact" else footprint.lead_ids


@dataclass(frozen=True)
class ErasureSummary:
    """How many records of each kind were anonymised (no personal data)."""

    counts: dict[str, int]


def erased(contact: Contact) -> bool:
    """Whether this contact's personal data was erased already."""
    return AuditEntry.objects.filter(
        content_type__app_label="people",
        content_type__model="contact",
        object_id=contact.pk,
        action=AuditAction.ERASE,
    ).exists()


@transaction.atomic
def contact_erase(*, actor: Any, contact: Contact) -> ErasureSummary:
    """Anonymise everything about `contact` (admins only; see the module's docstring). Their
    deals keep their figures; their addresses are suppressed as hashes; the log says it
    happened, with counts only. Cannot be undone (backups keep the old data until they go)."""
    require_admin(actor, "Only admins can erase a contact's personal data.")
    locked = Contact.with_trashed.select_for_update().get(pk=contact.pk)
    if erased(locked):
        raise DomainError("This contact's personal data was erased already.")
    footprint = contact_footprint(contact=locked)
    scrub = Scrubber(_needles(locked, footprint))
    # counted first: erasing changes what some of the queries find (addresses, names)
    counts = {
        "leads": len(footprint.lead_ids),
        "deals kept": footprint.deals.count(),
        "timeline entries": footprint.activities.count(),
        "emails sent": footprint.messages.count(),
        "emails received": footprint.received.count(),
        "proposal versions": footprint.versions.count(),
        "survey answers": footprint.survey_invites.count(),
        "addresses suppressed": len(footprint.emails),
    }
    footprint.leads = footprint.leads.model.with_trashed.filter(pk__in=footprint.lead_ids)
    _erase_mail(footprint, scrub)
    _erase_timeline(footprint, scrub)
    _erase_proposals(footprint, scrub)
    _erase_aftersales(footprint, scrub)
    _erase_mentions(footprint, scrub)
    _erase_people(footprint, scrub)
    audit_record(
        actor=actor,
        obj=footprint.contact,
        action=AuditAction.ERASE,
        changes={name: [None, n] for name, n in counts.items()},
    )
    return ErasureSummary(counts=counts)
