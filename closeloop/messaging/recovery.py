"""Claims left behind by dead workers, and queued messages whose job was lost, found again."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .choices import AttemptOutcome, MessageState
from .models import Message, SendAttempt
from .sending import message_problem_notify
from .services import message_enqueue

# Longer than any live worker holds a claim: connecting, logging in and sending 20 MB at the
# longest EMAIL_URL timeout (600 s per step) stay well inside it in practice.
STALE_CLAIM = dt.timedelta(minutes=15)

REQUEUED = "The worker stopped before handing the message to the mail server; it is queued again."
UNCERTAIN = (
    "The worker stopped while handing the message to the mail server at {at:%Y-%m-%d %H:%M} UTC:"
    " it may have been delivered. It is not resent on its own; check with the recipient or the"
    " mail server's log, then resend it or leave it."
)


def message_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Recover what dead workers and lost jobs left: safe to run any time, from any process.

    A stale claim that never reached the server is queued again; one that may have reached it
    is marked uncertain and never resent automatically; a due message whose job was lost is
    given a new job. Every change is conditional on the row being as the sweep read it.
    """
    now = now or timezone.now()
    stale = now - STALE_CLAIM
    counts = {"requeued": 0, "uncertain": 0, "rescheduled": 0, "unchanged": 0}
    for message in Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=stale):
        counts[_recover_claim(message, now)] += 1
    overdue = Message.objects.filter(
        Q(state=MessageState.QUEUED, next_attempt_at__isnull=True, created_at__lt=stale)
        | Q(state__in=[MessageState.QUEUED, MessageState.RETRYING], next_attempt_at__lt=stale)
    )
    for message in overdue:
        with transaction.atomic():
            # moving next_attempt_at to now keeps the next sweep from queueing it yet again
            if Message.objects.filter(
                pk=message.pk, state=message.state, next_attempt_at=message.next_attempt_at
            ).update(next_attempt_at=now):
                message_enqueue(message=message)
                counts["rescheduled"] += 1
    return counts


@transaction.atomic
def _recover_claim(message: Message, now: dt.datetime) -> str:
    same_claim = Message.objects.filter(
        pk=message.pk, state=MessageState.SENDING, claim_token=message.claim_token
    )
    open_attempts = SendAttempt.objects.filter(message=message, finished_at__isnull=True)
    if same_claim.filter(handed_at__isnull=True).update(
        state=MessageState.RETRYING,
        next_attempt_at=now,
        claim_token="",
        last_error=REQUEUED,
        updated_at=now,
    ):
        open_attempts.update(finished_at=now, outcome=AttemptOutcome.LOST, response=REQUEUED)
        message_enqueue(message=message)
        return "requeued"
    text = UNCERTAIN.format(at=message.handed_at or now)
    # the claim token stays: a worker that was only slow may still record the server's answer
    if same_claim.update(state=MessageState.UNCERTAIN, last_error=text, updated_at=now):
        open_attempts.update(finished_at=now, outcome=AttemptOutcome.UNKNOWN, response=text)
        message_problem_notify(message=message, problem=text)
        return "uncertain"
    return "unchanged"  # the worker finished after all, between the read and the update
