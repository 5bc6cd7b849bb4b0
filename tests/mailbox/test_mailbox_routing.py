"""Where received mail lands: replies thread under our message, known people get it on their
timeline and open deal, mail a user BCCs to the mailbox lands on the recipient's timeline."""

from __future__ import annotations

from typing import Any

from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.leads.models import Lead
from closeloop.messaging.choices import MessageState
from closeloop.messaging.inbound.models import MailKind, MailOutcome, ReceivedMessage
from closeloop.messaging.inbound.polling import mailbox_poll
from closeloop.messaging.services import message_queue
from closeloop.pipeline.choices import DealStatus
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory

from .mails import bounce, mail


def _poll() -> Any:
    poll = mailbox_poll()
    assert poll is not None and poll.ok, poll and poll.error
    return poll


def test_a_reply_to_our_message_threads_under_it_on_its_deal(
    mailbox: Any, rep: Any, client_for: Any
) -> None:
    contact = ContactFactory(first_name="Clara")
    ContactEmailFactory(contact=contact, email="clara@acme-industries.com")
    deal = DealFactory(contact=contact, organization=contact.organization, owner=rep)
    ours = message_queue(
        actor=rep, to="clara@acme-industries.com", subject="Your proposal", text_body="Here.",
        deal=deal,
    )  # fmt: skip
    # The reply comes from another address of the company (a colleague answers for Clara).
    mailbox.append(
        mail(
            sender="Bob <bob@acme-industries.com>",
            subject="Re: Your proposal",
            text="Looks good, send the contract.",
            headers={"In-Reply-To": ours.message_id, "References": ours.message_id},
        )
    )

    poll = _poll()

    received = ReceivedMessage.objects.get()
    assert received.outcome == MailOutcome.REPLY
    assert received.reply_to == ours
    entry = received.activity
    assert entry is not None and entry.kind == ActivityKind.EMAIL
    assert (entry.deal, entry.contact, entry.organization) == (
        deal,
        contact,
        contact.organization,
    )
    assert "Looks good, send the contract." in entry.body
    assert "In reply to: “Your proposal”" in entry.body
    # the deal page shows the reply in its timeline
    page = client_for(rep).get(f"/deals/{deal.pk}/").content.decode()
    assert "Re: Your proposal" in page and "In reply to: “Your proposal”" in page
    assert not Lead.objects.exists()  # Bob is not made a lead: he answered our mail
    assert (poll.leads_created, poll.activities_added) == (0, 1)


def test_a_reply_naming_our_message_only_in_references_still_threads(
    mailbox: Any, rep: Any
) -> None:
    lead = Lead.objects.create(first_name="Lena", email="lena@lenas-laden.de")
    ours = message_queue(
        actor=rep, to="lena@lenas-laden.de", subject="Hello", text_body="Hi", lead=lead
    )
    mailbox.append(
        mail(
            sender="someone-else@other.example",
            subject="Fwd: Hello",
            headers={"In-Reply-To": "<unknown@elsewhere>", "References": ours.message_id},
        )
    )

    _poll()

    assert ReceivedMessage.objects.get().activity.lead == lead  # type: ignore[union-attr]
    assert Lead.objects.count() == 1


def test_mail_from_a_known_lead_goes_on_its_timeline(mailbox: Any) -> None:
    lead = Lead.objects.create(first_name="Lena", email="lena@lenas-laden.de")
    mailbox.append(mail(sender="Lena <LENA@lenas-laden.de>", subject="Another question"))

    poll = _poll()

    assert Lead.objects.count() == 1
    entry = lead.activities.get(kind=ActivityKind.EMAIL)
    assert entry.subject == "Another question"
    assert ReceivedMessage.objects.get().outcome == MailOutcome.KNOWN_SENDER
    assert (poll.leads_created, poll.activities_added) == (0, 1)


def test_mail_from_a_contacts_second_address_goes_on_the_contact_and_open_deal(
    mailbox: Any, rep: Any
) -> None:
    contact = ContactFactory()
    ContactEmailFactory(contact=contact, email="work@acme-industries.com", is_primary=True)
    ContactEmailFactory(contact=contact, email="private@web-mail.example", is_primary=False)
    DealFactory(contact=contact, owner=rep, status=DealStatus.LOST)
    open_deal = DealFactory(contact=contact, owner=rep)
    mailbox.append(mail(sender="private@web-mail.example", subject="Signed order attached"))

    _poll()

    entry = Activity.objects.get(kind=ActivityKind.EMAIL)
    assert (entry.contact, entry.deal) == (contact, open_deal)
    assert not Lead.objects.exists()


def test_mail_a_user_sends_with_the_mailbox_in_bcc_lands_on_the_recipients(
    mailbox: Any, rep: Any, teammate: Any, settings: Any
) -> None:
    settings.IMAP_ADDRESS = "leads@mailbox.test"
    contact = ContactFactory()
    ContactEmailFactory(contact=contact, email="known@acme-industries.com")
    # BCC never shows in the headers: the mailbox only sees To and Cc.
    mailbox.append(
        mail(
            sender=f"Rita Rep <{rep.email}>",
            to="New Prospect <new.prospect@fresh-startup.io>",
            cc=f"known@acme-industries.com, {teammate.email}, {rep.email}",
            subject="Following up on our call",
            text="As promised, the details.",
        )
    )

    poll = _poll()

    lead = Lead.objects.get()
    assert lead.email == "new.prospect@fresh-startup.io"
    assert (lead.first_name, lead.last_name, lead.owner) == ("New", "Prospect", rep)
    assert lead.source is not None and lead.source.name == "Email"
    on_lead = lead.activities.get(kind=ActivityKind.EMAIL)
    on_contact = contact.activities.get(kind=ActivityKind.EMAIL)
    assert on_lead.actor == rep and on_contact.actor == rep
    assert "As promised, the details." in on_contact.body
    assert ReceivedMessage.objects.get().outcome == MailOutcome.FROM_USER
    assert (poll.leads_created, poll.activities_added) == (1, 2)
    assert not Lead.objects.filter(email__in=[teammate.email, "leads@mailbox.test"]).exists()


def test_mail_a_user_forwards_lands_on_the_original_senders_record(
    mailbox: Any, rep: Any, settings: Any
) -> None:
    settings.IMAP_ADDRESS = "leads@mailbox.test"
    mailbox.append(
        mail(
            sender=rep.email,
            to="leads@mailbox.test",
            subject="Fwd: Enquiry",
            text=(
                "FYI\n\n---------- Forwarded message ---------\n"
                "From: Olga Orlova <olga@orlova-design.com>\nSubject: Enquiry\n\n"
                "Do you ship to Riga?"
            ),
        )
    )

    _poll()

    lead = Lead.objects.get()
    assert (lead.email, lead.owner, lead.company_name) == (
        "olga@orlova-design.com",
        rep,
        "Orlova Design",
    )
    assert "Do you ship to Riga?" in lead.activities.get(kind=ActivityKind.EMAIL).body


def test_a_bounce_marks_our_message_bounced_and_makes_no_lead(mailbox: Any, rep: Any) -> None:
    lead = Lead.objects.create(first_name="Gone", email="gone@defunct-company.com")
    ours = message_queue(
        actor=rep, to="gone@defunct-company.com", subject="Your proposal", text_body="Hi",
        lead=lead,
    )  # fmt: skip
    mailbox.append(
        bounce(original_message_id=ours.message_id, recipient="gone@defunct-company.com")
    )

    _poll()

    ours.refresh_from_db()
    assert ours.state == MessageState.BOUNCED
    assert "User unknown" in ours.last_error
    received = ReceivedMessage.objects.get()
    assert (received.kind, received.outcome, received.reply_to) == (
        MailKind.BOUNCE,
        MailOutcome.BOUNCE,
        ours,
    )
    assert Lead.objects.count() == 1
    entry = lead.activities.get(subject="Bounced: Your proposal")
    assert "came back undelivered" in entry.body and "User unknown" in entry.body


def test_a_bounce_from_postmaster_for_unknown_mail_is_only_recorded(mailbox: Any) -> None:
    mailbox.append(
        mail(sender="postmaster@mx.example.net", subject="Delivery failure", text="Failed.")
    )

    _poll()

    assert not Lead.objects.exists()
    assert ReceivedMessage.objects.get().kind == MailKind.BOUNCE


def test_a_copy_of_our_own_sent_mail_is_not_made_a_lead(mailbox: Any, rep: Any) -> None:
    ours = message_queue(actor=rep, to="x@customer-firm.com", subject="Hi", text_body="Hi")
    mailbox.append(
        mail(sender="sales@ourcompany.test", to="x@customer-firm.com", message_id=ours.message_id)
    )

    _poll()

    assert not Lead.objects.exists()
    assert ReceivedMessage.objects.get().outcome == MailOutcome.IGNORED


def test_a_follow_up_in_the_same_thread_joins_the_first_mails_lead(mailbox: Any) -> None:
    first_id = "<first-question@northwind-traders.com>"
    mailbox.append(mail(message_id=first_id))
    mailbox.append(
        mail(
            sender="Colleague <ceo@northwind-traders.com>",
            subject="Re: Pricing for 20 seats",
            text="Adding myself: make it 25 seats.",
            headers={"In-Reply-To": first_id, "References": first_id},
        )
    )

    poll = _poll()

    lead = Lead.objects.get()
    assert lead.email == "nina@northwind-traders.com"
    bodies = list(lead.activities.filter(kind=ActivityKind.EMAIL).values_list("body", flat=True))
    assert len(bodies) == 2 and any("make it 25 seats" in b for b in bodies)
    assert (poll.leads_created, poll.activities_added) == (1, 2)


def test_a_deleted_email_source_is_added_back_for_the_next_lead(db: None) -> None:
    from closeloop.leads.models import Source
    from closeloop.messaging.inbound.routing import received_message_record

    Source.objects.filter(name__iexact="Email").delete()

    received_message_record(raw=mail(sender="Nina Novak <nina@northwind-traders.com>"))

    lead = Lead.objects.get(email="nina@northwind-traders.com")
    assert lead.source is not None and lead.source.name == "Email"
    assert Source.objects.filter(name="Email").count() == 1
