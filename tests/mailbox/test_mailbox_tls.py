"""The mailbox over TLS (imaps://) and STARTTLS (imap+tls://), against dovecot's own certificate."""

from __future__ import annotations

from typing import Any

import pytest

from closeloop.leads.models import Lead
from closeloop.messaging.inbound.polling import mailbox_poll

from .mails import mail


@pytest.fixture
def cert(mailbox: Any) -> str:
    if mailbox.server.cert is None:
        pytest.skip("openssl is needed to make the test server's certificate")
    return str(mailbox.server.cert)


@pytest.mark.parametrize("scheme", ["imaps", "imap+tls"])
def test_the_mailbox_is_read_over_tls_trusting_the_given_certificate(
    mailbox: Any, cert: str, settings: Any, scheme: str
) -> None:
    settings.IMAP_URL = mailbox.url(scheme=scheme) + f"?cafile={cert}"
    mailbox.append(mail())

    poll = mailbox_poll()

    assert poll is not None and poll.ok, poll and poll.error
    assert Lead.objects.filter(email="nina@northwind-traders.com").exists()


@pytest.mark.parametrize("scheme", ["imaps", "imap+tls"])
def test_an_untrusted_certificate_is_an_error_in_words(
    mailbox: Any, cert: str, settings: Any, scheme: str
) -> None:
    settings.IMAP_URL = mailbox.url(scheme=scheme)

    poll = mailbox_poll()

    assert poll is not None and not poll.ok
    port = mailbox.server.tls_port if scheme == "imaps" else mailbox.server.port
    assert poll.error.startswith(f"The certificate of 127.0.0.1:{port} is not trusted: ")
    assert "self-signed certificate" in poll.error and "?cafile=" in poll.error
    assert not Lead.objects.exists()
