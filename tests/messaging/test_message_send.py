"""The worker sends through a real SMTP server: what arrives, retries, refusals, two workers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from closeloop.activities.models import Notification
from closeloop.messaging.choices import AttemptOutcome, MessageState
from closeloop.messaging.models import Message
from closeloop.messaging.recovery import message_sweep
from closeloop.messaging.sending import MAX_ATTEMPTS, message_send, retry_delay
from closeloop.messaging.services import AttachmentIn, message_queue

from .conftest import Server, later, run_worker

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n\x00\x01\x02\xff binary bytes\n%%EOF"


def _queue(rep: Any, **kwargs: Any) -> Message:
    fields: dict[str, Any] = {
        "to": "Lena Lead <lena@example.org>",
        "subject": "Your quote",
        "text_body": "Hello Lena,\nhere is the quote.",
    }
    return message_queue(actor=rep, **(fields | kwargs))


def test_the_server_receives_parts_attachments_and_headers(rep: Any, smtp_server: Server) -> None:
    message = _queue(
        rep,
        cc="Boss <boss@example.org>",
        bcc="archive@example.org",
        html_body="<p>Hello <b>Lena</b> – grüße</p>",
        attachments=[
            AttachmentIn("quote.pdf", PDF, "application/pdf"),
            AttachmentIn("notes.txt", "Preis: 42 €".encode(), "text/plain"),
        ],
        headers={"List-Unsubscribe": "<https://crm.example.org/u/abc>"},
        in_reply_to="<earlier@example.org>",
        references="<earlier@example.org>",
    )
    run_worker()

    [envelope] = smtp_server.recorder.envelopes
    assert envelope.mail_from == "closeloop@localhost"  # EMAIL_FROM, the workspace's sender
    # Bcc is in the envelope, never in the headers
    assert sorted(envelope.rcpt_tos) == [
        "archive@example.org",
        "boss@example.org",
        "lena@example.org",
    ]
    [received] = smtp_server.recorder.messages()
    assert received["From"] == "Closeloop <closeloop@localhost>"
    assert "archive@example.org" not in envelope.content.decode(errors="replace")
    assert received["Message-ID"] == message.message_id
    assert received["Subject"] == "Your quote"
    assert received["To"] == "Lena Lead <lena@example.org>"
    assert received["Cc"] == "Boss <boss@example.org>"
    assert received["Reply-To"] == "rep@example.com"
    assert received["List-Unsubscribe"] == "<https://crm.example.org/u/abc>"
    assert received["In-Reply-To"] == "<earlier@example.org>"
    assert received.get_content_type() == "multipart/mixed"
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None and html is not None
    assert text.get_content().replace("\r\n", "\n").strip() == "Hello Lena,\nhere is the quote."
    assert "<b>Lena</b> – grüße" in html.get_content()
    attachments = {a.get_filename(): a for a in received.iter_attachments()}
    assert set(attachments) == {"quote.pdf", "notes.txt"}
    assert attachments["quote.pdf"].get_content_type() == "application/pdf"
    assert attachments["quote.pdf"].get_content() == PDF
    assert attachments["notes.txt"].get_content() == "Preis: 42 €"

    message.refresh_from_db()
    assert message.state == MessageState.SENT and message.sent_at is not None
    assert message.claim_token == "" and message.last_error == ""
    [attempt] = message.send_attempts.all()
    assert attempt.outcome == AttemptOutcome.SENT and attempt.smtp_code == 250
    assert attempt.response == "2.0.0 Ok: queued as Q1"
    assert attempt.handed_at is not None and attempt.finished_at is not None


def test_451_then_250_delivers_once_after_a_backoff(rep: Any, smtp_server: Server) -> None:
    smtp_server.recorder.refuse_data = ["451 4.3.0 Greylisted, try again later"]
    message = _queue(rep)
    run_worker()

    message.refresh_from_db()
    assert message.state == MessageState.RETRYING
    assert "451 4.3.0 Greylisted" in message.last_error
    waited = message.next_attempt_at - message.send_attempts.get().finished_at
    assert dt.timedelta(seconds=59) < waited <= dt.timedelta(minutes=1)
    retry_job = DBTaskResult.objects.filter(status="READY").get()
    assert retry_job.run_after == message.next_attempt_at
    assert smtp_server.recorder.envelopes == []

    run_worker()  # not due yet: nothing happens
    assert smtp_server.recorder.envelopes == []
    assert message.send_attempts.count() == 1

    with later(2):
        run_worker()
        run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert len(smtp_server.recorder.envelopes) == 1
    first, second = message.send_attempts.all()
    assert (first.outcome, first.smtp_code) == (AttemptOutcome.TEMPORARY, 451)
    assert first.response == "4.3.0 Greylisted, try again later"
    assert (second.outcome, second.smtp_code) == (AttemptOutcome.SENT, 250)
    assert message.attempts == 2


def test_550_fails_the_message_with_the_servers_answer(rep: Any, smtp_server: Server) -> None:
    smtp_server.recorder.refuse_data = ["550 5.7.1 Message rejected as spam"]
    message = _queue(rep)
    run_worker()
    with later(60 * 24 * 3):
        run_worker()

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.last_error == "550 5.7.1 Message rejected as spam"
    [attempt] = message.send_attempts.all()
    assert (attempt.outcome, attempt.smtp_code) == (AttemptOutcome.PERMANENT, 550)
    assert attempt.response == "5.7.1 Message rejected as spam"
    assert smtp_server.recorder.envelopes == []
    note = Notification.objects.get(recipient=rep)
    assert "Your quote" in note.title and "spam" in note.body
    assert note.url == f"/outbox/{message.pk}/"


def test_a_refused_connection_is_retried_later(rep: Any, closed_port: int) -> None:
    message = _queue(rep)
    with override_settings(EMAIL_URL=f"smtp://127.0.0.1:{closed_port}?timeout=2"):
        run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.RETRYING
    assert message.next_attempt_at is not None
    assert f"Could not reach smtp://127.0.0.1:{closed_port}" in message.last_error
    attempt = message.send_attempts.get()
    assert attempt.outcome == AttemptOutcome.TEMPORARY and attempt.handed_at is None


def test_temporary_failures_give_up_after_about_two_days(rep: Any, closed_port: int) -> None:
    total = sum((retry_delay(n) or dt.timedelta() for n in range(1, MAX_ATTEMPTS)), dt.timedelta())
    assert dt.timedelta(hours=40) < total < dt.timedelta(hours=56)
    assert retry_delay(MAX_ATTEMPTS) is None

    message = _queue(rep)
    Message.objects.filter(pk=message.pk).update(attempts=MAX_ATTEMPTS - 1)
    with override_settings(EMAIL_URL=f"smtp://127.0.0.1:{closed_port}?timeout=2"):
        run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.last_error.startswith(f"Gave up after {MAX_ATTEMPTS} attempts.")
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_a_refused_recipient_is_recorded_and_the_others_get_it(
    rep: Any, smtp_server: Server
) -> None:
    smtp_server.recorder.refuse_rcpt = {"gone@example.org": "550 5.1.1 No such user"}
    message = _queue(rep, to="lena@example.org, gone@example.org")
    run_worker()

    [envelope] = smtp_server.recorder.envelopes
    assert envelope.rcpt_tos == ["lena@example.org"]
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert message.last_error == "Not delivered to: gone@example.org (550 5.1.1 No such user)"
    attempt = message.send_attempts.get()
    assert attempt.refused == {"gone@example.org": "550 5.1.1 No such user"}
    assert Notification.objects.filter(recipient=rep, body__contains="gone@example.org").exists()


def test_all_recipients_refused_for_now_is_retried(rep: Any, smtp_server: Server) -> None:
    smtp_server.recorder.refuse_rcpt = {"lena@example.org": "450 4.2.1 Mailbox busy"}
    message = _queue(rep)
    run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.RETRYING
    attempt = message.send_attempts.get()
    assert (attempt.outcome, attempt.smtp_code) == (AttemptOutcome.TEMPORARY, 450)
    assert "lena@example.org: 450 4.2.1 Mailbox busy" in attempt.response

    smtp_server.recorder.refuse_rcpt = {}
    with later(2):
        run_worker()
    assert len(smtp_server.recorder.envelopes) == 1


def test_a_second_worker_cannot_claim_a_message_being_sent(rep: Any, smtp_server: Server) -> None:
    message = _queue(rep)
    DBTaskResult.objects.all().delete()  # the workers below are called directly
    second_worker: list[str] = []
    # while the first worker talks to the server, a second one is given the same message
    smtp_server.recorder.during_rcpt = lambda: second_worker.append(
        message_send(message_id=message.pk)
    )
    assert message_send(message_id=message.pk) == MessageState.SENT
    assert second_worker == [MessageState.SENDING]
    assert message_send(message_id=message.pk) == MessageState.SENT  # and once more, after
    assert len(smtp_server.recorder.envelopes) == 1
    assert Message.objects.get(pk=message.pk).send_attempts.count() == 1


def test_a_claim_taken_back_by_the_sweep_is_not_handed_over(rep: Any, smtp_server: Server) -> None:
    message = _queue(rep)
    DBTaskResult.objects.all().delete()
    # the first worker is so slow the sweep thinks it dead and takes its claim back
    sweeps: list[dict[str, int]] = []
    smtp_server.recorder.during_rcpt = lambda: sweeps.append(
        message_sweep(now=timezone.now() + dt.timedelta(hours=1))
    )
    assert message_send(message_id=message.pk) == MessageState.RETRYING
    assert sweeps[0]["requeued"] == 1
    assert smtp_server.recorder.envelopes == []
    lost = Message.objects.get(pk=message.pk).send_attempts.get()
    assert lost.outcome == AttemptOutcome.LOST and lost.handed_at is None

    with later(61):  # the sweep ran an hour ahead; so does the worker now
        run_worker()  # the job the sweep queued
    assert len(smtp_server.recorder.envelopes) == 1
    assert Message.objects.get(pk=message.pk).state == MessageState.SENT


def test_url_encoded_credentials_log_in(rep: Any, smtp_server: Server) -> None:
    port = smtp_server.controller.port
    message = _queue(rep)
    with override_settings(
        EMAIL_URL=f"smtp://sales%40example.org:p%40ss%3Aw%25rd%2F1@127.0.0.1:{port}"
    ):
        run_worker()
    assert smtp_server.recorder.logins == [("sales@example.org", "p@ss:w%rd/1")]
    message.refresh_from_db()
    assert message.state == MessageState.SENT


def test_a_wrong_password_is_retried_not_failed(rep: Any, smtp_server: Server) -> None:
    port = smtp_server.controller.port
    message = _queue(rep)
    with override_settings(EMAIL_URL=f"smtp://sales%40example.org:wrong@127.0.0.1:{port}"):
        run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.RETRYING
    assert "refused the login in EMAIL_URL" in message.last_error
    assert smtp_server.recorder.envelopes == []


def test_a_message_whose_job_was_lost_gets_a_new_one(rep: Any, smtp_server: Server) -> None:
    message = _queue(rep)
    DBTaskResult.objects.all().delete()  # e.g. the task table was cleaned up by hand
    assert message_sweep()["rescheduled"] == 0  # not overdue yet: the worker may just be busy
    with later(20):
        assert message_sweep()["rescheduled"] == 1
        assert message_sweep()["rescheduled"] == 0  # not queued twice by the next sweep
        run_worker()
    assert len(smtp_server.recorder.envelopes) == 1
    assert Message.objects.get(pk=message.pk).state == MessageState.SENT


def test_a_message_whose_attachment_file_is_gone_fails_at_once(
    rep: Any, smtp_server: Server
) -> None:
    message = _queue(rep, attachments=[AttachmentIn("quote.pdf", PDF, "application/pdf")])
    stored = message.attachments.get()
    stored.file.storage.delete(stored.file.name)
    run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert message.last_error.startswith("The message cannot be built:")
    assert smtp_server.recorder.envelopes == []


def test_the_scheduler_sweeps_a_dead_workers_claim_without_another_email(
    rep: Any, smtp_server: Server
) -> None:
    from closeloop.core.schedule import jobs_due_enqueue

    message = _queue(rep)
    DBTaskResult.objects.all().delete()  # its send job was lost with the worker
    # a worker claimed it 20 minutes ago and died before reaching the server
    claimed = timezone.now() - dt.timedelta(minutes=20)
    Message.objects.filter(pk=message.pk).update(
        state=MessageState.SENDING, claimed_at=claimed, attempts=1
    )

    assert "outbox_sweep" in jobs_due_enqueue()
    run_worker()  # the sweep requeues it, and the worker then sends it

    assert len(smtp_server.recorder.envelopes) == 1
    assert Message.objects.get(pk=message.pk).state == MessageState.SENT
