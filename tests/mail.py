"""A real SMTP server (aiosmtpd, in-process) the outbox sends to, for every test that mails.

The fixtures `smtp_server` and `closed_port` are registered in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import socket
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from typing import Any
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.test import override_settings
from django.utils import timezone


class SmtpRecorder:
    """An SMTP handler that keeps what it accepts and answers as told.

    `refuse_data` holds replies for the next DATA commands (e.g. "451 4.3.0 Try later"), one per
    message; `refuse_rcpt` maps an address to the reply its RCPT TO gets; `during_rcpt` runs a
    blocking callable (in a thread) while a client is between RCPT and DATA.
    """

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse_data: list[str] = []
        self.refuse_rcpt: dict[str, str] = {}
        self.during_rcpt: Callable[[], Any] | None = None
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.during_rcpt is not None:
            hook, self.during_rcpt = self.during_rcpt, None
            # Django refuses database work inside an event loop; a worker thread is fine
            await asyncio.get_running_loop().run_in_executor(None, hook)
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data.pop(0)
        self.envelopes.append(envelope)
        return f"250 2.0.0 Ok: queued as Q{len(self.envelopes)}"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """The running test server: its recorder and the EMAIL_URL that reaches it."""

    def __init__(self, controller: Controller, recorder: SmtpRecorder) -> None:
        self.controller, self.recorder = controller, recorder
        self.url = f"smtp://127.0.0.1:{controller.port}?timeout=5"


def _authenticate(recorder: SmtpRecorder) -> Callable[..., AuthResult]:
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):  # type: ignore[no-untyped-def]
        assert isinstance(auth_data, LoginPassword)
        login = (auth_data.login.decode(), auth_data.password.decode())
        recorder.logins.append(login)
        if login == ("sales@example.org", "p@ss:w%rd/1"):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Bad credentials")

    return authenticator


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    recorder = SmtpRecorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        auth_require_tls=False,
        authenticator=_authenticate(recorder),
    )
    controller.start()
    try:
        with override_settings(EMAIL_URL=f"smtp://127.0.0.1:{controller.port}?timeout=5"):
            yield Server(controller, recorder)
    finally:
        controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: connecting is refused."""
    return free_port()


def later(minutes: float) -> Any:
    """Travel `minutes` ahead: the worker then runs the jobs that are due by then."""
    return mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + dt.timedelta(minutes=minutes)
    )
