"""The records only pages have, for the walk of every page URL (test_page_rules.py).

Each is owned, created or sent by `owner_user`: the outsider (a rep of another team) in the
main walk, the rep of the manager's team in the team walk. Records the pages list carry a
marker text (MARKERS) the list must show to whoever may see them and nobody else.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from django.utils import timezone

from closeloop.accounts.choices import Role
from closeloop.accounts.services import api_token_create
from closeloop.activities.booking.selectors import free_slots_for
from closeloop.activities.booking.services import (
    MeetingTypeInput,
    Visitor,
    availability_set,
    booking_create,
    booking_page_save,
    booking_token,
    meeting_type_save,
)
from closeloop.activities.booking.slots import WeeklyWindow
from closeloop.activities.feed import calendar_feed_reset, calendar_feed_token
from closeloop.activities.models import Notification
from closeloop.activities.services import notification_create
from closeloop.aftersales.coupons import coupon_redeem
from closeloop.aftersales.mailings import mailing_create
from closeloop.aftersales.models import FollowUpPlan, SurveyInvite
from closeloop.aftersales.plans import StepInput, plan_step_template_add, plan_template_create
from closeloop.aftersales.plans.running import plans_start_for_won_deal
from closeloop.aftersales.referrals import referral_token
from closeloop.aftersales.segments import segment_create
from closeloop.aftersales.surveys import invite_token, survey_invite_send
from closeloop.aftersales.unsubscribe import unsubscribe_token
from closeloop.leads.assignment import RuleInput, assignment_rule_create
from closeloop.leads.imports.services import import_start
from closeloop.leads.models import DuplicatePair, QualificationCriterion
from closeloop.leads.services.inputs import LeadInput
from closeloop.leads.services.leads import lead_create
from closeloop.leads.webforms import (
    WebFormField,
    WebFormInput,
    webform_create,
    webform_public_token,
    webform_started_token,
)
from closeloop.messaging.models import EmailTemplate
from closeloop.messaging.services import AttachmentIn, message_queue
from closeloop.messaging.template_services import email_template_create
from closeloop.people.models import Contact, Organization
from closeloop.pipeline.models import Deal
from closeloop.pipeline.services import deal_mark_won
from closeloop.proposals.links import version_token
from closeloop.proposals.models import Proposal, ProposalTemplate
from closeloop.proposals.services import (
    LineIn,
    approval_request,
    discount_limit_set,
    proposal_create,
    proposal_lines_set,
    proposal_materials_add,
    proposal_send,
)
from tests.factories import DealFactory, UserFactory
from tests.route_records import Records

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# The text each listed record shows in a list, an export or a report.
MARKERS = {
    "organization": "Outsider GmbH",
    "contact": "Olaf",
    "lead": "Outsider lead",
    "deal": "Outsider deal",
    "won_deal": "Outsider order",
    "activity": "Call Olaf",
    "customer_coupon_code": "",  # the code itself, known once made
    "customer_organization": "Outsider GmbH",
    "message": "Quote for Olaf",
    "import_batch": "outsider-leads.csv",
    "duplicate_pair": "Outsider lead",
    "subscription": "hooks.example/in",
    "approval": "Outsider discount",
    "proposal": "Outsider proposal",
    "survey_response": "Olaf said great",
    "booking_page": "Outsider's page",
    "notification": "Note for the outsider",
    "campaign_lead": "Fair visitor",
    "campaign_deal": "Fair order",
    "trashed_deal": "Outsider binned deal",
    "trashed_lead": "Outsider binned lead",
    "trashed_organization": "Outsider binned GmbH",
    "trashed_contact": "Binnie",
}


class PageRecords(Records):
    """The API walk's records (organization, contact, lead, deal, proposal…) and the pages' own."""

    def __init__(self, owner: Any, admin: Any, serial: int = 0) -> None:
        super().__init__(owner, admin, serial)

    def marker(self, name: str) -> str:
        """The text the record `name` shows in lists; the record is made if it was not yet."""
        made = self[name]
        return str(made) if name == "customer_coupon_code" else MARKERS[name]

    # --- people, leads, deals: the API's, named so lists can be searched for them ---

    def _lead(self) -> int:
        data = LeadInput(last_name=MARKERS["lead"], email="lead@outsider.example",
                         owner=self.outsider_user)  # fmt: skip
        return lead_create(actor=self.outsider_user, data=data).lead.pk

    def _other_lead(self) -> int:
        data = LeadInput(last_name="Outsider lead (again)", owner=self.outsider_user)
        return lead_create(actor=self.outsider_user, data=data).lead.pk

    def _deal(self) -> int:
        return DealFactory(
            title=MARKERS["deal"], owner=self.outsider_user, contact_id=self["contact"],
            organization_id=self["organization"],
        ).pk  # fmt: skip

    def _campaign_lead(self) -> int:
        from closeloop.leads.models import Campaign

        campaign = Campaign.objects.get(pk=self["campaign"])
        data = LeadInput(last_name=MARKERS["campaign_lead"], campaign=campaign,
                         owner=self.outsider_user)  # fmt: skip
        return lead_create(actor=self.outsider_user, data=data).lead.pk

    def _campaign_deal(self) -> int:
        return DealFactory(
            title=MARKERS["campaign_deal"], owner=self.outsider_user, campaign_id=self["campaign"]
        ).pk

    def _won_deal(self) -> int:
        """A won deal of the outsider's organization and contact: they are customers."""
        deal = DealFactory(
            title=MARKERS["won_deal"], owner=self.outsider_user, contact_id=self["contact"],
            organization_id=self["organization"],
        )  # fmt: skip
        return deal_mark_won(actor=self.outsider_user, deal=deal).pk

    def _lost_deal(self) -> int:
        """A deal the owner lost on price to a competitor."""
        from closeloop.pipeline.models import LostReason
        from closeloop.pipeline.services import deal_mark_lost

        deal = DealFactory(title="Outsider lost", owner=self.outsider_user,
                           organization_id=self["organization"])  # fmt: skip
        reason = LostReason.objects.order_by("position").first()
        return deal_mark_lost(
            actor=self.outsider_user, deal=deal, reason=reason, competitor="BigCRM"
        ).pk

    def _contact_phone(self) -> int:
        from closeloop.people.models import ContactPhone

        return ContactPhone.objects.create(
            contact_id=self["contact"], raw="+49 30 1234567", e164="+49301234567", is_primary=True
        ).pk

    def _customer(self) -> int:
        """The outsider's contact, once they have bought."""
        self["won_deal"]
        return self["contact"]

    def _customer_organization(self) -> int:
        self["won_deal"]
        return self["organization"]

    def _trashed_deal(self) -> int:
        deal = DealFactory(title=MARKERS["trashed_deal"], owner=self.outsider_user)
        deal.deleted_at = timezone.now()
        deal.save(update_fields=["deleted_at"])
        return deal.pk

    def _trashed_organization(self) -> int:
        organization = Organization.objects.create(
            name=MARKERS["trashed_organization"],
            owner=self.outsider_user,
            deleted_at=timezone.now(),
        )
        return organization.pk

    def _trashed_contact(self) -> int:
        return Contact.objects.create(
            first_name=MARKERS["trashed_contact"],
            owner=self.outsider_user,
            deleted_at=timezone.now(),
        ).pk

    def _trashed_lead(self) -> int:
        from closeloop.leads.models import Lead

        return Lead.objects.create(
            last_name=MARKERS["trashed_lead"], owner=self.outsider_user, deleted_at=timezone.now()
        ).pk

    def _lead_in_trash(self) -> bool:
        from closeloop.leads.models import Lead

        return Lead.with_trashed.get(pk=self["lead"]).deleted_at is not None

    def _deal_stage(self) -> int:
        return Deal.objects.get(pk=self["deal"]).stage_id

    def _criterion(self) -> int:
        return QualificationCriterion.objects.order_by("position").first().pk  # type: ignore[union-attr]

    def _duplicate_pair(self) -> int:
        return DuplicatePair.objects.create(
            lead_id=self["lead"], other_lead_id=self["other_lead"], score=95, evidence="same name"
        ).pk

    def _manager_of_owner(self) -> Any:
        """A manager in the owner's teams (imports are for managers and admins)."""
        return UserFactory(
            email=f"boss{self['serial']}.{self.outsider_user.pk}@example.com",
            full_name="Bea Boss", role=Role.MANAGER, teams=list(self.outsider_user.teams.all()),
        )  # fmt: skip

    def _import_batch(self) -> int:
        data = io.BytesIO(b"Last name,Email\nImported,imported@outsider.example\n")
        return import_start(
            actor=self["manager_of_owner"], kind="leads", stream=data,
            file_name=MARKERS["import_batch"],
        ).pk  # fmt: skip

    # --- activities, messages, files ---

    def _activity(self) -> int:
        from closeloop.activities.choices import ActivityKind
        from closeloop.activities.services import activity_schedule

        return activity_schedule(
            actor=self.outsider_user, owner=self.outsider_user, kind=ActivityKind.CALL,
            subject=MARKERS["activity"], starts_at=timezone.now() + dt.timedelta(days=1),
            deal=Deal.objects.get(pk=self["deal"]), send_invites=False,
        ).pk  # fmt: skip

    def _message_record(self) -> Any:
        return message_queue(
            actor=self.outsider_user, to="olaf@outsider.example", subject=MARKERS["message"],
            text_body="Here is the quote.", html_body="<p>Here is the quote.</p>",
            attachments=[AttachmentIn("quote.pdf", PDF, "application/pdf")],
            deal=Deal.objects.get(pk=self["deal"]),
        )  # fmt: skip

    def _message(self) -> int:
        return self["message_record"].pk

    def _attachment(self) -> int:
        return self["message_record"].attachments.get().pk

    def _received_message(self) -> int:
        """A mail the mailbox read from a stranger (its sender's name and subject are theirs)."""
        from closeloop.messaging.inbound.models import MailOutcome, ReceivedMessage

        return ReceivedMessage.objects.create(
            message_id=f"<m{self['serial']}@stranger.example>", from_name="Stranger",
            from_email="stranger@stranger.example", subject="Hello", text_body="Hi",
            outcome=MailOutcome.IGNORED, note="Nobody we know",
        ).pk  # fmt: skip

    def _notification(self) -> int:
        return notification_create(  # type: ignore[union-attr]
            recipient=self.outsider_user, kind="mention", title=MARKERS["notification"]
        ).pk

    def _notification_unread(self) -> bool:
        return Notification.objects.get(pk=self["notification"]).read_at is None

    def _api_token(self) -> int:
        return api_token_create(actor=self.outsider_user, user=self.outsider_user, name="Shop")[
            0
        ].pk

    def _feed_token(self) -> str:
        user = calendar_feed_reset(actor=self.outsider_user, user=self.outsider_user)
        return calendar_feed_token(user)

    # --- proposals ---

    def _proposal(self) -> int:
        """The owner's proposal, sent (so it has a version, a PDF and a public link)."""
        proposal = proposal_create(
            actor=self.outsider_user, deal=Deal.objects.get(pk=self["deal"]),
            title=MARKERS["proposal"],
        )  # fmt: skip
        proposal_lines_set(
            actor=self.outsider_user, proposal=proposal, lines=[LineIn(product=self["product"])]
        )
        proposal_materials_add(
            actor=self.outsider_user, proposal=proposal, uploads=[("spec.pdf", PDF)]
        )
        proposal_send(actor=self.outsider_user, proposal=proposal)
        return proposal.pk

    def _material(self) -> int:
        return Proposal.objects.get(pk=self["proposal"]).materials.get().pk

    def _version(self) -> Any:
        return Proposal.objects.get(pk=self["proposal"]).versions.order_by("number").last()

    def _version_number(self) -> int:
        return self["version"].number

    def _proposal_token(self) -> str:
        return version_token(self["version"])

    def _approval(self) -> int:
        """The owner asks for 30 % off on a second proposal of the deal."""
        discount_limit_set(actor=self.admin, role="rep", max_percent="10")
        discount_limit_set(actor=self.admin, role="manager", max_percent="10")
        proposal = proposal_create(
            actor=self.outsider_user, deal=Deal.objects.get(pk=self["deal"]),
            title=MARKERS["approval"],
        )  # fmt: skip
        proposal_lines_set(
            actor=self.outsider_user, proposal=proposal,
            lines=[LineIn(product=self["product"], discount_value="30")],
        )  # fmt: skip
        return approval_request(actor=self.outsider_user, proposal=proposal, reason="Big one").pk

    def _proposal_template(self) -> int:
        return ProposalTemplate.objects.create(
            name=f"Outsider template {self['serial']}", currency="EUR"
        ).pk

    # --- after the sale ---

    def _redemption(self) -> int:
        contact = Contact.objects.get(pk=self["customer"])
        redemption = coupon_redeem(
            actor=self.admin, code=self["coupon"], order_value=Decimal("100"), currency="EUR",
            contact=contact,
        )  # fmt: skip
        return redemption.pk

    def _plan_record(self) -> Any:
        template = plan_template_create(
            actor=self.admin, name=f"Welcome {self['serial']}", pipeline=Deal.objects.get(
                pk=self["deal"]).pipeline,
        )  # fmt: skip
        plan_step_template_add(
            actor=self.admin, template=template,
            step=StepInput(kind="task", title="Say thanks", offset_days=5),
        )  # fmt: skip
        deal = Deal.objects.get(pk=self["deal"])
        deal = deal_mark_won(actor=self.outsider_user, deal=deal)
        plans_start_for_won_deal(actor=self.outsider_user, deal=deal)
        return FollowUpPlan.objects.get(deal=deal, template=template)

    def _plan(self) -> int:
        return self["plan_record"].pk

    def _plan_step(self) -> int:
        return self["plan_record"].steps.first().pk

    def _plan_template(self) -> int:
        return plan_template_create(
            actor=self.admin, name=f"Onboarding {self['serial']}",
            pipeline=Deal.objects.get(pk=self["deal"]).pipeline,
        ).pk  # fmt: skip

    def _plan_step_template(self) -> int:
        from closeloop.aftersales.models import PlanTemplate

        template = PlanTemplate.objects.get(pk=self["plan_template"])
        return plan_step_template_add(
            actor=self.admin, template=template, step=StepInput(kind="task", title="Call")
        ).pk

    def _survey_response(self) -> int:
        from closeloop.aftersales.surveys import survey_answer

        invite = self["survey_invite"]
        return survey_answer(invite=invite, score=9, comment=MARKERS["survey_response"]).pk

    def _survey_invite(self) -> SurveyInvite:
        from closeloop.aftersales.models import Survey

        return survey_invite_send(
            actor=self.outsider_user, survey=Survey.objects.get(pk=self["survey"]),
            contact=Contact.objects.get(pk=self["contact"]),
            deal=Deal.objects.get(pk=self["deal"]),
        )  # fmt: skip

    def _survey_token(self) -> str:
        return invite_token(self["survey_invite"])

    def _referral_token(self) -> str:
        return referral_token(Contact.objects.get(pk=self["contact"]))

    def _unsubscribe_token(self) -> str:
        contact = Contact.objects.get(pk=self["contact"])
        return unsubscribe_token(email="olaf@outsider.example", contact=contact)

    def _email_template(self) -> int:
        return email_template_create(
            actor=self.admin, name=f"Hello {self['serial']}", subject="Hello",
            text_body="Hello {{ contact.first_name }}",
        ).pk  # fmt: skip

    def _segment(self) -> int:
        return segment_create(
            actor=self.admin, name=f"Customers {self['serial']}", criteria={"purchases_min": 1}
        ).pk

    def _mailing(self) -> int:
        from closeloop.aftersales.models import Segment

        return mailing_create(
            actor=self.admin, name="Spring news", segment=Segment.objects.get(pk=self["segment"]),
            template=EmailTemplate.objects.get(pk=self["email_template"]),
        ).pk  # fmt: skip

    # --- settings ---

    def _assignment_rule(self) -> int:
        return assignment_rule_create(
            actor=self.admin, data=RuleInput(name=f"All to the outsider {self['serial']}",
                                              user=self.outsider_user),
        ).pk  # fmt: skip

    def _webform_record(self) -> Any:
        fields = [WebFormField("last_name", required=True), WebFormField("email", required=True)]
        return webform_create(
            actor=self.admin, data=WebFormInput(name=f"Contact us {self['serial']}", fields=fields)
        )

    def _webform(self) -> int:
        return self["webform_record"].pk

    def _webform_token(self) -> str:
        return webform_public_token(self["webform_record"])

    def _webform_started(self) -> str:
        """The "form shown at" stamp of a visitor who took half a minute to fill it in."""
        shown = timezone.now() - dt.timedelta(seconds=30)
        return webform_started_token(self["webform_record"], at=shown)

    # --- booking ---

    def _booking_page_record(self) -> Any:
        owner = self.outsider_user
        all_week = [WeeklyWindow(day, dt.time(0), dt.time(23, 30)) for day in range(7)]
        availability_set(actor=None, user=owner, windows=all_week)
        return booking_page_save(
            actor=owner, owner=owner, slug=f"page-{owner.pk}", title=MARKERS["booking_page"]
        )

    def _booking_page(self) -> int:
        return self["booking_page_record"].pk

    def _booking_slug(self) -> str:
        return self["booking_page_record"].slug

    def _meeting_type_record(self) -> Any:
        return meeting_type_save(
            actor=None, page=self["booking_page_record"],
            data=MeetingTypeInput(name="Intro call", notice_hours=1, horizon_days=30),
        )  # fmt: skip

    def _meeting_type(self) -> int:
        return self["meeting_type_record"].pk

    def _booking_token(self) -> str:
        meeting_type = self["meeting_type_record"]
        now = timezone.now()
        start = next(
            iter(free_slots_for(meeting_type=meeting_type, start=now,
                                end=now + dt.timedelta(days=7), now=now))
        )  # fmt: skip
        booking = booking_create(
            meeting_type=meeting_type, starts_at=start,
            visitor=Visitor(name="Vera Visitor", email="vera@visitor.example",
                            time_zone="Europe/Berlin"),
        )  # fmt: skip
        return booking_token(booking)
