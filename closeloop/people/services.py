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
from closeloop.core.exceptions import DomainError

from .models import Contact, ContactEmail, ContactPhone, Organization
from .phones import normalize_phone

ORG_FIELDS = ("name", "domain", "website", "phone", "address", "industry", "size", "notes", "owner")
CONTACT_FIELDS = ("first_name", "last_name", "job_title", "organization", "notes", "owner")


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


def _clean_org(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be set here: {', '.join(sorted(unknown))}.")
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    if "name" in clean and not clean["name"]:
        raise DomainError("An organization needs a name.", field="name")
    if "domain" in clean:
        clean["domain"] = _clean_domain(clean["domain"])
    return clean


@transaction.atomic
def organization_create(*, actor: Any, name: str, **fields: Any) -> Organization:
    """Add an organization; the creator owns it unless an owner is given."""
    clean = _clean_org({"name": name, **fields})
    clean.setdefault("owner", acting_user(actor))
    return Organization.objects.create(**clean)


@transaction.atomic
def organization_update(*, actor: Any, organization: Organization, **fields: Any) -> Organization:
    """Change an organization's fields."""
    org = lock_visible(Organization, organization.pk, actor)
    clean = _clean_org(fields)
    for name, value in clean.items():
        setattr(org, name, value)
    org.save()
    return org


def _trash(obj: Any, actor: Any) -> Any:
    obj.deleted_at = timezone.now()
    obj.deleted_by = acting_user(actor)
    obj.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
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
    obj.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
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


def _set_emails_and_phones(
    contact: Contact, emails: list[EmailInput] | None, phones: list[PhoneInput] | None
) -> None:
    if emails is not None:
        clean = _clean_emails(emails)
        contact.emails.all().delete()
        ContactEmail.objects.bulk_create(
            ContactEmail(contact=contact, email=e.email, label=e.label, is_primary=i == 0)
            for i, e in enumerate(clean)
        )
    if phones is not None:
        rows = []
        for p in phones:
            raw = (p.number or "").strip()
            if not raw:
                continue
            if len(raw) > 60:
                raise DomainError(f"“{raw[:20]}…” is too long for a phone number.", field="phones")
            rows.append((raw, normalize_phone(raw), (p.label or "work").strip()[:30]))
        contact.phones.all().delete()
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=contact, raw=raw, e164=e164, label=label, is_primary=i == 0)
            for i, (raw, e164, label) in enumerate(rows)
        )


def _flag_duplicates(contact: Contact) -> None:
    """Look-alike contacts are flagged for the duplicates page, never merged or refused."""
    from closeloop.leads.duplicate_scan import contact_duplicates_flag

    contact_duplicates_flag(contact=contact)


def _clean_contact(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(CONTACT_FIELDS)
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
    **fields: Any,
) -> Contact:
    """Add a contact with any number of emails and phones; it needs a name or an email."""
    clean = _clean_contact({"first_name": first_name, "last_name": last_name, **fields})
    if not (
        clean["first_name"] or clean["last_name"] or any(e.email.strip() for e in emails or [])
    ):
        raise DomainError("A contact needs a name or an email address.", field="first_name")
    clean.setdefault("owner", acting_user(actor))
    contact = Contact.objects.create(**clean)
    _set_emails_and_phones(contact, emails or [], phones or [])
    _flag_duplicates(contact)
    return contact


@transaction.atomic
def contact_update(
    *,
    actor: Any,
    contact: Contact,
    emails: list[EmailInput] | None = None,
    phones: list[PhoneInput] | None = None,
    **fields: Any,
) -> Contact:
    """Change a contact's fields; given email/phone lists replace the old ones."""
    obj = lock_visible(Contact, contact.pk, actor)
    clean = _clean_contact(fields)
    for name, value in clean.items():
        setattr(obj, name, value)
    has_email = any(e.email.strip() for e in emails) if emails is not None else obj.emails.exists()
    if not (obj.first_name or obj.last_name or has_email):
        raise DomainError("A contact needs a name or an email address.", field="first_name")
    obj.save()
    _set_emails_and_phones(obj, emails, phones)
    _flag_duplicates(obj)
    return obj


@transaction.atomic
def contact_trash(*, actor: Any, contact: Contact) -> Contact:
    """Put a contact in the trash, restorable until purged."""
    return _trash(lock_visible(Contact, contact.pk, actor), actor)


@transaction.atomic
def contact_restore(*, actor: Any, contact: Contact) -> Contact:
    """Take a contact out of the trash."""
    return _restore(Contact, contact.pk, actor)
