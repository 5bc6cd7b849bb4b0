"""Reads for the customer pages: who has bought, and everything after the sale, per customer.

A customer is an organization or a contact with at least one won deal the user may see. Every
figure counts only won deals the user may see (a rep: their own), so a list never reveals a
colleague's sales; values add up deals in the base currency only, as the reports do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)

from closeloop.accounts.visibility import owner_filter
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.core.money import base_currency
from closeloop.people.models import Contact, Organization
from closeloop.pipeline.choices import DealStatus
from closeloop.pipeline.models import Deal
from closeloop.proposals.choices import ProposalStatus
from closeloop.proposals.models import LineItem, Proposal

from .choices import SurveyKind
from .models import Coupon, FollowUpPlan, PlanStep, Referral, SurveyResponse

MAX_REFERRAL_CONTACTS = 20  # referral links shown on an organization's page


def _visible(user: Any, field_name: str) -> Q:
    condition = owner_filter(user, field_name)
    return Q() if condition is None else condition


def _won(user: Any, prefix: str) -> Q:
    """Won, live deals the user may see, through the relation `prefix` ("deals__" or "")."""
    return Q(**{f"{prefix}status": DealStatus.WON, f"{prefix}deleted_at__isnull": True}) & (
        _visible(user, f"{prefix}owner")
    )


def _latest_score(kind: str, invite_field: str) -> Subquery:
    latest = SurveyResponse.objects.filter(
        **{f"invite__{invite_field}": OuterRef("pk"), "invite__survey__kind": kind}
    ).order_by("-answered_at", "-pk")
    return Subquery(latest.values("score")[:1])


def _customers(qs: Any, user: Any, invite_field: str) -> QuerySet[Any]:
    won = _won(user, "deals__")
    return (
        qs.visible_to(user)
        .annotate(
            purchases=Count("deals", filter=won),
            last_purchase=Max("deals__won_at", filter=won),
            won_value=Sum(
                "deals__value",
                filter=won & Q(deals__currency=base_currency()),
                output_field=DecimalField(max_digits=20, decimal_places=2),
            ),
        )
        .filter(purchases__gt=0)
        .annotate(
            nps=_latest_score(SurveyKind.NPS, invite_field),
            csat=_latest_score(SurveyKind.CSAT, invite_field),
        )
        .select_related("owner")
        .order_by("-last_purchase", "pk")
    )


def customer_organizations(*, user: Any, q: str = "") -> QuerySet[Organization]:
    """Organizations with a won deal the user may see: purchases, last purchase, won value,
    latest NPS and CSAT score, account owner; most recent buyers first."""
    qs = Organization.objects.all()
    if q:
        qs = qs.filter(name__icontains=q)
    return _customers(qs, user, "organization")


def customer_contacts(*, user: Any, q: str = "") -> QuerySet[Contact]:
    """Contacts who are the contact of a won deal the user may see, with the same figures."""
    qs = Contact.objects.select_related("organization")
    if q:
        qs = qs.filter(Q(first_name__icontains=q) | Q(last_name__icontains=q))
    return _customers(qs, user, "contact")


def customer_organization_get(*, user: Any, pk: int) -> Organization | None:
    """An organization the user may see, or None (hidden and missing look the same)."""
    return Organization.objects.visible_to(user).select_related("owner").filter(pk=pk).first()


def customer_contact_get(*, user: Any, pk: int) -> Contact | None:
    """A contact the user may see, or None (hidden and missing look the same)."""
    return (
        Contact.objects.visible_to(user)
        .select_related("owner", "organization")
        .prefetch_related("emails")
        .filter(pk=pk)
        .first()
    )


@dataclass
class CustomerPage:
    """Everything after the sale for one customer, as the user may see it."""

    purchases: list[Deal] = field(default_factory=list)
    plans: list[FollowUpPlan] = field(default_factory=list)
    responses: list[SurveyResponse] = field(default_factory=list)
    coupons: list[Coupon] = field(default_factory=list)
    tasks: list[Activity] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    won_value: Any = 0
    other_currency: int = 0


def _products(deal: Deal) -> list[LineItem]:
    """What a won deal sold: the lines of its accepted proposal(s), else of its newest one."""
    proposals = list(deal.proposals.all())  # prefetched, newest first
    chosen = [p for p in proposals if p.status == ProposalStatus.ACCEPTED] or proposals[:1]
    return [line for proposal in chosen for line in proposal.lines.all()]


def customer_page(
    *, user: Any, organization: Organization | None = None, contact: Contact | None = None
) -> CustomerPage:
    """Purchases with their products, follow-up plans and steps, survey answers, coupons and
    redemptions, open service tasks and referrals of one customer; a fixed number of queries,
    however many rows."""
    if organization is not None:
        of = Q(organization=organization)
        invite_of = Q(invite__organization=organization)
        referrer_of = Q(referrer__organization=organization)
    else:
        assert contact is not None
        of = Q(contact=contact)
        invite_of = Q(invite__contact=contact)
        referrer_of = Q(referrer=contact)
    proposals = Proposal.objects.order_by("-created_at", "-pk").prefetch_related(
        Prefetch("lines", queryset=LineItem.objects.select_related("product"))
    )
    purchases = list(
        Deal.objects.filter(of)
        .filter(_won(user, ""))
        .select_related("owner", "contact", "organization")
        .prefetch_related(Prefetch("proposals", queryset=proposals))
        .order_by("-won_at", "-pk")
    )
    currency = base_currency()
    for deal in purchases:
        deal.products = _products(deal)  # type: ignore[attr-defined]
    page = CustomerPage(
        purchases=purchases,
        won_value=sum((d.value for d in purchases if d.currency == currency), start=0),
        other_currency=sum(1 for d in purchases if d.currency != currency),
    )
    page.plans = list(
        FollowUpPlan.objects.filter(of)
        .filter(deal__in=Deal.objects.visible_to(user))
        .select_related("deal", "owner")
        .prefetch_related(Prefetch("steps", queryset=PlanStep.objects.order_by("position", "pk")))
        .order_by("-created_at", "-pk")
    )
    page.responses = list(
        SurveyResponse.objects.filter(invite_of)
        .select_related("invite__survey", "invite__contact", "invite__deal")
        .order_by("-answered_at", "-pk")
    )
    page.coupons = list(
        Coupon.objects.filter(of)
        .select_related("contact")
        .prefetch_related("redemptions__deal")
        .order_by("-created_at", "-pk")
    )
    page.tasks = list(
        Activity.objects.filter(of, kind=ActivityKind.TASK, done_at__isnull=True, outcome="")
        .select_related("owner", "deal")
        .order_by("due_at", "pk")
    )
    page.referrals = list(
        Referral.objects.filter(referrer_of)
        .filter(_visible(user, "lead__owner") | _visible(user, "deal__owner"))
        .select_related("referrer", "lead", "deal", "reward")
        .order_by("-created_at", "-pk")
    )
    if organization is not None:
        page.contacts = list(
            Contact.objects.visible_to(user)
            .filter(organization=organization)
            .order_by("last_name", "first_name", "pk")[:MAX_REFERRAL_CONTACTS]
        )
    return page
