"""Settings → Mailbox: a failing mailbox says why in words; admins can poll it now."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from closeloop.core.exceptions import DomainError
from closeloop.leads.models import Lead
from closeloop.messaging.inbound.config import mailbox_config_parse
from closeloop.messaging.inbound.polling import mailbox_poll
from closeloop.messaging.inbound.routing import received_message_record

from .mails import mail

URL = reverse("settings:mailbox")
POLL_URL = reverse("settings:mailbox_poll")


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_poll_now_reads_the_mailbox_and_the_page_shows_the_counts(
    mailbox: Any, admin_client_: Any, immediate_tasks: None
) -> None:
    mailbox.append(mail(sender="a@alpha-gmbh.de"))
    mailbox.append(mail(sender="spam-bot@lists.example", headers={"List-Id": "<l.example>"}))

    response = admin_client_.post(POLL_URL, follow=True)

    assert response.status_code == 200
    assert Lead.objects.filter(email="a@alpha-gmbh.de").exists()
    page = response.content.decode()
    assert "The mailbox is being read now" in page
    polls = response.context["status"].polls
    assert [
        (p.ok, p.messages_read, p.leads_created, p.activities_added, p.ignored) for p in polls
    ] == [(True, 2, 1, 1, 1)]
    assert 'id="mailbox-polls"' in page and ">OK<" in page
    assert response.context["status"].state.last_success_at is not None
    assert "never" not in page.split('id="last-success"')[1][:80]


def test_a_wrong_password_is_shown_in_words_on_the_settings_page(
    mailbox: Any, admin_client_: Any, settings: Any, immediate_tasks: None
) -> None:
    settings.IMAP_URL = mailbox.url(password="wrong")
    admin_client_.post(POLL_URL)

    page = admin_client_.get(URL).content.decode()

    assert "The mailbox cannot be read." in page
    expected = f"Login failed for {mailbox.user} at 127.0.0.1:{mailbox.server.port}"
    assert expected in page and "AUTHENTICATIONFAILED" in page
    assert "wrong" not in page  # the password is never shown
    assert "never" in page.split('id="last-success"')[1][:80]


def test_an_unreachable_server_is_an_error_in_words(db: None, settings: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    settings.IMAP_URL = f"imap://u:p@127.0.0.1:{port}/INBOX"

    poll = mailbox_poll()

    assert poll is not None and not poll.ok
    assert poll.error == f"Could not connect to 127.0.0.1:{port}: Connection refused."


def test_a_missing_folder_is_an_error_in_words(mailbox: Any, settings: Any) -> None:
    settings.IMAP_URL = mailbox.url(folder="Leads")

    poll = mailbox_poll()

    assert poll is not None and not poll.ok
    assert poll.error.startswith("The folder “Leads” cannot be opened on 127.0.0.1:")


def test_the_page_without_a_mailbox_explains_how_to_set_one_up(
    admin_client_: Any, settings: Any
) -> None:
    settings.IMAP_URL = ""

    response = admin_client_.get(URL)

    page = response.content.decode()
    assert "No mailbox is configured." in page and "IMAP_URL" in page
    assert POLL_URL not in page
    assert "set IMAP_URL first" in admin_client_.post(POLL_URL, follow=True).content.decode()


def test_a_bad_imap_url_is_named_on_the_page(admin_client_: Any, settings: Any) -> None:
    settings.IMAP_URL = "pop3://user:pw@mail.example.com/"

    page = admin_client_.get(URL).content.decode()

    assert "IMAP_URL must start with imaps://, imap+tls:// or imap://, not pop3://." in page


def test_the_page_shows_the_bcc_address(admin_client_: Any, settings: Any) -> None:
    settings.IMAP_URL = "imaps://leads%40example.com:pw@mail.example.com/INBOX"
    settings.IMAP_ADDRESS = ""

    page = admin_client_.get(URL).content.decode()

    assert '<code id="bcc-address">leads@example.com</code>' in page
    assert "leads@example.com at mail.example.com:993 (TLS), folder “INBOX”" in page


@pytest.mark.parametrize("who", ["rep_client", "manager_client"])
def test_only_admins_see_the_page_or_poll(who: str, request: Any, settings: Any) -> None:
    settings.IMAP_URL = "imap://u:p@127.0.0.1:1/INBOX"
    client = request.getfixturevalue(who)

    assert client.get(URL).status_code == 403
    assert client.post(POLL_URL).status_code == 403


def test_poll_now_needs_post_with_csrf(admin: Any, settings: Any) -> None:
    from django.test import Client

    settings.IMAP_URL = "imap://u:p@127.0.0.1:1/INBOX"
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)

    assert client.get(POLL_URL).status_code == 405
    assert client.post(POLL_URL).status_code == 403


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "imaps://leads%40example.com:p%40ss%2Fw%3Ard@mail.example.com/INBOX",
            ("mail.example.com", 993, "leads@example.com", "p@ss/w:rd", "INBOX", True, False),
        ),
        (
            "imap+tls://bob:pw@mail.example.com:1143/Sales%20Leads",
            ("mail.example.com", 1143, "bob", "pw", "Sales Leads", False, True),
        ),
        ("imap://bob:pw@localhost", ("localhost", 143, "bob", "pw", "INBOX", False, False)),
    ],
)
def test_imap_url_forms(url: str, expected: tuple[Any, ...]) -> None:
    c = mailbox_config_parse(url)
    assert (c.host, c.port, c.user, c.password, c.folder, c.ssl, c.starttls) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://u:p@host/", "IMAP_URL must start with imaps://, imap+tls:// or imap://"),
        ("imaps://host/INBOX", "IMAP_URL needs a user and a password"),
        ("imaps://u:p@/INBOX", "IMAP_URL names no server"),
        ("imaps://u:p@host:port/", "IMAP_URL has a port that is not a number."),
    ],
)
def test_bad_imap_urls_are_refused_naming_the_variable(url: str, message: str) -> None:
    with pytest.raises(DomainError, match=re.escape(message)):
        mailbox_config_parse(url)


def test_what_senders_write_is_escaped_on_the_page(
    mailbox: Any, admin_client_: Any, immediate_tasks: None
) -> None:
    mailbox.append(
        mail(sender='"<img src=x onerror=alert(1)>" <x@evil-corp.example>', subject="<script>hi")
    )
    admin_client_.post(POLL_URL)

    page = admin_client_.get(URL).content.decode()

    assert "&lt;script&gt;hi" in page and "<script>hi" not in page
    assert "<img src=x" not in page


def test_the_page_runs_the_same_queries_however_much_mail_came_in(
    admin_client_: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.IMAP_URL = "imap://u:p@127.0.0.1:1/INBOX"
    received_message_record(raw=mail(sender="a@alpha-gmbh.de"))
    admin_client_.get(URL)
    with CaptureQueriesContext(connection) as one:
        admin_client_.get(URL)
    for n in range(5):
        received_message_record(raw=mail(sender=f"p{n}@beta-gmbh.de"))

    with django_assert_num_queries(len(one.captured_queries)):
        response = admin_client_.get(URL)
    assert len(response.context["status"].recent) == 6
