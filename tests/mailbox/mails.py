"""Messages in the shapes people send, as the raw bytes a mail server stores."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.utils import timezone


def mail(
    *,
    sender: str = "Nina Novak <nina@northwind-traders.com>",
    to: str = "leads@mailbox.test",
    subject: str = "Pricing for 20 seats",
    text: str | None = "Hello, could you send me a quote for 20 seats?",
    html: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
    cc: str = "",
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    if message_id != "":
        message["Message-ID"] = message_id or make_msgid(domain="sender.test")
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def raw_mail(*, subject: str, charset: str, body: bytes, sender: str, cte: str = "8bit") -> bytes:
    """A single-part text message in a legacy charset, written byte by byte."""
    head = (
        f"From: {sender}\r\nTo: leads@mailbox.test\r\nSubject: {subject}\r\n"
        f"Message-ID: {make_msgid(domain='legacy.test')}\r\n"
        f"Date: {format_datetime(timezone.now())}\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    )
    return head.encode("ascii") + body + b"\r\n"


def bounce(*, original_message_id: str, recipient: str) -> bytes:
    """A delivery status notification (RFC 3464) quoting the returned message's headers."""
    boundary = "dsn-boundary-1"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: sales@ourcompany.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.net')}\r\n"
        f"Date: {format_datetime(timezone.now())}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered "
        f"to {recipient}.\r\n"
        f"\r\n--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <"
        + recipient
        + ">: Recipient address rejected: User unknown\r\n"
        f"\r\n--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        "From: sales@ourcompany.test\r\n"
        f"To: {recipient}\r\n"
        "Subject: Your proposal\r\n"
        f"Message-ID: {original_message_id}\r\n"
        f"\r\n--{boundary}--\r\n"
    ).encode("ascii")
