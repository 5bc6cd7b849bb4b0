"""Repeat-customer segments: who has bought, when, what, how much and how they feel about us.

A customer contact is a contact who is the contact of a won deal, or who belongs to an
organization with a won deal; its purchases are those won deals (each counted once, even when
the deal names both the contact and its organization). Criteria are stored as JSON on the
`Segment` and evaluated in one SQL query: every figure is a correlated subquery over the won
deals, so nothing is loaded row by row.

Criteria (all optional, combined with AND):
  last_purchase_after / last_purchase_before  ISO dates; after is inclusive, before exclusive
  products           product ids: bought any of them (a line on a won deal's proposal)
  won_total_min/max  total value of the won deals in the base currency (others not added)
  purchases_min/max  number of won deals
  nps_bands          promoter (9–10), passive (7–8), detractor (0–6): the latest NPS answer
  consent_only       only contacts with marketing consent
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from closeloop.accounts.actors import acting_user, require_admin_or_manager
from closeloop.core.exceptions import DomainError
from closeloop.core.money import base_currency
from closeloop.people.models import Contact, ContactEmail
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from closeloop.proposals.models import LineItem, Product

from .choices import SurveyKind
from .models import Segment, SurveyResponse

ONLY_MARKETERS = "Only admins and managers can manage segments and mailings."
NPS_BANDS = {"promoter": (9, 10), "passive": (7, 8), "detractor": (0, 6)}
CRITERIA_KEYS = (
    "last_purchase_after",
    "last_purchase_before",
    "products",
    "won_total_min",
    "won_total_max",
    "purchases_min",
    "purchases_max",
    "nps_bands",
    "consent_only",
)


def _date(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise DomainError(f"'{value}' is not a date (YYYY-MM-DD).", field=field) from None


def _amount(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise DomainError(f"'{value}' is not an amount.", field=field) from None
    if not number.is_finite() or number < 0:
        raise DomainError("An amount cannot be negative.", field=field)
    return str(number)


def _count(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(f"'{value}' is not a whole number.", field=field) from None
    if number < 0:
        raise DomainError("A number of purchases cannot be negative.", field=field)
    return number


def segment_criteria_clean(raw: dict[str, Any]) -> dict[str, Any]:
    """Criteria as stored: known keys only, values checked, empty ones left out."""
    unknown = set(raw) - set(CRITERIA_KEYS)
    if unknown:
        raise DomainError(f"Unknown segment criteria: {', '.join(sorted(unknown))}.")
    clean: dict[str, Any] = {}
    for key in ("last_purchase_after", "last_purchase_before"):
        clean[key] = _date(raw.get(key), key)
    for key in ("won_total_min", "won_total_max"):
        clean[key] = _amount(raw.get(key), key)
    for key in ("purchases_min", "purchases_max"):
        clean[key] = _count(raw.get(key), key)
    products = [int(pk) for pk in raw.get("products") or []]
    if products and Product.objects.filter(pk__in=products).count() != len(set(products)):
        raise DomainError("One of the products does not exist.", field="products")
    clean["products"] = sorted(set(products))
    bands = list(raw.get("nps_bands") or [])
    if set(bands) - set(NPS_BANDS):
        raise DomainError("NPS bands are promoter, passive and detractor.", field="nps_bands")
    clean["nps_bands"] = [band for band in NPS_BANDS if band in bands]
    clean["consent_only"] = bool(raw.get("consent_only"))
    after, before = clean["last_purchase_after"], clean["last_purchase_before"]
    if after and before and after >= before:
        raise DomainError(
            "The “after” date must come before the “before” date.", field="last_purchase_before"
        )
    for low, high, convert in (
        ("won_total_min", "won_total_max", Decimal),
        ("purchases_min", "purchases_max", int),
    ):
        both = clean[low] is not None and clean[high] is not None
        if both and convert(clean[low]) > convert(clean[high]):
            raise DomainError("The minimum is above the maximum.", field=high)
    return {key: value for key, value in clean.items() if value not in (None, [], False)}


def _name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("A segment needs a name.", field="name")
    if len(name) > 120:
        raise DomainError("The name can be at most 120 characters long.", field="name")
    return name


@transaction.atomic
def segment_create(*, actor: Any, name: str, criteria: dict[str, Any]) -> Segment:
    """Save a segment; its criteria are checked, and it is evaluated whenever it is used."""
    require_admin_or_manager(actor, ONLY_MARKETERS)
    name = _name(name)
    if Segment.objects.filter(name__iexact=name).exists():
        raise DomainError(f"There is already a segment called “{name}”.", field="name")
    return Segment.objects.create(
        name=name, criteria=segment_criteria_clean(criteria), created_by=acting_user(actor)
    )


@transaction.atomic
def segment_update(*, actor: Any, segment: Segment, name: str, criteria: dict[str, Any]) -> Segment:
    """Change a segment; mailings already started keep the recipients they had."""
    require_admin_or_manager(actor, ONLY_MARKETERS)
    name = _name(name)
    if Segment.objects.filter(name__iexact=name).exclude(pk=segment.pk).exists():
        raise DomainError(f"There is already a segment called “{name}”.", field="name")
    segment.name, segment.criteria = name, segment_criteria_clean(criteria)
    segment.save(update_fields=["name", "criteria", "updated_at"])
    return segment


def _won_deals_of_outer_contact() -> QuerySet[Deal]:
    """Won deals of the outer query's contact: as the deal's contact or through its company."""
    return (
        Deal.objects.filter(status=DealStatus.WON)
        .filter(Q(contact_id=OuterRef("pk")) | Q(organization_id=OuterRef("organization_id")))
        .order_by()
    )


def _one_value(queryset: QuerySet[Deal], **aggregate: Any) -> Subquery:
    # every row has status=won, so grouping by it makes exactly one group: one aggregate value
    return Subquery(queryset.values("status").annotate(**aggregate).values(*aggregate)[:1])


def _day_start(iso: str) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(iso), dt.time.min))


def customers_annotated(*, user: Any = None) -> QuerySet[Contact]:
    """Every customer contact, with last purchase, purchases, won total (base currency), the
    latest NPS score and primary email annotated; visible to `user` when given."""
    won = _won_deals_of_outer_contact()
    latest_nps = SurveyResponse.objects.filter(
        invite__contact_id=OuterRef("pk"), invite__survey__kind=SurveyKind.NPS
    ).order_by("-answered_at", "-pk")
    email = ContactEmail.objects.filter(contact_id=OuterRef("pk")).order_by("-is_primary", "pk")
    contacts = Contact.objects.filter(Exists(won)).annotate(
        last_purchase=_one_value(won, v=Max("won_at")),
        purchases=Coalesce(_one_value(won, v=Count("pk")), Value(0)),
        won_total=Coalesce(
            _one_value(won.filter(currency=base_currency()), v=Sum("value")),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=16, decimal_places=2),
        ),
        nps_score=Subquery(latest_nps.values("score")[:1], output_field=IntegerField()),
        email=Subquery(email.values("email")[:1]),
    )
    if user is not None:
        contacts = contacts.visible_to(user)
    return contacts


def segment_contacts(segment: Segment, *, user: Any = None) -> QuerySet[Contact]:
    """The contacts a segment's criteria select now (visible to `user` when given), newest
    buyers first."""
    criteria = segment.criteria or {}
    contacts = customers_annotated(user=user)
    if criteria.get("last_purchase_after"):
        contacts = contacts.filter(last_purchase__gte=_day_start(criteria["last_purchase_after"]))  # type: ignore[misc]
    if criteria.get("last_purchase_before"):
        contacts = contacts.filter(last_purchase__lt=_day_start(criteria["last_purchase_before"]))  # type: ignore[misc]
    if criteria.get("won_total_min") is not None:
        contacts = contacts.filter(won_total__gte=Decimal(criteria["won_total_min"]))  # type: ignore[misc]
    if criteria.get("won_total_max") is not None:
        contacts = contacts.filter(won_total__lte=Decimal(criteria["won_total_max"]))  # type: ignore[misc]
    if criteria.get("purchases_min") is not None:
        contacts = contacts.filter(purchases__gte=criteria["purchases_min"])  # type: ignore[misc]
    if criteria.get("purchases_max") is not None:
        contacts = contacts.filter(purchases__lte=criteria["purchases_max"])  # type: ignore[misc]
    if criteria.get("products"):
        bought = LineItem.objects.filter(
            product_id__in=criteria["products"],
            proposal__deal__status=DealStatus.WON,
            proposal__deal__deleted_at__isnull=True,
        ).filter(
            Q(proposal__deal__contact_id=OuterRef("pk"))
            | Q(proposal__deal__organization_id=OuterRef("organization_id"))
        )
        contacts = contacts.filter(Exists(bought))
    if criteria.get("nps_bands"):
        band = Q()
        for name in criteria["nps_bands"]:
            low, high = NPS_BANDS[name]
            band |= Q(nps_score__gte=low, nps_score__lte=high)
        contacts = contacts.filter(band)
    if criteria.get("consent_only"):
        contacts = contacts.filter(marketing_consent=True)
    return contacts.order_by("-last_purchase", "last_name", "first_name", "pk")


def nps_band(score: int | None) -> str:
    """The band an NPS score falls in ("" for none)."""
    if score is None:
        return ""
    return next(name for name, (low, high) in NPS_BANDS.items() if low <= score <= high)


def segment_describe(criteria: dict[str, Any]) -> list[str]:
    """The criteria in words, for the segment pages."""
    words: list[str] = []
    if criteria.get("last_purchase_after"):
        words.append(f"last purchase on or after {criteria['last_purchase_after']}")
    if criteria.get("last_purchase_before"):
        words.append(f"last purchase before {criteria['last_purchase_before']}")
    if criteria.get("products"):
        names = Product.objects.filter(pk__in=criteria["products"]).values_list("name", flat=True)
        words.append("bought " + " or ".join(sorted(names)))
    currency = base_currency()
    if criteria.get("won_total_min") is not None:
        words.append(f"won total at least {criteria['won_total_min']} {currency}")
    if criteria.get("won_total_max") is not None:
        words.append(f"won total at most {criteria['won_total_max']} {currency}")
    if criteria.get("purchases_min") is not None:
        words.append(f"at least {criteria['purchases_min']} purchases")
    if criteria.get("purchases_max") is not None:
        words.append(f"at most {criteria['purchases_max']} purchases")
    if criteria.get("nps_bands"):
        words.append("latest NPS answer: " + " or ".join(criteria["nps_bands"]))
    if criteria.get("consent_only"):
        words.append("with marketing consent")
    return words or ["every customer (a contact with a won deal, or of a company with one)"]
