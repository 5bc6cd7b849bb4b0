"""Polling a real IMAP server (dovecot): every shape of mail lands where it belongs, once."""

from __future__ import annotations

from base64 import b64encode
from typing import Any

import pytest

from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.leads.models import AssignmentRule, Lead
from closeloop.messaging.inbound.models import MailKind, MailOutcome, ReceivedMessage
from closeloop.messaging.inbound.polling import mailbox_poll

from .mails import mail


def _poll() -> Any:
    poll = mailbox_poll()
    assert poll is not None
    assert poll.ok, poll.error
    return poll


def test_unknown_sender_becomes_a_lead_with_the_mail_as_first_activity(mailbox: Any) -> None:
    mailbox.append(mail(sender="Nina Novak <Nina@Northwind-Traders.com>"))

    poll = _poll()

    lead = Lead.objects.get(email="nina@northwind-traders.com")
    assert (lead.first_name, lead.last_name) == ("Nina", "Novak")
    assert lead.source is not None and lead.source.name == "Email"
    assert lead.company_name == "Northwind Traders"
    assert lead.company_domain == "northwind-traders.com"
    email_entry = lead.activities.get(kind=ActivityKind.EMAIL)
    assert email_entry.subject == "Pricing for 20 seats"
    assert "could you send me a quote for 20 seats?" in email_entry.body
    received = ReceivedMessage.objects.get()
    assert received.outcome == MailOutcome.LEAD_CREATED
    assert (received.lead, received.activity) == (lead, email_entry)
    assert (poll.messages_read, poll.leads_created, poll.activities_added) == (1, 1, 1)


def test_free_mail_sender_gets_no_company(mailbox: Any) -> None:
    mailbox.append(mail(sender="Paul Pfeiffer <paul.pfeiffer@gmail.com>"))

    _poll()

    lead = Lead.objects.get(email="paul.pfeiffer@gmail.com")
    assert (lead.company_name, lead.company_domain, lead.organization) == ("", "", None)


def test_a_lead_from_mail_goes_through_the_assignment_rules(mailbox: Any, rep: Any) -> None:
    from closeloop.leads.selectors import source_named

    AssignmentRule.objects.create(name="Mail to Rita", source=source_named("Email"), user=rep)
    mailbox.append(mail())

    _poll()

    assert Lead.objects.get(email="nina@northwind-traders.com").owner == rep


def test_html_only_mail_is_readable_text_on_the_timeline(mailbox: Any) -> None:
    html = (
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head><body>"
        "<p>Dear team,</p><p>we need <b>40&nbsp;licences</b> &amp; training.</p>"
        "<ul><li>Berlin</li><li>Wien</li></ul></body></html>"
    )
    mailbox.append(mail(text=None, html=html, subject="Licences"))

    _poll()

    body = Activity.objects.get(kind=ActivityKind.EMAIL).body
    assert "Dear team,\n" in body
    assert "we need 40 licences & training." in body
    assert "- Berlin\n- Wien" in body
    assert "<" not in body.split("\n\n", 1)[1] and "alert" not in body and "color" not in body
    assert "<b>40&nbsp;licences</b>" in ReceivedMessage.objects.get().html_body


def test_attachments_are_kept_as_files(mailbox: Any) -> None:
    pdf = b"%PDF-1.4 pretend proposal " + bytes(range(256))
    mailbox.append(
        mail(
            subject="Our requirements",
            attachments=[
                ("Anforderungen Übersicht.pdf", "application/pdf", pdf),
                ("logo.png", "image/png", b"\x89PNG\r\n\x1a\nfake"),
            ],
        )
    )

    _poll()

    received = ReceivedMessage.objects.get()
    files = list(received.attachments.all())
    assert [f.filename for f in files] == ["Anforderungen Übersicht.pdf", "logo.png"]
    assert files[0].content_type == "application/pdf" and files[0].size == len(pdf)
    with files[0].file.open("rb") as handle:
        assert handle.read() == pdf
    entry = received.activity
    assert entry is not None and "Attachments: Anforderungen Übersicht.pdf, logo.png" in entry.body
    assert "could you send me a quote" in entry.body


@pytest.mark.parametrize(
    ("charset", "body", "expected", "cte"),
    [
        (
            "iso-8859-1",
            "Grüße aus Köln, Preis: 500 £".encode("iso-8859-1"),
            "Grüße aus Köln",
            "8bit",
        ),
        ("windows-1252", "Das kostet 99 € – „fair“".encode("cp1252"), "99 € – „fair“", "8bit"),
        (
            "shift_jis",
            "見積もりをお願いします".encode("shift_jis"),
            "見積もりをお願いします",
            "8bit",
        ),
        # a charset no codec knows: the bytes are still read (they are UTF-8 here)
        ("x-unknown-charset", "Café crème".encode(), "Café crème", "8bit"),
        # a wrong label (says us-ascii, is latin-1): guessed rather than lost
        ("us-ascii", "Größe: 3 Stück".encode("iso-8859-1"), "3 St", "8bit"),
        # UTF-16 labelled as ASCII (in base64, as NUL bytes cannot travel in 8bit): its NUL
        # bytes go, as PostgreSQL text cannot hold them
        ("us-ascii", b64encode("Hi there".encode("utf-16-le")), "Hi there", "base64"),
    ],
)
def test_legacy_and_unknown_charsets_are_decoded(
    mailbox: Any, charset: str, body: bytes, expected: str, cte: str
) -> None:
    from .mails import raw_mail

    mailbox.append(
        raw_mail(
            subject="Anfrage", charset=charset, body=body, sender="kunde@firma-beispiel.de", cte=cte
        )
    )

    _poll()

    assert expected in Activity.objects.get(kind=ActivityKind.EMAIL).body


def test_rfc2047_subject_and_sender_name_are_decoded(mailbox: Any) -> None:
    raw = mail(
        sender="=?UTF-8?Q?Jos=C3=A9_M=C3=BCller?= <jose@muller-bau.de>",
        subject="=?ISO-8859-1?Q?Angebot_f=FCr_B=FCrom=F6bel_?= =?UTF-8?B?4oCTIGRyaW5nZW5k?=",
    )
    mailbox.append(raw)

    _poll()

    lead = Lead.objects.get(email="jose@muller-bau.de")
    assert (lead.first_name, lead.last_name) == ("José", "Müller")
    assert lead.company_name == "Muller Bau"
    assert ReceivedMessage.objects.get().subject == "Angebot für Büromöbel – dringend"
    assert lead.activities.get(kind=ActivityKind.EMAIL).subject == (
        "Angebot für Büromöbel – dringend"
    )


@pytest.mark.parametrize(
    ("headers", "subject", "kind"),
    [
        ({"Auto-Submitted": "auto-replied"}, "Re: Pricing", MailKind.AUTO_REPLY),
        ({"X-Autoreply": "yes"}, "Re: Pricing", MailKind.AUTO_REPLY),
        ({"X-Autorespond": "Out of office"}, "Re: Pricing", MailKind.AUTO_REPLY),
        ({"Precedence": "auto_reply"}, "Re: Pricing", MailKind.AUTO_REPLY),
        ({}, "Out of Office: back on Monday", MailKind.AUTO_REPLY),
        ({}, "Automatic reply: Pricing", MailKind.AUTO_REPLY),
        ({"List-Id": "<news.vendor.example>"}, "Our newsletter", MailKind.MAILING_LIST),
        ({"List-Unsubscribe": "<mailto:u@vendor.example>"}, "Weekly deals", MailKind.MAILING_LIST),
        ({"Precedence": "list"}, "Digest", MailKind.MAILING_LIST),
        ({"Precedence": "bulk"}, "Deals", MailKind.AUTO_REPLY),
    ],
)
def test_auto_replies_and_list_mail_are_recorded_but_never_leads(
    mailbox: Any, headers: dict[str, str], subject: str, kind: str
) -> None:
    mailbox.append(mail(headers=headers, subject=subject, sender="bot@vendor.example"))

    poll = _poll()

    assert not Lead.objects.exists()
    assert not Activity.objects.exists()
    received = ReceivedMessage.objects.get()
    assert (received.kind, received.outcome) == (kind, MailOutcome.IGNORED)
    assert (poll.messages_read, poll.leads_created, poll.ignored) == (1, 0, 1)


def test_polling_twice_creates_nothing_twice(mailbox: Any) -> None:
    mailbox.append(mail(sender="a@alpha-gmbh.de"))
    mailbox.append(mail(sender="b@beta-gmbh.de"))
    first = _poll()

    second = _poll()
    mailbox.append(mail(sender="c@gamma-gmbh.de"))
    third = _poll()

    assert (first.messages_read, first.leads_created) == (2, 2)
    assert (second.messages_read, second.leads_created, second.activities_added) == (0, 0, 0)
    assert (third.messages_read, third.leads_created) == (1, 1)
    assert Lead.objects.count() == 3
    assert ReceivedMessage.objects.count() == 3
    assert Activity.objects.filter(kind=ActivityKind.EMAIL).count() == 3


def test_a_uidvalidity_change_rereads_the_folder_and_creates_nothing_twice(mailbox: Any) -> None:
    first_mail = mail(sender="a@alpha-gmbh.de")
    no_id = mail(sender="b@beta-gmbh.de", message_id="", subject="No Message-ID here")
    mailbox.append(first_mail)
    mailbox.append(no_id)
    _poll()
    before = mailbox.uidvalidity()

    mailbox.recreate_maildir()
    mailbox.append(no_id)
    mailbox.append(first_mail)
    mailbox.append(mail(sender="c@gamma-gmbh.de"))
    poll = _poll()

    assert mailbox.uidvalidity() != before
    assert poll.rescanned
    assert (poll.messages_read, poll.already_known, poll.leads_created) == (3, 2, 1)
    assert Lead.objects.count() == 3
    assert ReceivedMessage.objects.count() == 3
    synthetic = ReceivedMessage.objects.get(subject="No Message-ID here").message_id
    assert synthetic.endswith("@closeloop.invalid>")


def test_a_second_poll_while_one_runs_leaves_the_mailbox_alone(mailbox: Any) -> None:
    from django.utils import timezone

    from closeloop.messaging.inbound.models import MailboxState

    MailboxState.objects.create(pk=1, polling_since=timezone.now())
    mailbox.append(mail())

    assert mailbox_poll() is None
    assert not Lead.objects.exists()
