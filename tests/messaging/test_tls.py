"""STARTTLS (smtp+tls://) and implicit TLS (smtps://) against a real TLS server; certificates
are checked."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from closeloop.messaging.choices import MessageState
from closeloop.messaging.models import Message
from closeloop.messaging.services import message_queue

from .conftest import SmtpRecorder, free_port, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _tls_server(certificate: tuple[Path, Path], *, implicit: bool) -> Iterator[Any]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    recorder = SmtpRecorder()
    tls = (
        {"ssl_context": context} if implicit else {"tls_context": context, "require_starttls": True}
    )
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **tls)
    controller.start()
    try:
        yield controller, recorder
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[Any]:
    yield from _tls_server(certificate, implicit=False)


@pytest.fixture
def implicit_tls_server(certificate: tuple[Path, Path]) -> Iterator[Any]:
    yield from _tls_server(certificate, implicit=True)


def _send(rep: Any, url: str) -> Message:
    message = message_queue(actor=rep, to="lena@example.org", subject="Hi", text_body="Hello")
    with override_settings(EMAIL_URL=url):
        run_worker()
    message.refresh_from_db()
    return message


@pytest.mark.parametrize("scheme", ["smtp+tls", "smtps"])
def test_tls_delivers_when_the_certificate_is_trusted(
    rep: Any,
    scheme: str,
    starttls_server: Any,
    implicit_tls_server: Any,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test certificate
    controller, recorder = starttls_server if scheme == "smtp+tls" else implicit_tls_server
    message = _send(rep, f"{scheme}://127.0.0.1:{controller.port}?timeout=5")
    assert message.state == MessageState.SENT, message.last_error
    assert len(recorder.envelopes) == 1


def test_an_untrusted_certificate_is_not_accepted(rep: Any, starttls_server: Any) -> None:
    controller, recorder = starttls_server
    message = _send(rep, f"smtp+tls://127.0.0.1:{controller.port}?timeout=5")
    assert message.state == MessageState.RETRYING
    assert "CERTIFICATE_VERIFY_FAILED" in message.last_error
    assert recorder.envelopes == []


def test_plain_smtp_to_a_server_that_requires_starttls_is_refused(
    rep: Any, starttls_server: Any
) -> None:
    controller, recorder = starttls_server
    message = _send(rep, f"smtp://127.0.0.1:{controller.port}?timeout=5")
    assert message.state == MessageState.FAILED
    assert "STARTTLS" in message.last_error
    assert recorder.envelopes == []
