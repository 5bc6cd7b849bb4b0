"""Polling the lead mailbox over IMAP: read what is new since the last UID, record each message.

Messages are fetched with BODY.PEEK[] (their flags stay as they are) in UID order; the last
UID read is saved after each one, so a poll cut short resumes where it stopped. When the
folder's UIDVALIDITY changes (the folder was recreated or the server moved), the whole folder
is read again and Message-IDs keep anything from being recorded twice.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import logging
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from closeloop.core.exceptions import DomainError

from .config import MailboxConfig, mailbox_config_parse
from .models import MailboxPoll, MailboxState
from .routing import received_message_record

logger = logging.getLogger(__name__)

MAX_PER_POLL = 500
STALE_POLL = dt.timedelta(minutes=15)  # a poll "running" longer than this has died
KEEP_POLLS = 200


class MailboxError(Exception):
    """The mailbox could not be read; the message says why, in words."""


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)


@contextmanager
def imap_session(config: MailboxConfig) -> Iterator[imaplib.IMAP4]:
    """A logged-in IMAP connection; every failure becomes a MailboxError naming what failed."""
    try:
        context = ssl.create_default_context()
        if config.cafile:
            context.load_verify_locations(cafile=config.cafile)
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(f"IMAP_URL's cafile cannot be read: {exc}") from exc
    try:
        if config.ssl:
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                config.host, config.port, ssl_context=context, timeout=config.timeout
            )
        else:
            conn = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
            if config.starttls:
                conn.starttls(ssl_context=context)
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(
            f"The certificate of {config.where} is not trusted: {exc.verify_message}. "
            "For a private or self-signed certificate add ?cafile=/path/to/cert.pem to IMAP_URL."
        ) from exc
    except ssl.SSLError as exc:
        raise MailboxError(f"TLS with {config.where} failed: {exc.reason or exc}.") from exc
    except TimeoutError as exc:
        raise MailboxError(f"Could not connect to {config.where}: timed out.") from exc
    except OSError as exc:
        raise MailboxError(f"Could not connect to {config.where}: {exc.strerror or exc}.") from exc
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"{config.where} refused the connection: {_text(exc.args)}") from exc
    try:
        try:
            conn.login(config.user, config.password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(
                f"Login failed for {config.user} at {config.where}: {_text(exc.args)}"
            ) from exc
        yield conn
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


def _select(conn: imaplib.IMAP4, config: MailboxConfig) -> int:
    folder = '"' + config.folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
    typ, data = conn.select(folder, readonly=True)
    if typ != "OK":
        raise MailboxError(
            f"The folder “{config.folder}” cannot be opened on {config.where}: {_text(data)}"
        )
    _, values = conn.response("UIDVALIDITY")
    match = re.search(rb"\d+", values[0] if values and values[0] else b"")
    if match is None:
        raise MailboxError(f"{config.where} did not say the folder's UIDVALIDITY.")
    return int(match.group())


def _new_uids(conn: imaplib.IMAP4, after: int) -> list[int]:
    typ, data = conn.uid("SEARCH", f"UID {after + 1}:*")
    if typ != "OK":
        raise MailboxError(f"Searching the folder failed: {_text(data)}")
    # "n:*" always matches the newest message, even when its UID is below n.
    return sorted(uid for uid in (int(u) for u in (data[0] or b"").split()) if uid > after)


def _fetch(conn: imaplib.IMAP4, uid: int) -> bytes | None:
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    if typ != "OK":
        raise MailboxError(f"Fetching message UID {uid} failed: {_text(data)}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None  # expunged meanwhile


def _claim(now: dt.datetime) -> MailboxState | None:
    state, _ = MailboxState.objects.get_or_create(pk=1)
    claimed = (
        MailboxState.objects.filter(pk=1)
        .filter(Q(polling_since__isnull=True) | Q(polling_since__lt=now - STALE_POLL))
        .update(polling_since=now)
    )
    if not claimed:
        return None
    state.refresh_from_db()
    return state


def _read(
    conn: imaplib.IMAP4, config: MailboxConfig, state: MailboxState, poll: MailboxPoll
) -> None:
    uidvalidity = _select(conn, config)
    if state.uidvalidity != uidvalidity:
        poll.rescanned = state.uidvalidity is not None
        state.uidvalidity, state.last_uid = uidvalidity, 0
        state.save(update_fields=["uidvalidity", "last_uid"])
    for uid in _new_uids(conn, state.last_uid)[:MAX_PER_POLL]:
        raw = _fetch(conn, uid)
        if raw is not None:
            poll.messages_read += 1
            try:
                result = received_message_record(
                    raw=raw, folder=config.folder, uidvalidity=uidvalidity, uid=uid
                )
            except Exception as exc:
                # One unreadable message must not stop the mailbox: it is skipped and named.
                logger.exception("mailbox: message UID %s could not be recorded", uid)
                poll.error = f"Message UID {uid} could not be recorded and was skipped: {exc}"
                poll.ignored += 1
                state.last_uid = uid
                state.save(update_fields=["last_uid"])
                continue
            if not result.created:
                poll.already_known += 1
            elif result.activities_added == 0:
                poll.ignored += 1
            poll.leads_created += result.leads_created
            poll.activities_added += result.activities_added
        state.last_uid = uid
        state.save(update_fields=["last_uid"])


def mailbox_poll(*, now: dt.datetime | None = None) -> MailboxPoll | None:
    """Read new mail from IMAP_URL once; None when another poll is running.

    Success or failure is recorded on the poll and the mailbox state in words, so the settings
    page shows a failing mailbox instead of silence.
    """
    now = now or timezone.now()
    state = _claim(now)
    if state is None:
        return None
    poll = MailboxPoll.objects.create(started_at=now)
    try:
        config = mailbox_config_parse(settings.IMAP_URL)
        with imap_session(config) as conn:
            _read(conn, config, state, poll)
    except DomainError as exc:
        poll.error = exc.message
    except MailboxError as exc:
        poll.error = str(exc)
    except imaplib.IMAP4.abort as exc:
        poll.error = f"The connection to the mail server broke off: {_text(exc.args)}"
    except (imaplib.IMAP4.error, OSError) as exc:
        poll.error = f"Reading the mailbox failed: {_text(exc.args) or exc}"
    finally:
        finished = timezone.now()
        poll.ok = not poll.error
        poll.finished_at = finished
        poll.save()
        state.polling_since, state.last_poll_at = None, finished
        if poll.ok:
            state.last_success_at = finished
        else:
            state.last_error, state.last_error_at = poll.error, finished
        state.save(
            update_fields=[
                "polling_since", "last_poll_at", "last_success_at", "last_error", "last_error_at",
            ]
        )  # fmt: skip
        old = MailboxPoll.objects.order_by("-started_at", "-pk").values_list("pk", flat=True)
        MailboxPoll.objects.filter(pk__in=list(old[KEEP_POLLS:])).delete()
    return poll


def mailbox_poll_request(*, actor: object) -> None:
    """Have the worker poll the mailbox now (admins; only when IMAP_URL is set)."""
    if not getattr(actor, "is_admin", False):
        raise DomainError("Only admins can poll the mailbox.")
    if not settings.IMAP_URL:
        raise DomainError("No mailbox is configured: set IMAP_URL first.")
    from ..tasks import mailbox_poll_task

    mailbox_poll_task.enqueue()
