"""Queuing an email: it is stored, shows on the timelines, and the worker sends it through SMTP."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from closeloop.activities.choices import ActivityKind
from closeloop.core.exceptions import DomainError
from closeloop.leads.models import Lead
from closeloop.messaging.choices import MessageState
from closeloop.messaging.services import AttachmentIn, message_queue

from .conftest import Server, run_worker


@pytest.mark.django_db(transaction=True)
def test_queued_message_reaches_the_smtp_server_once(rep: Any, smtp_server: Server) -> None:
    lead = Lead.objects.create(first_name="Lena", last_name="Lead", email="lena@example.org")
    message = message_queue(
        actor=rep,
        to="Lena Lead <lena@example.org>",
        subject="Your quote",
        text_body="Hello Lena",
        html_body="<p>Hello <b>Lena</b></p>",
        attachments=[AttachmentIn("quote.txt", b"42 EUR", "text/plain")],
        lead=lead,
    )
    assert message.activity is not None
    assert message.activity.kind == ActivityKind.EMAIL
    assert message.activity.lead == lead
    run_worker()
    run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    [received] = smtp_server.recorder.messages()
    assert received["Message-ID"] == message.message_id
    assert received["Reply-To"] == rep.email
    assert received.get_body(("plain",)).get_content().strip() == "Hello Lena"
    assert "<b>Lena</b>" in received.get_body(("html",)).get_content()
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "quote.txt"
    assert attachment.get_content() == "42 EUR"


@pytest.mark.django_db(transaction=True)
def test_without_a_mail_server_the_message_stays_in_the_outbox(rep: Any) -> None:
    message = message_queue(actor=rep, to="x@example.org", subject="Hi", text_body="Hello")
    with override_settings(EMAIL_URL=""):
        run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.NOT_SENT
    assert message.send_attempts.get().outcome == "held"


@pytest.mark.django_db
def test_a_bad_recipient_is_named(rep: Any) -> None:
    with pytest.raises(DomainError) as error:
        message_queue(actor=rep, to="ok@example.org, not-an-address", subject="Hi", text_body="x")
    assert error.value.field == "to"
    assert "not-an-address" in error.value.message
