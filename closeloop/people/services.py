"""Every write to organizations and contacts goes through these functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from closeloop.accounts.actors import acting_user
from closeloop.accounts.visibility import lock_visible
from closeloop.core.audit import (
    audit_changed,
    audit_created,
    audit_diff,
    audit_restored,
    audit_snapshot,
    audit_trashed,
)
from closeloop.core.exceptions import ConflictError, DomainError
from closeloop.core.versions import version_check

from .models import Contact, ContactEmail, ContactPhone, Organization
from .phones import normalize_phone
from .selectors import (
    Duplicate,
    contact_duplicate,
    contact_get,
    organization_duplicate,
    organization_get,
)

# the fields the pages' forms edit; the services also take an `external_id` (imports, the API)
ORG_FIELDS = ("name", "domain", "website", "phone", "address", "industry", "size", "notes", "owner")
CONTACT_FIELDS = ("first_name", "last_name", "job_title", "organization", "notes", "owner")
ORG_SETTABLE = (*ORG_FIELDS, "external_id")
CONTACT_SETTABLE = (*CONTACT_FIELDS, "external_id")
DUPLICATE_LABELS = {"domain": "domain", "name": "name", "emails": "email", "phones": "phone"}


@dataclass(frozen=True)
class EmailInput:
    email: str
    label: str = "work"


@dataclass(frozen=True)
class PhoneInput:
    number: str
    label: str = "work"


def _clean_domain(domain: str) -> str:
    domain = (domain or "").strip().lower()
    for prefix in ("https://", "http://"):
        domain = domain.removeprefix(prefix)
    domain = domain.removeprefix("www.").split("/")[0]
    return domain


def _refuse_duplicate(duplicate: Duplicate | None, actor: Any, noun: str) -> None:
    """A ConflictError naming the record that has the value, or only that one exists when the
    actor may not see it (so no other owner's record is revealed)."""
    if duplicate is None:
        return
    get = organization_get if noun == "organization" else contact_get
    if actor is None or get(user=actor, pk=duplicate.pk) is not None:
        where = f"{noun} #{duplicate.pk}"
    else:
        where = f"{'an' if noun[0] in 'aeiou' else 'a'} {noun} you cannot see (ask its owner)"
    label = DUPLICATE_LABELS[duplicate.field]
    raise ConflictError(
        f"A duplicate: {where} has the {label} {duplicate.value}.", field=duplicate.field
    )


def _clean_org(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(ORG_SETTABLE)
    if unknown:
        raise DomainError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    if "name" in clean and not clean["name"]:
        raise DomainError("An organization needs a name.", field="name")
    if "domain" in clean:
        clean["domain"] = _clean_domain(clean["domain"])
    return clean


@transaction.atomic
def organization_create(
    *, actor: Any, name: str, refuse_duplicates: bool = False, **fields: Any
) -> Organization:
    """Add an organization; the creator owns it unless an owner is given. With
    `refuse_duplicates` (the API), one with the same domain or name is a ConflictError."""
    clean = _clean_org({"name": name, **fields})
    if refuse_duplicates:
        duplicate = organization_duplicate(name=clean["name"], domain=clean.get("domain", ""))
        _refuse_duplicate(duplicate, actor, "organization")
    clean.setdefault("owner", acting_user(actor))
    org = Organization.objects.create(**clean)
    audit_created(actor=actor, obj=org)
    return org


@transaction.atomic
def organization_update(
    *, actor: Any, organization: Organization, refuse_duplicates: bool = False, **fields: Any
) -> Organization:
    """Change an organization's fields. With `refuse_duplicates` (the API), a new domain or name
    that another organization has is a ConflictError; unchanged ones are never refused."""
    org = lock_visible(Organization, organization.pk, actor)
    clean = _clean_org(fields)
    if refuse_duplicates:
        name = clean.get("name", "")
        domain = clean.get("domain", "")
        duplicate = organization_duplicate(
            name=name if name.lower() != org.name.lower() else "",
            domain=domain if domain != org.domain else "",
            exclude_pk=org.pk,
        )
        _refuse_duplicate(duplicate, actor, "organization")
    before = audit_snapshot(org)
    for name, value in clean.items():
        setattr(org, name, value)
    org.save()
    audit_changed(actor=actor, obj=org, before=before)
    return org


def _bump(obj: Any) -> list[str]:
    """Contacts carry a version (organizations do not): one more, and the field to save."""
    if isinstance(obj, Contact):
        obj.version += 1
        return ["version"]
    return []


def _trash(obj: Any, actor: Any) -> Any:
    obj.deleted_at = timezone.now()
    obj.deleted_by = acting_user(actor)
    obj.save(update_fields=["deleted_at", "deleted_by", *_bump(obj), "updated_at"])
    audit_trashed(actor=actor, obj=obj)
    return obj


def _restore(model: Any, pk: int, actor: Any) -> Any:
    qs = model.with_trashed.select_for_update().filter(pk=pk, deleted_at__isnull=False)
    if actor is not None:
        qs = qs.visible_to(actor)
    obj = qs.first()
    if obj is None:
        raise DomainError(f"This {model._meta.verbose_name} is not in the trash.")
    obj.deleted_at = None
    obj.deleted_by = None
    obj.save(update_fields=["deleted_at", "deleted_by", *_bump(obj), "updated_at"])
    audit_restored(actor=actor, obj=obj)
    return obj


@transaction.atomic
def organization_trash(*, actor: Any, organization: Organization) -> Organization:
    """Put an organization in the trash; its contacts and deals stay, restorable until purged."""
    return _trash(lock_visible(Organization, organization.pk, actor), actor)


@transaction.atomic
def organization_restore(*, actor: Any, organization: Organization) -> Organization:
    """Take an organization out of the trash."""
    return _restore(Organization, organization.pk, actor)


def _clean_emails(emails: list[EmailInput]) -> list[EmailInput]:
    seen: set[str] = set()
    clean = []
    for item in emails:
        email = (item.email or "").strip().lower()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError as exc:
            raise DomainError(
                f"“{item.email}” is not a valid email address.", field="emails"
            ) from exc
        if email in seen:
            continue
        seen.add(email)
        clean.append(EmailInput(email=email, label=(item.label or "work").strip()[:30]))
    return clean


PhoneRow = tuple[str, str, str]  # as typed, E.164 (or empty), label


def _clean_phones(phones: list[PhoneInput]) -> list[PhoneRow]:
    rows = []
    for p in phones:
        raw = (p.number or "").strip()
        if not raw:
            continue
        if len(raw) > 60:
            raise DomainError(f"“{raw[:20]}…” is too long for a phone number.", field="phones")
        rows.append((raw, normalize_phone(raw), (p.label or "work").strip()[:30]))
    return rows


def email_texts(emails: list[EmailInput]) -> list[str]:
    """Cleaned email inputs as the audit log writes a contact's emails, primary first."""
    return [f"{e.email} ({e.label})" for e in emails]


def phone_texts(rows: list[PhoneRow]) -> list[str]:
    """Cleaned phone rows as the audit log writes a contact's phones, primary first."""
    return [f"{raw} ({label})" for raw, _, label in rows]


def email_inputs_text(emails: list[EmailInput]) -> list[str] | None:
    """Email inputs as the audit log would write them once saved; None when they would be
    refused."""
    try:
        return email_texts(_clean_emails(emails))
    except DomainError:
        return None


def phone_inputs_text(phones: list[PhoneInput]) -> list[str] | None:
    """Phone inputs as the audit log would write them once saved; None when they would be
    refused."""
    try:
        return phone_texts(_clean_phones(phones))
    except DomainError:
        return None


def contact_email_texts(contact: Contact) -> list[str]:
    """The contact's stored emails as the audit log writes them."""
    return email_texts([EmailInput(e.email, e.label) for e in contact.emails.all()])


def contact_phone_texts(contact: Contact) -> list[str]:
    """The contact's stored phones as the audit log writes them."""
    return phone_texts([(p.raw, p.e164, p.label) for p in contact.phones.all()])


def _set_emails_and_phones(
    contact: Contact, emails: list[EmailInput] | None, phones: list[PhoneRow] | None
) -> None:
    if emails is not None:
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(
            ContactEmail(contact=contact, email=e.email, label=e.label, is_primary=i == 0)
            for i, e in enumerate(emails)
        )
    if phones is not None:
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=contact, raw=raw, e164=e164, label=label, is_primary=i == 0)
            for i, (raw, e164, label) in enumerate(phones)
        )


def _flag_duplicates(contact: Contact) -> None:
    """Look-alike contacts are flagged for the duplicates page, never merged or refused."""
    from closeloop.leads.duplicate_scan import contact_duplicates_flag

    contact_duplicates_flag(contact=contact)


def _refuse_contact_duplicate(
    contact: Contact | None,
    emails: list[EmailInput] | None,
    phones: list[PhoneInput] | None,
    actor: Any,
) -> None:
    """Refuse an email or phone another contact has; those the contact has already stay."""
    new_emails = {e.email for e in _clean_emails(emails or [])}
    new_phones = {normalize_phone((p.number or "").strip()) for p in phones or []} - {""}
    if contact is not None:
        new_emails -= set(contact.emails.values_list("email", flat=True))
        new_phones -= set(contact.phones.values_list("e164", flat=True))
    duplicate = contact_duplicate(
        emails=sorted(new_emails),
        phones_e164=sorted(new_phones),
        exclude_pk=contact.pk if contact is not None else None,
    )
    _refuse_duplicate(duplicate, actor, "contact")


def _clean_contact(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CONTACT_SETTABLE)
    if unknown:
        raise DomainError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    return clean


@transaction.atomic
def contact_create(
    *,
    actor: Any,
    first_name: str = "",
    last_name: str = "",
    emails: list[EmailInput] | None = None,
    phones: list[PhoneInput] | None = None,
    refuse_duplicates: bool = False,
    **fields: Any,
) -> Contact:
    """Add a contact with any number of emails and phones; it needs a name or an email.

    Look-alikes are flagged for the duplicates page. With `refuse_duplicates` (the API), an
    email or phone another contact has is a ConflictError instead."""
    clean = _clean_contact({"first_name": first_name, "last_name": last_name, **fields})
    if not (
        clean["first_name"] or clean["last_name"] or any(e.email.strip() for e in emails or [])
    ):
        raise DomainError("A contact needs a name or an email address.", field="first_name")
    if refuse_duplicates:
        _refuse_contact_duplicate(None, emails, phones, actor)
    clean.setdefault("owner", acting_user(actor))
    clean_emails, clean_phones = _clean_emails(emails or []), _clean_phones(phones or [])
    contact = Contact.objects.create(**clean)
    _set_emails_and_phones(contact, clean_emails, clean_phones)
    audit_created(
        actor=actor,
        obj=contact,
        extra={"emails": email_texts(clean_emails), "phones": phone_texts(clean_phones)},
    )
    _flag_duplicates(contact)
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: Any,
    contact: Contact,
    emails: list[EmailInput] | None = None,
    phones: list[PhoneInput] | None = None,
    refuse_duplicates: bool = False,
    expected_version: int | None = None,
    **fields: Any,
) -> Contact:
    """Change a contact's fields; given email/phone lists replace the old ones. With
    `refuse_duplicates` (the API), a new email or phone another contact has is a ConflictError;
    with `expected_version`, an edit based on another version than the stored one is refused.
    An edit that changes nothing writes nothing."""
    obj = lock_visible(Contact, contact.pk, actor)
    version_check(obj, expected_version)
    if refuse_duplicates:
        _refuse_contact_duplicate(obj, emails, phones, actor)
    clean = _clean_contact(fields)
    clean_emails = _clean_emails(emails) if emails is not None else None
    clean_phones = _clean_phones(phones) if phones is not None else None
    before = audit_snapshot(obj)
    extra = {
        "emails": [contact_email_texts(obj), contact_email_texts(obj)],
        "phones": [contact_phone_texts(obj), contact_phone_texts(obj)],
    }
    if clean_emails is not None:
        extra["emails"][1] = email_texts(clean_emails)
    if clean_phones is not None:
        extra["phones"][1] = phone_texts(clean_phones)
    for name, value in clean.items():
        setattr(obj, name, value)
    has_email = bool(clean_emails) if clean_emails is not None else obj.emails.exists()
    if not (obj.first_name or obj.last_name or has_email):
        raise DomainError("A contact needs a name or an email address.", field="first_name")
    if not audit_diff(obj, before) and all(old == new for old, new in extra.values()):
        return obj
    obj.version += 1
    obj.save()
    _set_emails_and_phones(
        obj,
        clean_emails if extra["emails"][0] != extra["emails"][1] else None,
        clean_phones if extra["phones"][0] != extra["phones"][1] else None,
    )
    audit_changed(actor=actor, obj=obj, before=before, extra=extra)
    _flag_duplicates(obj)
    return obj


@transaction.atomic
def contact_consent_set(
    *, actor: Any, contact: Contact, granted: bool, at: Any, method: str
) -> Contact:
    """Set a contact's marketing-consent flag with when and how it was given or withdrawn (the
    caller keeps its record of proof): a write like any other, with a version and a log entry."""
    stored = Contact.with_trashed.select_for_update(of=("self",)).get(pk=contact.pk)
    before = audit_snapshot(stored)
    contact.marketing_consent = granted
    contact.consent_at = at
    contact.consent_method = method[:200]
    contact.version = stored.version + 1
    fields = ["marketing_consent", "consent_at", "consent_method", "version", "updated_at"]
    contact.save(update_fields=fields)
    audit_changed(actor=actor, obj=contact, before=before)
    return contact


@transaction.atomic
def contact_trash(*, actor: Any, contact: Contact) -> Contact:
    """Put a contact in the trash, restorable until purged."""
    return _trash(lock_visible(Contact, contact.pk, actor), actor)


@transaction.atomic
def contact_restore(*, actor: Any, contact: Contact) -> Contact:
    """Take a contact out of the trash."""
    return _restore(Contact, contact.pk, actor)
