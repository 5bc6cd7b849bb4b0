"""A form cannot attach a record the user may not see.

Forms offer organizations, contacts, proposals and people to pick from; a hand-made POST can
name any id. Naming the outsider's record (a rep of another team) must leave it unattached for
the rep and the rep's manager — the form refuses the choice, or the page answers 404 — while the
same POST from an admin attaches it (so the data was otherwise good).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from closeloop.activities.models import ActivityAttendee
from closeloop.aftersales.models import Coupon
from closeloop.people.models import Contact
from closeloop.pipeline.models import Deal
from closeloop.proposals.models import Proposal
from tests.factories import DealFactory, stage_named
from tests.route_records import fill

from .page_records import PageRecords
from .test_page_rules import browser_for

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Reference:
    """A POST naming the outsider's record, and how to count what got attached to it."""

    url: str
    data: dict[str, Any]
    attached: Callable[[PageRecords], int]


def _deals_with(field: str) -> Callable[[PageRecords], int]:
    return lambda r: Deal.objects.filter(**{field: r[field]}).exclude(pk=r["deal"]).count()


REFERENCES = {
    "a new deal's contact": Reference(
        "/deals/new/",
        {"title": "Mine", "stage": "{proposal_stage}", "owner": "{caller}", "currency": "EUR",
         "contact": "{contact}"},
        _deals_with("contact"),
    ),
    "a new deal's organization": Reference(
        "/deals/new/",
        {"title": "Mine", "stage": "{proposal_stage}", "owner": "{caller}", "currency": "EUR",
         "organization": "{organization}"},
        _deals_with("organization"),
    ),
    "an edited deal's contact": Reference(
        "/deals/{caller_deal}/edit/",
        {"title": "Mine", "owner": "{caller}", "currency": "EUR", "version": "{caller_version}",
         "contact": "{contact}"},
        _deals_with("contact"),
    ),
    "a new contact's organization": Reference(
        "/people/contacts/new/",
        {"first_name": "Mia", "last_name": "New", "owner": "{caller}",
         "organization": "{organization}"},
        lambda r: Contact.objects.filter(organization_id=r["organization"], last_name="New")
        .count(),
    ),
    "a coupon's customer": Reference(
        "/customers/coupons/new/",
        {"target": "customer", "kind": "percent", "value": "10", "contact": "{contact}",
         "max_uses": "1"},
        lambda r: Coupon.objects.filter(contact_id=r["contact"]).count(),
    ),
    "a proposal copied from another": Reference(
        "/proposals/new/{caller_deal}/",
        {"start": "proposal:{proposal}", "title": "Copy"},
        lambda r: Proposal.objects.filter(title="Copy").count(),
    ),
    "a meeting's attendee": Reference(
        "/activities/schedule/deal/{caller_deal_at_theirs}/",
        {"kind": "meeting", "subject": "Kick-off", "date": "2030-01-07", "start": "10:00",
         "duration": "30", "time_zone": "UTC", "attendee_contacts": "{contact}"},
        lambda r: ActivityAttendee.objects.filter(contact_id=r["contact"]).count(),
    ),
}  # fmt: skip


class CallerRecords(PageRecords):
    """The outsider's records, and the caller's own deal to attach them to."""

    def __init__(self, owner: Any, admin: Any, caller: Any) -> None:
        super().__init__(owner, admin)
        self.caller_user = caller

    def _caller(self) -> int:
        return self.caller_user.pk

    def _proposal_stage(self) -> int:
        return stage_named("Proposal").pk

    def _caller_deal(self) -> int:
        return DealFactory(title="Caller's deal", owner=self.caller_user).pk

    def _caller_deal_at_theirs(self) -> int:
        """The caller's deal with the outsider's organization (whose people it offers)."""
        return DealFactory(owner=self.caller_user, organization_id=self["organization"]).pk

    def _caller_version(self) -> int:
        return Deal.objects.get(pk=self["caller_deal"]).version


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_a_form_cannot_attach_a_record_the_user_may_not_see(name, rep, manager, admin, outsider):
    reference = REFERENCES[name]
    for role, user in (("rep", rep), ("manager", manager), ("admin", admin)):
        records = CallerRecords(outsider, admin, user)
        before = reference.attached(records)
        browser = browser_for(user)
        response = browser.post(
            fill(reference.url, records), fill(reference.data, records),
            headers={"X-CSRFToken": browser.csrf},
        )  # fmt: skip
        assert response.status_code < 500, (role, response.status_code)
        attached = reference.attached(records) - before
        assert attached == (1 if role == "admin" else 0), (role, response.status_code)
