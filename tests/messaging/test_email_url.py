"""EMAIL_URL: the forms it takes, and mistakes named at start-up."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from closeloop.core.exceptions import DomainError
from closeloop.messaging.checks import email_url_check
from closeloop.messaging.choices import MessageState
from closeloop.messaging.services import message_queue
from closeloop.messaging.smtp import MailServer, email_url_parse

from .conftest import run_worker


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", MailServer("mail.example.org", 25, "", "", False, False, 30)),
        (
            "smtp+tls://sales%40example.org:p%40ss%2Fw%3Ard@mail.example.org:2525?timeout=12.5",
            MailServer(
                "mail.example.org", 2525, "sales@example.org", "p@ss/w:rd", True, False, 12.5
            ),
        ),
        (
            "smtp+tls://u:p@smtp.example.org",
            MailServer("smtp.example.org", 587, "u", "p", True, False, 30),
        ),
        (
            "smtps://u:p@smtp.example.org",
            MailServer("smtp.example.org", 465, "u", "p", False, True, 30),
        ),
    ],
)
def test_the_url_forms(url: str, expected: MailServer) -> None:
    assert email_url_parse(url) == expected


def test_the_password_never_shows_in_messages() -> None:
    server = email_url_parse("smtp+tls://sales:s3cret@mail.example.org")
    assert str(server) == "smtp+tls://sales@mail.example.org:587"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.example.org", "must start with smtp://, smtp+tls:// or smtps://"),
        ("mail.example.org:587", "must start with smtp://"),
        ("smtp://", "names no host"),
        ("smtp://mail.example.org:99999", "port must be a number"),
        ("smtp://mail.example.org?timeout=soon", "timeout must be a number"),
        ("smtp://mail.example.org?tls=yes", "unknown option tls"),
        ("smtp://usér:pässword@mail.example.org", "ASCII"),
    ],
)
def test_mistakes_name_the_variable(url: str, says: str) -> None:
    with pytest.raises(DomainError) as error:
        email_url_parse(url)
    assert error.value.message.startswith("EMAIL_URL is not valid:")
    assert says in error.value.message
    assert error.value.field == "EMAIL_URL"


def test_a_bad_url_stops_the_app_at_start_up() -> None:
    with override_settings(EMAIL_URL="smtp+ssl://mail.example.org"):
        [error] = email_url_check()
        assert "EMAIL_URL is not valid" in error.msg
        with pytest.raises(SystemCheckError, match="EMAIL_URL is not valid"):
            call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    with override_settings(EMAIL_URL=""):
        assert email_url_check() == []


@pytest.mark.django_db(transaction=True)
def test_a_bad_url_at_send_time_keeps_the_message_and_says_why(rep: Any) -> None:
    message = message_queue(actor=rep, to="x@example.org", subject="Hi", text_body="Hello")
    with override_settings(EMAIL_URL="smtps://"):
        run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.RETRYING
    assert message.last_error.startswith("EMAIL_URL is not valid: it names no host")
