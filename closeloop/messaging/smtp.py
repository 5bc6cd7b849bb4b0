"""The mail server: EMAIL_URL read and checked, and SMTP connections opened from it."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend

from closeloop.core.exceptions import DomainError

# scheme → (default port, STARTTLS after connecting, TLS from the first byte)
SCHEMES = {"smtp": (25, False, False), "smtp+tls": (587, True, False), "smtps": (465, False, True)}
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class MailServer:
    """Where and how to hand mail over, as EMAIL_URL says."""

    host: str
    port: int
    username: str
    password: str
    starttls: bool
    implicit_tls: bool
    timeout: float

    def __str__(self) -> str:
        # never the password: this shows in logs and error messages
        scheme = "smtps" if self.implicit_tls else "smtp+tls" if self.starttls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def _bad(detail: str) -> DomainError:
    return DomainError(f"EMAIL_URL is not valid: {detail}", field="EMAIL_URL")


def email_url_parse(email_url: str) -> MailServer:
    """Read EMAIL_URL (smtp://, smtp+tls:// for STARTTLS, smtps:// for TLS, ?timeout=seconds).

    User and password are URL-encoded in it (`%40` for @); any mistake raises a DomainError that
    names the variable, so a typo shows at start-up and in the outbox, not as a silent failure.
    """
    parts = urlsplit(email_url.strip())
    if parts.scheme not in SCHEMES:
        raise _bad(
            f"it must start with smtp://, smtp+tls:// or smtps://, not “{parts.scheme or '?'}://”."
        )
    if not parts.hostname:
        raise _bad("it names no host, as in smtp+tls://user:password@mail.example.com:587.")
    try:
        port = parts.port
    except ValueError:
        raise _bad("the port must be a number from 1 to 65535.") from None
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"timeout"})
    if unknown:
        raise _bad(f"unknown option {', '.join(unknown)} (only ?timeout=seconds is understood).")
    try:
        timeout = float(query.get("timeout", [DEFAULT_TIMEOUT])[0])
    except ValueError:
        raise _bad("timeout must be a number of seconds.") from None
    if not 0 < timeout <= 600:
        raise _bad("timeout must be between 0 and 600 seconds.")
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not (username + password).isascii():
        raise _bad("the user name and password can only use ASCII characters (SMTP login).")
    default_port, starttls, implicit_tls = SCHEMES[parts.scheme]
    return MailServer(
        host=parts.hostname,
        port=port or default_port,
        username=username,
        password=password,
        starttls=starttls,
        implicit_tls=implicit_tls,
        timeout=timeout,
    )


def smtp_open(server: MailServer) -> smtplib.SMTP:
    """A logged-in SMTP session, TLS as the URL asks; nothing is sent yet."""
    context = ssl.create_default_context()
    session: smtplib.SMTP
    if server.implicit_tls:
        session = smtplib.SMTP_SSL(
            server.host, server.port, timeout=server.timeout, context=context
        )
    else:
        session = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
    try:
        session.ehlo()
        if server.starttls:
            session.starttls(context=context)
            session.ehlo()
        if server.username:
            session.login(server.username, server.password)
    except BaseException:
        session.close()
        raise
    return session


def smtp_connection(email_url: str) -> BaseEmailBackend:
    """A Django mail backend for EMAIL_URL, for code that wants Django's send_messages()."""
    server = email_url_parse(email_url)
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=server.host,
        port=server.port,
        username=server.username,
        password=server.password,
        use_tls=server.starttls,
        use_ssl=server.implicit_tls,
        timeout=server.timeout,
        fail_silently=False,
    )
