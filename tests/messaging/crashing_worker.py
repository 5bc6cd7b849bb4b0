"""A task worker that is killed (SIGKILL) at a chosen point of sending; the crash tests run it.

    python -m tests.messaging.crashing_worker before-hand-over|during-hand-over|after-delivery

DATABASE_URL and EMAIL_URL come from the environment, as for the real worker.
"""

from __future__ import annotations

import os
import signal
import smtplib
import sys
from typing import Any

import django


def _die(*args: Any, **kwargs: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def _deliver_then_die(self: smtplib.SMTP, msg: bytes) -> Any:
    ORIGINAL_DATA(self, msg)  # the server has the message and answered 250…
    _die()  # …and the worker dies before it records that


ORIGINAL_DATA = smtplib.SMTP.data
KILL_POINTS = {
    # claimed and connected, before MAIL FROM: nothing handed over
    "before-hand-over": ("mail", _die),
    # hand-over recorded, killed before the body leaves: not delivered, but it cannot know
    "during-hand-over": ("data", _die),
    # delivered, killed before the answer is written down
    "after-delivery": ("data", _deliver_then_die),
}


def main(point: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from tests.messaging.conftest import run_worker

    method, replacement = KILL_POINTS[point]
    setattr(smtplib.SMTP, method, replacement)
    run_worker()
    sys.exit("the worker was not killed: the kill point was never reached")


if __name__ == "__main__":
    main(sys.argv[1])
