"""A real IMAP server for the mailbox tests: Debian's dovecot on 127.0.0.1, one per test process.

Plain IMAP on one port; where openssl exists, imaps on a second and STARTTLS on the first, with
a self-signed certificate made for the run.

Each test gets its own account of dovecot's passwd-file, and so its own empty maildir. Without
dovecot the tests skip with the reason; with CLOSELOOP_REQUIRE_IMAP=1 (as in CI) they fail.
"""

from __future__ import annotations

import grp
import imaplib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

DOVECOT = os.environ.get("DOVECOT_PATH", "/usr/sbin/dovecot")
PASSWORD = "s3cret pass/word"
ACCOUNTS = 1000


@dataclass
class Account:
    user: str
    password: str
    server: Dovecot

    def url(
        self, *, password: str | None = None, folder: str = "INBOX", scheme: str = "imap"
    ) -> str:
        secret = quote(self.password if password is None else password, safe="")
        port = self.server.tls_port if scheme == "imaps" else self.server.port
        return f"{scheme}://{quote(self.user, safe='')}:{secret}@127.0.0.1:{port}/{folder}"

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.server.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox the way a mail server delivers it."""
        conn = self.connect()
        try:
            typ, data = conn.append(
                folder, None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            )
            assert typ == "OK", data
        finally:
            conn.logout()

    def uidvalidity(self, folder: str = "INBOX") -> int:
        conn = self.connect()
        try:
            typ, data = conn.status(folder, "(UIDVALIDITY)")
            assert typ == "OK", data
            return int(data[0].split(b"UIDVALIDITY")[1].strip(b" )"))
        finally:
            conn.logout()

    def recreate_maildir(self) -> None:
        """Throw the account's mail store away, as a server move does: UIDVALIDITY changes."""
        shutil.rmtree(self.server.root / "mail" / self.user)
        time.sleep(1.1)  # dovecot derives a new UIDVALIDITY from the clock


class Dovecot:
    def __init__(self, root: Path, port: int, tls_port: int) -> None:
        self.root, self.port, self.tls_port = root, port, tls_port
        self.cert: Path | None = None  # the self-signed certificate, where openssl exists
        self.process: subprocess.Popen[bytes] | None = None
        self.counter = itertools.count(1)
        if os.geteuid() == 0:
            # dovecot refuses to run its login processes as root: use its own system users.
            self.login_user, self.internal_user = "dovenull", "dovecot"
            mail = pwd.getpwnam("dovecot")
        else:
            self.login_user = self.internal_user = pwd.getpwuid(os.getuid()).pw_name
            mail = pwd.getpwuid(os.getuid())
        self.mail_uid, self.mail_gid = mail.pw_uid, mail.pw_gid

    def config(self) -> str:
        r = self.root
        return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {r}/run
state_dir = {r}/state
instance_name = closeloop-test-{self.port}
{self.ssl_config()}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {r}/dovecot.log
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(self.internal_user).pw_gid).gr_name}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{r}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/users
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={r}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port if self.cert else 0}
  }}
}}
service anvil {{
  chroot =
}}
"""

    def ssl_config(self) -> str:
        if self.cert is None:
            return "ssl = no"
        return f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{self.root / 'key.pem'}"

    def make_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1, for the imaps and STARTTLS tests."""
        openssl = shutil.which("openssl")
        if openssl is None:
            return
        cert, key = self.root / "cert.pem", self.root / "key.pem"
        subprocess.run(
            [
                openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        self.cert = cert

    def start(self) -> None:
        self.make_certificate()
        for name in ("run", "state", "mail"):
            (self.root / name).mkdir()
        os.chown(self.root / "mail", self.mail_uid, self.mail_gid)
        # dovecot notices a changed passwd-file only by its mtime (whole seconds), so every
        # account a test process may need is written before it starts.
        users = [f"{self.user(n)}:{{PLAIN}}{PASSWORD}\n" for n in range(1, ACCOUNTS + 1)]
        (self.root / "users").write_text("".join(users))
        (self.root / "dovecot.conf").write_text(self.config())
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot did not start: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @staticmethod
    def user(number: int) -> str:
        return f"inbox{number}@mailbox.test"

    def add_account(self) -> Account:
        """A fresh account: its maildir is created empty at its first login."""
        number = next(self.counter)
        assert number <= ACCOUNTS, "raise ACCOUNTS in tests/mailbox/conftest.py"
        return Account(user=self.user(number), password=PASSWORD, server=self)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One dovecot per test process (so per pytest-xdist worker), on its own free port."""
    if not Path(DOVECOT).exists():
        message = f"dovecot not found at {DOVECOT}: install Debian's dovecot-imapd package"
        if os.environ.get("CLOSELOOP_REQUIRE_IMAP") == "1":
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="closeloop-dovecot-"))
    root.chmod(0o755)  # dovecot's own users must reach the mail store
    server = Dovecot(root, _free_port(), _free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot: Dovecot, settings: Any, tmp_path: Path, db: None) -> Account:
    """An empty mailbox of its own, set as IMAP_URL; attachments stored under tmp_path."""
    account = dovecot.add_account()
    settings.IMAP_URL = account.url()
    settings.IMAP_ADDRESS = ""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return account
