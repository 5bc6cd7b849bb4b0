"""Reads for the duplicates page and the merge pages: a pair is shown only when both records are.

Lead pairs are stored (flagged on arrival or by a scan). Contact pairs — the same email, or a
similar name at the same organization — are found when asked, among the contacts one may see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import Any, cast

from django.db.models import Count, Exists, Field, Model, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Lower, Substr

from closeloop.people.models import Contact, ContactEmail, ContactPhone
from closeloop.people.selectors import contact_queryset

from .choices import DuplicateState
from .dedupe import LIKELY_THRESHOLD, similarity
from .models import DuplicatePair, Lead
from .selectors import lead_queryset

CONTACT_PAIR_LIMIT = 100
CONTACT_CANDIDATE_LIMIT = 2000

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
class ContactPair:
    """Two contacts that look like the same person, and why."""

    contact: Contact
    other: Contact
    score: int
    evidence: str


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
    """One open pair if `user` may see both of its records; None otherwise."""
    return (
        _lead_pairs(user=user)
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


def contact_pair_candidates(
    *, contacts: QuerySet[Contact], limit: int = CONTACT_PAIR_LIMIT
) -> list[tuple[int, int, int, str]]:
    """(older id, newer id, score, evidence) for contacts among `contacts` that look alike.

    The same email is certain (100); a similar name at the same organization is likely. Name
    candidates share organization and the first letters of the last name, found in SQL, so
    only those few rows are compared here.
    """
    found: dict[tuple[int, int], tuple[int, str]] = {}
    emails = (
        ContactEmail.objects.filter(contact__in=contacts.values("pk"))
        .values("email")
        .annotate(n=Count("contact", distinct=True))
        .filter(n__gt=1)
        .values("email")
    )
    by_email: dict[str, list[int]] = defaultdict(list)
    rows = ContactEmail.objects.filter(email__in=emails, contact__in=contacts.values("pk"))
    for email, contact_id in rows.order_by("email", "contact_id").values_list(
        "email", "contact_id"
    )[:CONTACT_CANDIDATE_LIMIT]:
        by_email[email].append(contact_id)
    for email, ids in by_email.items():
        for a, b in combinations(sorted(set(ids)), 2):
            found.setdefault((a, b), (100, f"same email {email}"))
    blocked = contacts.exclude(organization=None).exclude(last_name="")
    blocked = blocked.annotate(block=Lower(Substr("last_name", 1, 3)))
    twin = blocked.filter(
        organization_id=OuterRef("organization_id"), block=OuterRef("block")
    ).exclude(pk=OuterRef("pk"))
    groups: dict[tuple[int, str], list[tuple[int, str, str]]] = defaultdict(list)
    for pk, first, last, org_id, org_name, block in (
        blocked.filter(Exists(twin))
        .order_by("organization_id", "block", "pk")
        .values_list(
            "pk", "first_name", "last_name", "organization_id", "organization__name", "block"
        )[:CONTACT_CANDIDATE_LIMIT]
    ):
        groups[(org_id, block)].append((pk, f"{first} {last}".strip(), org_name))
    for members in groups.values():
        for (a, name_a, org), (b, name_b, _) in combinations(members, 2):
            score = similarity(name_a, org, name_b, org)
            if score >= LIKELY_THRESHOLD and (a, b) not in found:
                found[(a, b)] = (min(score, 99), f"similar name at {org}: {name_b}")
    ranked = sorted(found.items(), key=lambda item: (-item[1][0], -item[0][1]))
    return [(a, b, score, evidence) for (a, b), (score, evidence) in ranked[:limit]]


def contact_pair_list(*, user: Any) -> list[ContactPair]:
    """Contacts `user` may see that look like another contact they may see, most alike first."""
    visible = contact_queryset(user=user)
    candidates = contact_pair_candidates(contacts=visible)
    if not candidates:
        return []
    ids = {pk for a, b, _, _ in candidates for pk in (a, b)}
    contacts = {
        c.pk: c
        for c in visible.filter(pk__in=ids)
        .select_related("organization", "owner")
        .prefetch_related(
            Prefetch("emails", queryset=ContactEmail.objects.order_by("-is_primary", "pk"))
        )
    }
    return [
        ContactPair(contact=contacts[a], other=contacts[b], score=score, evidence=evidence)
        for a, b, score, evidence in candidates
        if a in contacts and b in contacts
    ]


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
