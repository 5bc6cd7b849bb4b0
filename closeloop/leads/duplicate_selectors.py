"""Reads for the duplicates page and the merge pages: a pair is shown only when both records are.

Pairs are stored, flagged on arrival or by a scan: lead–lead and lead–contact pairs (the lead
set), and contact–contact pairs (the contact set, the older contact first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.db.models import Field, Model, Prefetch, Q, QuerySet, prefetch_related_objects

from closeloop.people.models import Contact, ContactEmail, ContactPhone
from closeloop.people.selectors import contact_queryset

from .choices import DuplicateState
from .models import DuplicatePair, DuplicateScan, Lead
from .selectors import lead_queryset

CONTACT_PAIR_LIMIT = 100

LEAD_MERGE_FIELDS = (
    "first_name", "last_name", "email", "phone", "job_title", "company_name", "company_domain",
    "website", "company_size", "industry", "country", "organization", "owner", "status", "source",
    "campaign", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "marketing_consent", "notes", "external_id",
)  # fmt: skip
CONTACT_MERGE_FIELDS = (
    "first_name", "last_name", "job_title", "organization", "owner", "notes", "external_id",
)  # fmt: skip


@dataclass(frozen=True)
class MergeRow:
    """One field that differs between two records, with the side chosen by default."""

    name: str
    label: str
    a: str
    b: str
    default: str  # "a" or "b"


def _lead_pairs(*, user: Any) -> QuerySet[DuplicatePair]:
    leads = lead_queryset(user=user).values("pk")
    contacts = contact_queryset(user=user).values("pk")
    return DuplicatePair.objects.filter(state=DuplicateState.OPEN, lead__in=leads).filter(
        Q(other_lead__in=leads) | Q(other_contact__in=contacts)
    )


def duplicate_pair_list(*, user: Any) -> QuerySet[DuplicatePair]:
    """Open pairs whose both records `user` may see (neither trashed), most similar first."""
    return (
        _lead_pairs(user=user)
        .select_related(
            "lead__owner",
            "lead__campaign",
            "other_lead__owner",
            "other_lead__campaign",
            "other_contact__organization",
            "other_contact__owner",
        )
        .prefetch_related(
            Prefetch("other_contact__emails", queryset=ContactEmail.objects.order_by("-is_primary"))
        )
        .order_by("-score", "-created_at", "-pk")
    )


def duplicate_pair_get(*, user: Any, pk: int) -> DuplicatePair | None:
    """One open pair (of leads, a lead and a contact, or contacts) if `user` may see both of its
    records; None otherwise."""
    contact_pair = _contact_pairs(user=user).filter(pk=pk)
    return (
        (_lead_pairs(user=user).filter(pk=pk) | contact_pair)
        .select_related(
            "lead__owner",
            "lead__source",
            "lead__campaign",
            "lead__organization",
            "other_lead__owner",
            "other_lead__source",
            "other_lead__campaign",
            "other_lead__organization",
        )
        .filter(pk=pk)
        .first()
    )


def _contact_pairs(*, user: Any) -> QuerySet[DuplicatePair]:
    contacts = contact_queryset(user=user).values("pk")
    return DuplicatePair.objects.filter(
        state=DuplicateState.OPEN, contact__in=contacts, other_contact__in=contacts
    )


def contact_pair_list(*, user: Any, limit: int = CONTACT_PAIR_LIMIT) -> list[DuplicatePair]:
    """Open contact–contact pairs whose both contacts `user` may see, most alike first."""
    pairs = list(
        _contact_pairs(user=user)
        .select_related(
            "contact__organization", "contact__owner",
            "other_contact__organization", "other_contact__owner",
        )
        .order_by("-score", "-created_at", "-pk")[:limit]
    )  # fmt: skip
    # one query for the emails of both sides, however many pairs
    prefetch_related_objects(
        [c for pair in pairs for c in (pair.contact, pair.other_contact) if c is not None],
        Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "pk")),
    )
    return pairs


def duplicate_scan_last() -> DuplicateScan | None:
    """The most recent full scan (queued, running or finished), shown on the duplicates page."""
    return DuplicateScan.objects.select_related("requested_by").first()


def contact_merge_get(*, user: Any, pk: int, other_pk: int) -> tuple[Contact, Contact] | None:
    """Two different contacts `user` may see, with what the merge page shows; None otherwise."""
    if pk == other_pk:
        return None
    found = {
        c.pk: c
        for c in contact_queryset(user=user)
        .filter(pk__in=[pk, other_pk])
        .select_related("organization", "owner")
        .prefetch_related(
            Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "pk")),
            Prefetch("phones", queryset=ContactPhone.objects.order_by("-is_primary", "pk")),
        )
    }
    if len(found) < 2:
        return None
    return found[pk], found[other_pk]


def model_field(model: Model | type[Model], name: str) -> Field:
    """A concrete field of a model, by name."""
    return cast(Field, model._meta.get_field(name))


def _display(obj: Model, name: str) -> str:
    field = model_field(obj, name)
    value = getattr(obj, name)
    if getattr(field, "choices", None):
        return str(getattr(obj, f"get_{name}_display")())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value == "":
        return ""
    return getattr(value, "display_name", None) or str(value)


def _empty(obj: Model, name: str) -> bool:
    value = getattr(obj, model_field(obj, name).attname)
    return value is None or value == ""


def older_first(a: Lead | Contact, b: Lead | Contact) -> tuple[Any, Any]:
    """The two records, the older (created first) first: by default it survives a merge."""
    return (a, b) if (a.created_at, a.pk) <= (b.created_at, b.pk) else (b, a)


def merge_rows(*, a: Model, b: Model, fields: tuple[str, ...]) -> list[MergeRow]:
    """The fields where `a` and `b` differ; `a` (the older) wins by default unless it is empty."""
    rows = []
    for name in fields:
        field = model_field(a, name)
        if getattr(a, field.attname) == getattr(b, field.attname):
            continue
        default = "b" if _empty(a, name) and not _empty(b, name) else "a"
        label = str(field.verbose_name)
        rows.append(
            MergeRow(
                name=name,
                label=label[:1].upper() + label[1:],
                a=_display(a, name),
                b=_display(b, name),
                default=default,
            )
        )
    return rows
