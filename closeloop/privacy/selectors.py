"""What is stored about one contact, wherever it is, and who may export or erase it.

A contact's footprint is everything that names them: their own record, the leads that were
them (same email or phone, or the lead their deal came from), their deals and what hangs off
those (timeline, mail, proposals), survey answers, coupons, consent records, bookings and the
audit log's entries on all of these. The export writes it out; the erasure anonymises it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from closeloop.accounts.choices import Role
from closeloop.activities.booking.models import Booking
from closeloop.activities.models import Activity, ActivityAttendee
from closeloop.aftersales.models import (
    Coupon,
    CouponRedemption,
    FollowUpPlan,
    MailingRecipient,
    Referral,
    SurveyInvite,
)
from closeloop.core.models import AuditEntry
from closeloop.leads.models import Lead
from closeloop.messaging.models import ConsentChange, Message, ReceivedMessage, Suppression
from closeloop.people.models import Contact
from closeloop.people.selectors import contact_get
from closeloop.pipeline.models import Deal
from closeloop.proposals.models import Proposal, ProposalResponse, ProposalVersion


def may_export(*, user: Any, contact: Contact) -> bool:
    """Admins, and managers who may see the contact. The export is complete (records of other
    teams included), as an answer to a person's access request must be; so reps may not."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.MANAGER and contact_get(user=user, pk=contact.pk) is not None


def may_erase(*, user: Any) -> bool:
    """Only admins erase: it cannot be undone."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_admin)


@dataclass
class Footprint:
    """Where one contact's data is: each kind of record as a query (trashed rows included)."""

    contact: Contact
    emails: list[str]
    phones: list[str]  # as typed and as E.164
    leads: QuerySet[Lead]
    deals: QuerySet[Deal]
    activities: QuerySet[Activity]
    attendees: QuerySet[ActivityAttendee]
    bookings: QuerySet[Booking]
    messages: QuerySet[Message]
    received: QuerySet[ReceivedMessage]
    proposals: QuerySet[Proposal]
    versions: QuerySet[ProposalVersion]
    responses: QuerySet[ProposalResponse]
    survey_invites: QuerySet[SurveyInvite]
    coupons: QuerySet[Coupon]
    redemptions: QuerySet[CouponRedemption]
    referrals: QuerySet[Referral]
    consent_changes: QuerySet[ConsentChange]
    suppressions: QuerySet[Suppression]
    mailings: QuerySet[MailingRecipient]
    plans: QuerySet[FollowUpPlan]

    def is_theirs(self, activity: Activity) -> bool:
        """An activity about the person (on their record or their lead), not only their deal."""
        return activity.contact_id == self.contact.pk or activity.lead_id in self.lead_ids

    @cached_property
    def lead_ids(self) -> set[int]:
        return set(self.leads.values_list("pk", flat=True))

    def audit_entries(self) -> QuerySet[AuditEntry]:
        """The log's entries on the contact, their leads, deals and proposals, oldest first."""
        condition = Q(pk__in=[])
        for model, ids in (
            (Contact, [self.contact.pk]),
            (Lead, list(self.lead_ids)),
            (Deal, list(self.deals.values_list("pk", flat=True))),
            (Proposal, list(self.proposals.values_list("pk", flat=True))),
        ):
            content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
            condition |= Q(content_type=content_type, object_id__in=ids)
        return AuditEntry.objects.filter(condition).order_by("created_at", "pk")


def contact_footprint(*, contact: Contact) -> Footprint:
    """Everything stored about `contact` (the caller has checked who may see it)."""
    emails = sorted(set(contact.emails.values_list("email", flat=True)))
    phone_rows = list(contact.phones.values_list("raw", "e164"))
    e164s = sorted({e164 for _, e164 in phone_rows if e164})
    deals = Deal.with_trashed.filter(contact=contact)
    lead_match = Q(pk__in=deals.exclude(lead=None).values("lead_id"))
    if emails:
        lead_match |= Q(email__in=emails)
    if e164s:
        lead_match |= Q(phone_e164__in=e164s)
    leads = Lead.with_trashed.filter(lead_match)
    about = Q(contact=contact) | Q(lead__in=leads) | Q(deal__in=deals)
    proposals = Proposal.objects.filter(deal__in=deals)
    versions = ProposalVersion.objects.filter(proposal__in=proposals)
    return Footprint(
        contact=contact,
        emails=emails,
        phones=sorted({raw for raw, _ in phone_rows} | set(e164s)),
        leads=leads.order_by("pk"),
        deals=deals.order_by("pk"),
        activities=Activity.objects.filter(about).order_by("created_at", "pk"),
        attendees=ActivityAttendee.objects.filter(
            Q(contact=contact) | Q(lead__in=leads) | Q(email__in=emails)
        ).order_by("pk"),
        bookings=Booking.objects.filter(
            Q(activity__contact=contact) | Q(activity__lead__in=leads) | Q(visitor_email__in=emails)
        ).order_by("pk"),
        messages=Message.objects.filter(about).order_by("created_at", "pk"),
        received=ReceivedMessage.objects.filter(about | Q(from_email__in=emails)).order_by(
            "created_at", "pk"
        ),
        proposals=proposals.order_by("pk"),
        versions=versions.order_by("proposal_id", "number"),
        responses=ProposalResponse.objects.filter(version__in=versions).order_by("pk"),
        survey_invites=SurveyInvite.objects.filter(contact=contact)
        .select_related("survey", "response")
        .order_by("pk"),
        coupons=Coupon.objects.filter(contact=contact).order_by("pk"),
        redemptions=CouponRedemption.objects.filter(contact=contact).order_by("pk"),
        referrals=Referral.objects.filter(referrer=contact).order_by("pk"),
        consent_changes=ConsentChange.objects.filter(
            Q(contact=contact) | Q(lead__in=leads) | Q(email__in=emails)
        ).order_by("at", "pk"),
        suppressions=Suppression.objects.filter(Q(contact=contact) | Q(email__in=emails)).order_by(
            "pk"
        ),
        mailings=MailingRecipient.objects.filter(contact=contact).order_by("pk"),
        plans=FollowUpPlan.objects.filter(contact=contact).order_by("pk"),
    )


def footprint_counts(footprint: Footprint) -> dict[str, int]:
    """How many records of each kind name the contact (for the erase page)."""
    return {
        "leads": footprint.leads.count(),
        "deals": footprint.deals.count(),
        "timeline entries": footprint.activities.count(),
        "emails sent": footprint.messages.count(),
        "emails received": footprint.received.count(),
        "proposals": footprint.proposals.count(),
        "survey answers": footprint.survey_invites.count(),
        "coupons": footprint.coupons.count(),
        "consent records": footprint.consent_changes.count(),
        "bookings": footprint.bookings.count(),
    }
