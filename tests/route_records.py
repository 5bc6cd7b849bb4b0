"""The records the route walks name: owned by "the outsider" (a rep of another team), made the
first time a rule names them. tests/api/test_route_rules.py and tests/security/test_page_rules.py
use them; the pages' walk adds the records only pages have."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from closeloop.activities.choices import ActivityKind
from closeloop.activities.services import activity_schedule
from closeloop.aftersales.coupons import coupon_issue
from closeloop.aftersales.models import Survey
from closeloop.aftersales.surveys import survey_answer, survey_invite_send, survey_save
from closeloop.integrations.models import WebhookDelivery
from closeloop.integrations.services.subscriptions import webhook_subscription_create
from closeloop.leads.models import Campaign, DisqualifyReason, Source
from closeloop.leads.services.inputs import LeadInput
from closeloop.leads.services.leads import lead_create
from closeloop.people.models import Contact
from closeloop.pipeline.models import Deal, LostReason, Pipeline, Stage
from closeloop.pipeline.services.setup import stage_create
from closeloop.proposals.models import Product, Proposal
from closeloop.proposals.services import (
    LineIn,
    product_create,
    proposal_create,
    proposal_lines_set,
    proposal_send,
)
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory


class Records:
    """The outsider's records and the workspace's lists, by the names the rules use; each is
    made the first time a rule names it, so a route's test builds only what it needs."""

    def __init__(self, outsider: Any, admin: Any, serial: int = 0) -> None:
        self.outsider_user, self.admin = outsider, admin
        self.made: dict[str, Any] = {"serial": serial}

    def __getitem__(self, name: str) -> Any:
        if name not in self.made:
            self.made[name] = getattr(self, f"_{name}")()
        return self.made[name]

    def _outsider(self) -> int:
        return self.outsider_user.pk

    def _organization(self) -> int:
        return OrganizationFactory(name="Outsider GmbH", owner=self.outsider_user).pk

    def _contact(self) -> int:
        contact = ContactFactory(
            first_name="Olaf", owner=self.outsider_user, organization_id=self["organization"]
        )
        ContactEmailFactory(contact=contact, email="olaf@outsider.example")
        return contact.pk

    def _other_contact(self) -> int:
        return ContactFactory(first_name="Olaf (again)", owner=self.outsider_user).pk

    def _lead(self) -> int:
        data = LeadInput(last_name="Outsider's lead", owner=self.outsider_user)
        return lead_create(actor=self.outsider_user, data=data).lead.pk

    def _subscription(self) -> int:
        return webhook_subscription_create(
            actor=self.outsider_user, url="https://hooks.example/in", events=["lead.created"]
        ).pk

    def _delivery(self) -> int:
        subscription = self["subscription"]
        self["lead"]  # an event the subscription is delivered
        return WebhookDelivery.objects.get(subscription_id=subscription).pk

    def _coupon(self) -> str:
        return coupon_issue(
            actor=self.admin, kind="percent", value=10, code=f"SPRING{self['serial']}", max_uses=5
        ).code

    def _customer_coupon_record(self) -> Any:
        contact = Contact.objects.get(pk=self["contact"])
        return coupon_issue(actor=self.admin, kind="percent", value=5, contact=contact)

    def _customer_coupon(self) -> int:
        return self["customer_coupon_record"].pk

    def _customer_coupon_code(self) -> str:
        return self["customer_coupon_record"].code

    def _lost_reason(self) -> int:
        return LostReason.objects.first().pk

    def _discard(self) -> Any:
        return DisqualifyReason.objects.filter(is_active=True).first()

    def _discard_reason(self) -> int:
        return self["discard"].pk

    def _discard_reason_name(self) -> str:
        return self["discard"].name

    def _campaign(self) -> int:
        return Campaign.objects.create(name=f"Fair {self['serial']}").pk

    def _pipeline(self) -> int:
        return Pipeline.objects.get(is_default=True).pk

    def _stage(self) -> int:
        return Stage.objects.filter(pipeline_id=self["pipeline"]).order_by("position")[1].pk

    def _spare_stage(self) -> int:
        pipeline = Pipeline.objects.get(pk=self["pipeline"])
        return stage_create(actor=self.admin, pipeline=pipeline, name=f"Spare {self['serial']}").pk

    def _activity(self) -> int:
        return activity_schedule(
            actor=self.outsider_user, owner=self.outsider_user, kind=ActivityKind.CALL,
            subject="Call Olaf", starts_at=timezone.now() + dt.timedelta(days=1),
            deal=Deal.objects.get(pk=self["deal"]), send_invites=False,
        ).pk  # fmt: skip

    def _source(self) -> int:
        return Source.objects.first().pk

    def _product(self) -> Product:
        return product_create(
            actor=self.admin, name="Website build", unit_price=Decimal("4000"), currency="EUR"
        )

    def _product_id(self) -> int:
        return self["product"].pk

    def _deal(self) -> int:
        return DealFactory(owner=self.outsider_user, contact_id=self["contact"]).pk

    def _proposal(self) -> int:
        """The outsider's proposal, sent (so it has a PDF)."""
        proposal = proposal_create(actor=self.outsider_user, deal=Deal.objects.get(pk=self["deal"]))
        proposal_lines_set(
            actor=self.outsider_user, proposal=proposal, lines=[LineIn(product=self["product"])]
        )
        proposal_send(actor=self.outsider_user, proposal=proposal)
        return proposal.pk

    def _proposal_version(self) -> int:
        return Proposal.objects.get(pk=self["proposal"]).version

    def _survey(self) -> int:
        return survey_save(
            actor=self.admin, name=f"NPS {self['serial']}", kind="nps", question="Recommend us?",
            comment_label="", questions=[], email_subject="How did we do?",
            email_body="Please tell us.",
        ).pk  # fmt: skip

    def _survey_response(self) -> int:
        contact = Contact.objects.get(pk=self["contact"])
        deal = Deal.objects.get(pk=self["deal"])
        survey = Survey.objects.get(pk=self["survey"])
        invite = survey_invite_send(actor=None, survey=survey, contact=contact, deal=deal)
        return survey_answer(invite=invite, score=9, comment="").pk


def fill(value: Any, records: Records) -> Any:
    """Put the records' ids into a rule's url, query, body or form ("{contact}" → 17)."""
    if isinstance(value, dict):
        return {k: fill(v, records) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return records[value[1:-1]]
    if isinstance(value, str):
        return value.format_map(records)
    return value
