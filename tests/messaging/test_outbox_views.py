"""The Outbox pages: who sees which message, reading one like a mail catcher, resending."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django_tasks_db.models import DBTaskResult

from closeloop.leads.models import Lead
from closeloop.messaging.choices import MessageState
from closeloop.messaging.models import Message, SendAttempt
from closeloop.messaging.services import AttachmentIn, message_queue

from .conftest import run_worker

OUTBOX = "/outbox/"


def _message(actor: Any, subject: str = "Your quote", **kwargs: Any) -> Message:
    fields: dict[str, Any] = {"to": "lena@example.org", "subject": subject, "text_body": "Hi"}
    return message_queue(actor=actor, **(fields | kwargs))


def _set_state(message: Message, state: str, error: str = "") -> None:
    Message.objects.filter(pk=message.pk).update(state=state, last_error=error)


@pytest.mark.django_db
def test_admins_see_every_message_everyone_else_their_own(
    rep: Any, teammate: Any, manager: Any, admin: Any, client_for: Any
) -> None:
    _message(rep, "From Rita")
    _message(teammate, "From Tom")
    _message(manager, "From Mia")

    def subjects(user: Any) -> list[str]:
        page = client_for(user).get(OUTBOX)
        assert page.status_code == 200
        return sorted(m.subject for m in page.context["page_obj"])

    assert subjects(rep) == ["From Rita"]
    assert subjects(manager) == ["From Mia"]  # managers too: the outbox is personal
    assert subjects(admin) == ["From Mia", "From Rita", "From Tom"]
    assert b'href="/outbox/"' in client_for(rep).get("/").content  # in the main navigation


@pytest.mark.django_db
def test_filter_by_state_and_search_subject_and_recipients(rep: Any, rep_client: Client) -> None:
    _message(rep, "Quote for Lena", to="lena@example.org")
    failed = _message(rep, "Invoice", to="Bob <bob@acme.example>", cc="carla@acme.example")
    _set_state(failed, MessageState.FAILED, "550 No such user")

    def subjects(**query: str) -> list[str]:
        return sorted(m.subject for m in rep_client.get(OUTBOX, query).context["page_obj"])

    assert subjects(state="failed") == ["Invoice"]
    assert subjects(state="queued") == ["Quote for Lena"]
    assert subjects(q="acme.example") == ["Invoice"]
    assert subjects(q="CARLA") == ["Invoice"]
    assert subjects(q="quote") == ["Quote for Lena"]
    assert subjects(state="nonsense") == ["Invoice", "Quote for Lena"]
    assert "No message matches" in rep_client.get(OUTBOX, {"q": "nothing"}).content.decode()


@pytest.mark.django_db
def test_outbox_list_query_count_does_not_grow(
    rep: Any, admin: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(admin)
    _message(rep)
    with django_assert_max_num_queries(12) as first:
        client.get(OUTBOX)
    for i in range(30):
        _message(rep if i % 2 else admin, f"Message {i}", to=f"p{i}@example.org")
    with django_assert_max_num_queries(len(first.captured_queries)):
        page = client.get(OUTBOX)
    assert page.context["page_obj"].paginator.count == 31


@pytest.mark.django_db
def test_a_message_reads_like_a_mail_catcher(rep: Any, rep_client: Client) -> None:
    lead = Lead.objects.create(first_name="Lena", last_name="Lead", email="lena@example.org")
    message = _message(
        rep,
        "Quote <script>alert(1)</script>",
        cc="boss@example.org",
        html_body='<p>Hello <b>Lena</b></p><script>alert("x")</script>',
        attachments=[AttachmentIn("quote.pdf", b"%PDF-1.4 bytes", "application/pdf")],
        headers={"List-Unsubscribe": "<https://crm.example.org/u/1>"},
        lead=lead,
    )
    SendAttempt.objects.create(
        message=message,
        started_at=message.created_at,
        outcome="temporary",
        smtp_code=451,
        response="4.3.0 Greylisted",
    )
    page = rep_client.get(f"{OUTBOX}{message.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    for shown in (
        "lena@example.org",
        "boss@example.org",
        "rep@example.com",  # Reply-To
        message.message_id.replace("<", "&lt;").replace(">", "&gt;"),
        "List-Unsubscribe",
        "4.3.0 Greylisted",
        f'href="/leads/{lead.pk}/"',
        "quote.pdf",
    ):
        assert shown in html, shown
    assert "<script>alert(1)</script>" not in html  # the subject is escaped
    assert "Quote &lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the HTML part comes from its own URL, in a sandboxed frame, under a no-script policy
    assert f'sandbox src="{OUTBOX}{message.pk}/html/"' in html
    part = rep_client.get(f"{OUTBOX}{message.pk}/html/")
    assert "<b>Lena</b>" in part.content.decode()
    policy = part["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script-src" not in policy
    assert part["X-Frame-Options"] == "SAMEORIGIN"

    attachment = message.attachments.get()
    download = rep_client.get(f"{OUTBOX}{message.pk}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="quote.pdf"'
    assert b"".join(download.streaming_content) == b"%PDF-1.4 bytes"


@pytest.mark.django_db
def test_another_users_message_and_attachments_are_404(
    rep: Any, teammate: Any, manager: Any, client_for: Any
) -> None:
    message = _message(teammate, attachments=[AttachmentIn("secret.txt", b"numbers", "text/plain")])
    _set_state(message, MessageState.FAILED)
    attachment = message.attachments.get()
    for user in (rep, manager):
        client = client_for(user)
        for url in (
            f"{OUTBOX}{message.pk}/",
            f"{OUTBOX}{message.pk}/html/",
            f"{OUTBOX}{message.pk}/attachments/{attachment.pk}/",
        ):
            assert client.get(url).status_code == 404, url
        assert client.post(f"{OUTBOX}{message.pk}/resend/").status_code == 404
    # nor through another message's URL
    own = _message(rep)
    response = client_for(rep).get(f"{OUTBOX}{own.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 404
    assert Message.objects.get(pk=message.pk).resend_count == 0


@pytest.mark.django_db
def test_resend_requeues_the_same_message_and_is_recorded(
    rep: Any, rep_client: Client, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    message = _message(rep)
    _set_state(message, MessageState.FAILED, "550 Mailbox unavailable")
    Message.objects.filter(pk=message.pk).update(attempts=3)
    DBTaskResult.objects.all().delete()

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(rep)
    assert strict.post(f"{OUTBOX}{message.pk}/resend/").status_code == 403  # no CSRF token
    assert rep_client.get(f"{OUTBOX}{message.pk}/resend/").status_code == 405

    page = rep_client.get(f"{OUTBOX}{message.pk}/")
    assert "Resend" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(f"{OUTBOX}{message.pk}/resend/", follow=True)
    assert "queued again" in response.content.decode()
    resent = Message.objects.get(pk=message.pk)
    assert resent.state == MessageState.QUEUED and resent.attempts == 0
    assert resent.message_id == message.message_id
    assert (resent.resend_count, resent.resent_by) == (1, rep)
    assert DBTaskResult.objects.get().args_kwargs["kwargs"] == {"message_id": message.pk}

    # a message on its way cannot be resent
    again = rep_client.post(f"{OUTBOX}{message.pk}/resend/", follow=True)
    assert "Only failed, unsent or uncertain messages can be resent." in again.content.decode()
    assert Message.objects.get(pk=message.pk).resend_count == 1


@pytest.mark.django_db
def test_an_admin_can_resend_anyones_message(rep: Any, admin: Any, client_for: Any) -> None:
    message = _message(rep)
    _set_state(message, MessageState.NOT_SENT)
    assert client_for(admin).post(f"{OUTBOX}{message.pk}/resend/").status_code == 302
    message.refresh_from_db()
    assert (message.state, message.resent_by) == (MessageState.QUEUED, admin)


@pytest.mark.django_db(transaction=True)
def test_without_a_mail_server_the_outbox_is_a_mail_catcher(rep: Any, client_for: Any) -> None:
    message = _message(rep, "Held mail", text_body="Dear Lena,\nthe numbers are in.")
    with override_settings(EMAIL_URL=""):
        run_worker()
        client = client_for(rep)
        listing = client.get(OUTBOX).content.decode()
        detail = client.get(f"{OUTBOX}{message.pk}/").content.decode()
    assert "No mail server is configured" in listing
    assert "Not sent (no mail server)" in listing
    assert "Dear Lena,\nthe numbers are in." in detail
    assert "Not sent: no mail server is configured" in detail
    assert Message.objects.get(pk=message.pk).state == MessageState.NOT_SENT
