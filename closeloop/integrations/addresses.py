"""Where webhooks may go: addresses on the public internet, unless the install allows its own.

A subscription's URL makes the server send requests on a user's behalf. Pointed at 127.0.0.1,
the cloud's metadata address (169.254.169.254) or a machine on the office network, it would let
whoever may create a subscription reach what only the server can reach (server-side request
forgery), and read the start of the answer in the delivery log. So the host is resolved and
every address it resolves to must be a global one; the POST then connects to the address that
was checked rather than looking the name up again, which a hostile DNS server could answer
differently the second time. `WEBHOOK_PRIVATE_ADDRESSES=1` lifts the rule for an install whose
receivers live on its own network.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings

PRIVATE_REFUSED = (
    "{host} is {address}, a private or local address: webhooks go to addresses on the public "
    "internet (an administrator can allow the install's own network with "
    "WEBHOOK_PRIVATE_ADDRESSES=1)."
)


class AddressRefused(Exception):
    """The URL's host is, or resolves to, an address webhooks may not be sent to."""


def address_is_public(address: str) -> bool:
    """Whether an IP address is a global one (not loopback, private, link-local, shared,
    reserved or multicast), an IPv4 address written as IPv6 judged as the IPv4 one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_PRIVATE_ADDRESSES", False))


def _host_port(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    return host, parts.port or (443 if parts.scheme == "https" else 80)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def url_host_check(url: str) -> None:
    """Refuse (AddressRefused) a URL whose host is a private address or a name resolving to
    one; a name that does not resolve now passes (its deliveries will say why they fail)."""
    if private_allowed():
        return
    host, port = _host_port(url)
    literal = _literal(host)
    addresses = [literal] if literal else _resolved(host, port, missing_ok=True)
    for address in addresses:
        if not address_is_public(address):
            raise AddressRefused(PRIVATE_REFUSED.format(host=host, address=address))


def _resolved(host: str, port: int, *, missing_ok: bool = False) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        if missing_ok:
            return []
        raise
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def checked_address(url: str) -> str:
    """The address to connect to for `url`: its host resolved once, every address it has
    checked (AddressRefused naming the first that is not allowed), the first one returned.
    Raises OSError when the name does not resolve."""
    host, port = _host_port(url)
    literal = _literal(host)
    addresses = [literal] if literal else _resolved(host, port)
    if not addresses:
        raise OSError(f"{host} has no address")
    if not private_allowed():
        for address in addresses:
            if not address_is_public(address):
                raise AddressRefused(PRIVATE_REFUSED.format(host=host, address=address))
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed address, whatever its host name resolves to now (the
    name still goes in the Host header)."""

    def __init__(self, *args: Any, address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the host name, as always."""

    def __init__(self, *args: Any, address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new address: the receiver's URL is the one configured
    (and a redirect could point anywhere, checked or not)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def pinned_opener(address: str) -> urllib.request.OpenerDirector:
    """A urllib opener that connects to `address` for any URL it opens, ignores proxy
    settings (a proxy would connect where it likes) and follows no redirect."""

    class Plain(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(functools.partial(_PinnedHTTPConnection, address=address), req)

    class Secure(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            connection = functools.partial(_PinnedHTTPSConnection, address=address)
            return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]

    return urllib.request.build_opener(urllib.request.ProxyHandler({}), Plain, Secure, _NoRedirects)
