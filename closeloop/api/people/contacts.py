"""Contacts over the API: list, create, read, change, trash, and merge two contacts.

Emails and phones are lists as the contact stores them, the first of each its primary. Create
and change refuse an email or phone another contact has (409), as an import skips them; the
pages only flag look-alikes. Merging is the duplicates page's merge: the same rules, and the
same entry on the kept contact's timeline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import EmailStr

from closeloop.leads.duplicate_selectors import CONTACT_MERGE_FIELDS, merge_rows
from closeloop.leads.merge import contact_merge
from closeloop.messaging.consent import marketing_consent_set
from closeloop.people.models import Contact
from closeloop.people.selectors import (
    ContactFilters,
    contact_get,
    contact_search,
    organization_queryset,
)
from closeloop.people.services import (
    EmailInput,
    PhoneInput,
    contact_create,
    contact_trash,
    contact_update,
)

from ..errors import ERRORS, WRITE_ERRORS, ApiError, field_error, not_found
from ..ids import ExpectedVersion, PathId, RecordId
from ..lists import ListQuery, Page, page_of
from .shared import filters_of, owner_pick

router = Router(tags=["contacts"])

CONTACT_ORDERINGS = ("last_name", "created_at", "updated_at")
MAX_ITEMS = 30  # emails or phones on one contact; the contact form offers as many rows


class EmailIn(Schema):
    email: EmailStr
    label: str = Field("work", max_length=30, description="work, home, other…")


class PhoneIn(Schema):
    number: str = Field(..., min_length=1, max_length=60, description="as typed")
    label: str = Field("work", max_length=30, description="work, mobile, home, fax, other…")


class EmailOut(Schema):
    email: str
    label: str
    is_primary: bool


class PhoneOut(Schema):
    number: str = Field(..., description="as typed")
    e164: str = Field(..., description="E.164 when the number could be read, else empty")
    label: str
    is_primary: bool

    @staticmethod
    def resolve_number(obj: Any) -> str:
        return str(obj.raw)


class ContactIn(Schema):
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    job_title: str = Field("", max_length=150)
    organization_id: RecordId | None = None
    emails: list[EmailIn] = Field([], max_length=MAX_ITEMS, description="the first is primary")
    phones: list[PhoneIn] = Field([], max_length=MAX_ITEMS, description="the first is primary")
    owner_id: RecordId | None = Field(
        None, description="defaults to the token's user; `null`: nobody (shared with everyone)"
    )
    marketing_consent: bool = False
    consent_method: str = Field("", max_length=200, description="how it was given; default API")
    notes: str = Field("", max_length=100_000)
    external_id: str = Field("", max_length=100, description="its id in another system")


class ContactPatch(Schema):
    """Only the fields sent change; `emails` or `phones` sent replace the whole list."""

    expected_version: ExpectedVersion = None
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    job_title: str | None = Field(None, max_length=150)
    organization_id: RecordId | None = Field(None, description="`null`: no organization")
    emails: list[EmailIn] | None = Field(None, max_length=MAX_ITEMS)
    phones: list[PhoneIn] | None = Field(None, max_length=MAX_ITEMS)
    owner_id: RecordId | None = Field(None, description="`null`: nobody (shared with everyone)")
    marketing_consent: bool | None = Field(None, description="given or withdrawn now")
    consent_method: str | None = Field(None, max_length=200, description="how; default API")
    notes: str | None = Field(None, max_length=100_000)
    external_id: str | None = Field(None, max_length=100)


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    job_title: str
    organization_id: int | None
    organization_name: str | None
    emails: list[EmailOut]
    phones: list[PhoneOut]
    owner_id: int | None
    owner_email: str | None
    marketing_consent: bool
    consent_at: dt.datetime | None
    consent_method: str
    notes: str
    external_id: str
    version: int = Field(
        ..., description="send it back as `expected_version` to refuse stale writes"
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_organization_name(obj: Contact) -> str | None:
        return obj.organization.name if obj.organization else None

    @staticmethod
    def resolve_owner_email(obj: Contact) -> str | None:
        return obj.owner.email if obj.owner else None

    @staticmethod
    def resolve_emails(obj: Contact) -> list[Any]:
        return list(obj.emails.all())

    @staticmethod
    def resolve_phones(obj: Contact) -> list[Any]:
        return list(obj.phones.all())


class ContactListQuery(ListQuery):
    q: str = Field("", max_length=200, description="part of a name, an email or a phone number")
    organization_id: RecordId | None = None
    owner_id: RecordId | None = None
    marketing_consent: bool | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None


class MergeIn(Schema):
    other_id: RecordId = Field(..., description="the contact merged into this one (then trashed)")
    take: list[str] | None = Field(
        None,
        max_length=len(CONTACT_MERGE_FIELDS),
        description="fields whose value comes from the other contact; by default, only the "
        f"ones this contact leaves empty. Any of: {', '.join(CONTACT_MERGE_FIELDS)}",
    )


def _visible(request: HttpRequest, contact_id: int, field: str | None = None) -> Contact:
    contact = contact_get(user=request.user, pk=contact_id)
    if contact is None:
        error = not_found("contact")
        if field:
            error.fields = {field: error.message}
        raise error
    return contact


def _organization(request: HttpRequest, pk: int | None, current: Contact | None = None) -> Any:
    """A visible organization, or the one the contact is linked to already (kept as it is)."""
    if pk is None:
        return None
    if current is not None and current.organization_id == pk:
        return current.organization
    organization = organization_queryset(user=request.user).filter(pk=pk).first()
    if organization is None:
        raise field_error("organization_id", f"Unknown organization id {pk}.")
    return organization


def _emails(items: list[EmailIn]) -> list[EmailInput]:
    return [EmailInput(email=str(item.email), label=item.label or "work") for item in items]


def _phones(items: list[PhoneIn]) -> list[PhoneInput]:
    return [PhoneInput(number=item.number, label=item.label or "work") for item in items]


def _consent(request: HttpRequest, contact: Contact, granted: bool, method: str | None) -> None:
    marketing_consent_set(
        actor=request.user, contact=contact, granted=granted, source=(method or "").strip() or "API"
    )


@router.get("", response={200: Page[ContactOut], **ERRORS}, summary="List contacts")
def list_contacts(request: HttpRequest, query: Query[ContactListQuery]) -> Any:
    """The contacts the token's user may see, by last name unless `ordering` says otherwise."""
    contacts = contact_search(user=request.user, filters=filters_of(query, ContactFilters))
    return page_of(contacts, query, orderings=CONTACT_ORDERINGS, default="last_name")


@router.post("", response={201: ContactOut, **WRITE_ERRORS}, summary="Create a contact")
def create_contact(request: HttpRequest, payload: ContactIn) -> Status[Any]:
    """Add a contact (it needs a name or an email); an email or phone another contact has
    answers 409."""
    values = payload.dict(include={"first_name", "last_name", "job_title", "notes", "external_id"})
    if "owner_id" in payload.model_fields_set:
        values["owner"] = owner_pick(request, payload.owner_id)
    with transaction.atomic():
        contact = contact_create(
            actor=request.user,
            organization=_organization(request, payload.organization_id),
            emails=_emails(payload.emails),
            phones=_phones(payload.phones),
            refuse_duplicates=True,
            **values,
        )
        if payload.marketing_consent:
            _consent(request, contact, True, payload.consent_method)
    return Status(201, _visible(request, contact.pk))


@router.get("/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Read a contact")
def read_contact(request: HttpRequest, contact_id: PathId) -> Contact:
    """One contact the token's user may see, with its emails and phones; others answer 404."""
    return _visible(request, contact_id)


@router.patch(
    "/{contact_id}", response={200: ContactOut, **WRITE_ERRORS}, summary="Change a contact"
)
def update_contact(request: HttpRequest, contact_id: PathId, payload: ContactPatch) -> Contact:
    """Change the fields sent; a new email or phone another contact has answers 409. A changed
    `marketing_consent` is recorded with when, how (`consent_method`) and by whom. With
    `expected_version`, a contact changed since that version answers 409 naming the change, and
    nothing is written."""
    contact = _visible(request, contact_id)
    sent = payload.dict(exclude_unset=True)
    plain = {"first_name", "last_name", "job_title", "notes", "external_id"}
    values = {k: v for k, v in sent.items() if k in plain and v is not None}
    if "owner_id" in sent:
        values["owner"] = owner_pick(request, sent["owner_id"], contact.owner)
    if "organization_id" in sent:
        values["organization"] = _organization(request, sent["organization_id"], contact)
    with transaction.atomic():
        contact_update(
            actor=request.user,
            contact=contact,
            emails=_emails(payload.emails) if payload.emails is not None else None,
            phones=_phones(payload.phones) if payload.phones is not None else None,
            refuse_duplicates=True,
            expected_version=payload.expected_version,
            **values,
        )
        granted = sent.get("marketing_consent")
        if granted is not None and granted != contact.marketing_consent:
            _consent(request, contact, granted, payload.consent_method)
    return _visible(request, contact_id)


@router.delete("/{contact_id}", response={204: None, **WRITE_ERRORS}, summary="Trash a contact")
def delete_contact(request: HttpRequest, contact_id: PathId) -> Status[None]:
    """Move the contact to the trash; restorable from the trash page until it is purged."""
    contact_trash(actor=request.user, contact=_visible(request, contact_id))
    return Status(204, None)


@router.post(
    "/{contact_id}/merge", response={200: ContactOut, **WRITE_ERRORS}, summary="Merge two contacts"
)
def merge_contacts(request: HttpRequest, contact_id: PathId, payload: MergeIn) -> Contact:
    """Merge the other contact into this one, as the duplicates page does: its deals, timeline,
    emails and phones move here, the fields in `take` come from it, the merge is written on this
    contact's timeline, and the other contact goes to the trash."""
    if payload.other_id == contact_id:
        raise field_error("other_id", "A contact cannot be merged with itself.")
    kept = _visible(request, contact_id)
    other = _visible(request, payload.other_id, field="other_id")
    if payload.take is None:
        # the duplicates page's default: keep each value unless this contact has none
        rows = merge_rows(a=kept, b=other, fields=CONTACT_MERGE_FIELDS)
        take = [row.name for row in rows if row.default == "b"]
    else:
        take = list(dict.fromkeys(payload.take))
        unknown = [name for name in take if name not in CONTACT_MERGE_FIELDS]
        if unknown:
            allowed = ", ".join(CONTACT_MERGE_FIELDS)
            message = f"These fields cannot be merged: {', '.join(unknown)} (any of: {allowed})."
            raise ApiError(400, message, fields={"take": message})
    contact_merge(
        actor=request.user, winner=kept, loser=other, choices=dict.fromkeys(take, "loser")
    )
    return _visible(request, contact_id)
