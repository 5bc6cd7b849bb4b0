"""IMAP_URL: where the lead mailbox is and how to log in to it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings

from closeloop.core.exceptions import DomainError

# scheme → (default port, TLS from the start, STARTTLS)
SCHEMES = {"imap": (143, False, False), "imap+tls": (143, False, True), "imaps": (993, True, False)}


@dataclass(frozen=True)
class MailboxConfig:
    """A parsed IMAP_URL; `password` is never shown anywhere."""

    host: str
    port: int
    user: str
    password: str
    folder: str
    ssl: bool
    starttls: bool
    timeout: float
    cafile: str = ""  # a private CA (or the server's self-signed certificate) to trust

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def mailbox_config_parse(url: str) -> MailboxConfig:
    """Read imaps://, imap:// or imap+tls:// (STARTTLS) URLs; the path names the folder.

    Query options: timeout (seconds, default 30), cafile (a PEM file of certificates to trust
    besides the system's, for a server with a private or self-signed certificate).
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise DomainError(
            "IMAP_URL must start with imaps://, imap+tls:// or imap://"
            + (f", not {parts.scheme}://." if parts.scheme else "."),
            field="IMAP_URL",
        )
    try:
        port_given = parts.port
    except ValueError:
        raise DomainError("IMAP_URL has a port that is not a number.", field="IMAP_URL") from None
    if not parts.hostname:
        raise DomainError("IMAP_URL names no server (imaps://user:pass@host/).", field="IMAP_URL")
    if not parts.username or parts.password is None:
        raise DomainError(
            "IMAP_URL needs a user and a password (imaps://user:pass@host/); "
            "write @ in the user name as %40.",
            field="IMAP_URL",
        )
    default_port, ssl, starttls = SCHEMES[parts.scheme]
    folder = unquote(parts.path.strip("/")) or "INBOX"
    query = parse_qs(parts.query)
    try:
        timeout = float(query.get("timeout", ["30"])[0])
    except ValueError:
        raise DomainError("IMAP_URL's timeout must be a number of seconds.") from None
    return MailboxConfig(
        host=parts.hostname,
        port=port_given or default_port,
        user=unquote(parts.username),
        password=unquote(parts.password),
        folder=folder,
        ssl=ssl,
        starttls=starttls,
        timeout=timeout,
        cafile=query.get("cafile", [""])[0],
    )


def mailbox_configured() -> bool:
    return bool(settings.IMAP_URL)


def mailbox_address() -> str:
    """The address users BCC or forward mail to: IMAP_ADDRESS, else IMAP_URL's user name."""
    if settings.IMAP_ADDRESS:
        return str(settings.IMAP_ADDRESS)
    if not settings.IMAP_URL:
        return ""
    try:
        user = mailbox_config_parse(settings.IMAP_URL).user
    except DomainError:
        return ""
    return user if "@" in user else ""
