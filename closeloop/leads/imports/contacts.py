"""Importing contacts: duplicates share an email or a phone (E.164) with a contact or an
earlier row; several emails or phones in one cell are split on ; or ,."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from closeloop.people.models import Contact, ContactEmail, ContactPhone

from .engine import RowError, RowIn, RunContext
from .lead_rows import valid_email
from .likely_duplicates import flag_new_contacts
from .people import CONTACT_LIMITS, OrganizationFinder, PeopleHandler, clean_text
from .phones import normalize_phone_fast
from .values import cell_text


def _split(text: Any) -> list[str]:
    return [p.strip() for p in str(text).replace(",", ";").split(";") if p.strip()]


class ContactHandler(PeopleHandler):
    model = Contact
    noun = "contact"
    FIELDS = (
        "first_name",
        "last_name",
        "job_title",
        "notes",
        "external_id",
        "owner",
        "organization",
    )

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx)
        self.orgs = OrganizationFinder(ctx)

    def rolled_back(self) -> None:
        super().rolled_back()
        self.orgs.forget_unsaved()

    def clean(self, row: RowIn) -> dict[str, Any]:
        raw = row.values
        v = clean_text(raw, CONTACT_LIMITS)
        if raw.get("full_name") and not (v.get("first_name") or v.get("last_name")):
            first, _, last = cell_text(raw["full_name"]).rpartition(" ")
            v["first_name"], v["last_name"] = first[:100], last[:100]
        emails = [e.lower() for e in _split(raw.get("email", ""))]
        for email in emails:
            if not valid_email(email):
                raise RowError("Email", f"“{email}” is not a valid email address")
        v["emails"] = list(dict.fromkeys(emails))
        phones = []
        for name, label in (("phone", "work"), ("mobile", "mobile")):
            for number in _split(raw.get(name, "")):
                if len(number) > 60:
                    raise RowError("Phone", f"“{number[:20]}…” is too long for a phone number")
                phones.append((number, normalize_phone_fast(number), label))
        v["phones"] = phones
        if not (v.get("first_name") or v.get("last_name") or emails):
            raise RowError("Name", "a contact needs a name or an email address")
        if "owner" in raw:
            v["owner"] = self._owner(raw)
        if raw.get("organization"):
            v["organization_name"] = cell_text(raw["organization"])[:200]
        return v

    def key_values(self, v: dict[str, Any]) -> list[tuple[str, Any]]:
        keys = [("email", e) for e in v.get("emails", [])]
        keys += [("phone", e164) for _, e164, _ in v.get("phones", []) if e164]
        if v.get("external_id"):
            keys.append(("external_id", v["external_id"]))
        return keys

    def existing(self, values: list[dict[str, Any]]) -> dict[str, dict[Any, int]]:
        found: dict[str, dict[Any, int]] = {"email": {}, "phone": {}, "external_id": {}}
        emails = {e for v in values for e in v.get("emails", [])}
        phones = {p for v in values for _, p, _ in v.get("phones", []) if p} | {
            v["phone"] for v in values if v.get("phone")
        }
        alive = {"contact__deleted_at__isnull": True}
        if emails:
            qs = ContactEmail.objects.filter(email__in=emails, **alive)
            found["email"] = dict(qs.order_by("-contact_id").values_list("email", "contact_id"))
        if phones:
            by_phone = ContactPhone.objects.filter(e164__in=phones, **alive)
            found["phone"] = dict(
                by_phone.order_by("-contact_id").values_list("e164", "contact_id")
            )
        ext = {v["external_id"] for v in values if v.get("external_id")}
        if ext:
            by_ext = Contact.objects.filter(external_id__in=ext).order_by("-pk")
            found["external_id"] = dict(by_ext.values_list("external_id", "pk"))
        return found

    def _organizations(self, items: list[dict[str, Any]]) -> None:
        self.orgs.load({v["organization_name"] for v in items if v.get("organization_name")})
        for v in items:
            if v.get("organization_name"):
                v["organization"] = self.orgs.get(v["organization_name"])

    def create(self, items: list[tuple[RowIn, dict[str, Any]]]) -> None:
        if not items:
            return
        self._organizations([v for _, v in items])
        if self.ctx.dry_run:
            return
        default_owner = self.ctx.actor if getattr(self.ctx.actor, "pk", None) else None
        contacts = Contact.objects.bulk_create(
            [
                Contact(
                    **{"owner": default_owner, **{k: x for k, x in v.items() if k in self.FIELDS}},
                    import_batch=self.ctx.batch,
                )
                for _, v in items
            ]
        )
        emails, phones = [], []
        for contact, (_, v) in zip(contacts, items, strict=True):
            emails += [ContactEmail(contact=contact, email=e, is_primary=i == 0)
                       for i, e in enumerate(v["emails"])]  # fmt: skip
            phones += [
                ContactPhone(contact=contact, raw=raw, e164=e164, label=lab, is_primary=i == 0)
                for i, (raw, e164, lab) in enumerate(v["phones"])
            ]
        ContactEmail.objects.bulk_create(emails)
        ContactPhone.objects.bulk_create(phones)

    def update(self, obj: Any, v: dict[str, Any]) -> dict[str, Any]:
        self._organizations([v])
        previous = self._save_changes(obj, v, list(self.FIELDS))
        have_emails = set(obj.emails.values_list("email", flat=True))
        have_phones = set(obj.phones.values_list("raw", flat=True))
        new_emails = [e for e in v["emails"] if e not in have_emails]
        new_phones = [p for p in v["phones"] if p[0] not in have_phones]
        if not self.ctx.dry_run:
            ContactEmail.objects.bulk_create(
                ContactEmail(contact=obj, email=e, is_primary=not have_emails and i == 0)
                for i, e in enumerate(new_emails)
            )
            ContactPhone.objects.bulk_create(
                ContactPhone(
                    contact=obj, raw=r, e164=e, label=lab, is_primary=not have_phones and i == 0
                )
                for i, (r, e, lab) in enumerate(new_phones)
            )
        if new_emails:
            previous["added_emails"] = new_emails
        if new_phones:
            previous["added_phones"] = [r for r, _, _ in new_phones]
        if previous and not self.ctx.dry_run:
            # the row is not locked: the database adds one to what it has, so an edit made
            # meanwhile still finds its version stale
            Contact.objects.filter(pk=obj.pk).update(version=F("version") + 1)
        return previous

    def finish(self) -> dict[str, Any]:
        if self.ctx.dry_run:
            return {}
        return flag_new_contacts(self.ctx.batch)
