"""A worker killed mid-send never causes a second copy: a real process, a real SIGKILL.

The worker runs as a child process against the same database and the same SMTP server and is
killed at a chosen point; then the sweep and a healthy worker run, and the server is asked how
many copies it got.
"""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from closeloop.activities.models import Notification
from closeloop.messaging.choices import AttemptOutcome, MessageState
from closeloop.messaging.models import Message
from closeloop.messaging.services import message_queue

from .conftest import Server, later, run_worker

pytestmark = pytest.mark.django_db(transaction=True)


class SharedDatabase:
    """The test database made reachable by a second process.

    PostgreSQL: the child connects to the test database itself. SQLite: the test database lives
    in memory, so it is copied to a file for the child and copied back when the child is done.
    """

    def __init__(self, tmp_path: Path) -> None:
        self.file = tmp_path / "shared.sqlite3"
        self.sqlite = connection.vendor == "sqlite"

    def url(self) -> str:
        if self.sqlite:
            connection.ensure_connection()
            with sqlite3.connect(self.file) as target:
                connection.connection.backup(target)
            return f"sqlite:///{self.file}"
        db = connection.settings_dict
        return (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )

    def take_back(self) -> None:
        if self.sqlite:
            source = sqlite3.connect(self.file)
            try:
                source.backup(connection.connection)
            finally:
                source.close()


@pytest.fixture
def shared_db(tmp_path: Path) -> Iterator[SharedDatabase]:
    yield SharedDatabase(tmp_path)


def _worker_killed_at(point: str, shared_db: SharedDatabase, smtp: Server) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": shared_db.url(),
        "EMAIL_URL": smtp.url,
        "CLOSELOOP_VAR_DIR": str(shared_db.file.parent),
    }
    child = subprocess.run(
        [sys.executable, "-m", "tests.messaging.crashing_worker", point],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    shared_db.take_back()


def _queued(rep: Any) -> Message:
    return message_queue(actor=rep, to="lena@example.org", subject="Your quote", text_body="Hi")


def test_killed_before_hand_over_it_is_sent_once_later(
    rep: Any, smtp_server: Server, shared_db: SharedDatabase
) -> None:
    message = _queued(rep)
    _worker_killed_at("before-hand-over", shared_db, smtp_server)

    message.refresh_from_db()
    assert message.state == MessageState.SENDING and message.handed_at is None
    assert smtp_server.recorder.envelopes == []
    run_worker()  # the job is gone with the dead worker, and a live claim is left alone
    assert Message.objects.get(pk=message.pk).state == MessageState.SENDING

    with later(20):  # the claim is stale now: the sweep queues it again
        call_command("outbox_sweep", stdout=io.StringIO())
        run_worker()
        run_worker()
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    assert len(smtp_server.recorder.envelopes) == 1
    lost, sent = message.send_attempts.all()
    assert lost.outcome == AttemptOutcome.LOST and sent.outcome == AttemptOutcome.SENT


def test_killed_after_delivery_it_is_not_sent_again(
    rep: Any, smtp_server: Server, shared_db: SharedDatabase
) -> None:
    message = _queued(rep)
    _worker_killed_at("after-delivery", shared_db, smtp_server)

    assert len(smtp_server.recorder.envelopes) == 1
    message.refresh_from_db()
    assert message.state == MessageState.SENDING and message.handed_at is not None

    with later(20):
        call_command("outbox_sweep", stdout=io.StringIO())
        run_worker()
    with later(60 * 24 * 3):
        call_command("outbox_sweep", stdout=io.StringIO())
        run_worker()
    assert len(smtp_server.recorder.envelopes) == 1  # exactly one copy, ever
    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN
    assert "it may have been delivered" in message.last_error
    assert message.send_attempts.get().outcome == AttemptOutcome.UNKNOWN
    assert Notification.objects.filter(recipient=rep, url=f"/outbox/{message.pk}/").exists()


def test_killed_during_hand_over_nothing_is_sent_and_a_person_decides(
    rep: Any, smtp_server: Server, shared_db: SharedDatabase, client_for: Any
) -> None:
    message = _queued(rep)
    _worker_killed_at("during-hand-over", shared_db, smtp_server)

    with later(20):
        call_command("outbox_sweep", stdout=io.StringIO())
        run_worker()
    assert smtp_server.recorder.envelopes == []
    message.refresh_from_db()
    assert message.state == MessageState.UNCERTAIN

    # the person checks, finds it never arrived, and resends the same message
    client = client_for(rep)
    page = client.get(f"/outbox/{message.pk}/")
    assert "May have been sent (check)" in page.content.decode()
    assert client.post(f"/outbox/{message.pk}/resend/").status_code == 302
    run_worker()
    [received] = smtp_server.recorder.messages()
    assert received["Message-ID"] == message.message_id
