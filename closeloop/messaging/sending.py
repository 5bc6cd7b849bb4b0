"""Sending one outbox message through SMTP: claimed first, handed over once, the answer kept.

The order of writes is what makes a crash safe. Each step is committed before the next
network step, so a worker killed anywhere leaves a row that says how far it got:

1. claim: QUEUED/RETRYING → SENDING with a fresh claim token (a conditional UPDATE, so of two
   workers only one wins);
2. connect, log in, MAIL FROM and RCPT TO: nothing is delivered yet;
3. hand-over: `handed_at` is set, still conditional on the claim token, just before DATA;
4. DATA and the server's answer, recorded with the outcome.

A claim found stale without `handed_at` certainly never reached the server and is queued
again; one with `handed_at` may have, and waits for a person (see `recovery.py`).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import sanitize_address
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.services import notification_create
from closeloop.core.exceptions import DomainError

from .choices import AttemptOutcome, MessageState
from .models import Message, SendAttempt
from .smtp import MailServer, email_url_parse, smtp_open

logger = logging.getLogger(__name__)

# Minutes to wait after the 1st, 2nd, … temporary failure. The last try comes about 49 hours
# after the first; a message still refused then is marked failed.
RETRY_DELAYS_MINUTES = (1, 5, 15, 60, 240, 480, 720, 720, 720)
MAX_ATTEMPTS = len(RETRY_DELAYS_MINUTES) + 1

NO_SERVER = "No mail server is configured (EMAIL_URL is not set): the message stays in the outbox."


def retry_delay(attempts: int) -> dt.timedelta | None:
    """How long to wait after `attempts` tries ended in temporary failures; None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return dt.timedelta(minutes=RETRY_DELAYS_MINUTES[max(attempts, 1) - 1])


@dataclass
class Result:
    """How one try ended: the outcome, the server's code and answer, refused recipients."""

    outcome: str
    code: int | None = None
    text: str = ""
    refused: dict[str, str] = field(default_factory=dict)


def _decode(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def _answer(code: int, reply: bytes | str) -> Result:
    """A refusal by the server: 4xx is worth retrying, 5xx is final."""
    outcome = AttemptOutcome.PERMANENT if code >= 500 else AttemptOutcome.TEMPORARY
    return Result(outcome, code, _decode(reply))


def message_build(message: Message) -> EmailMultiAlternatives:
    """The MIME message as it goes out: text part, optional HTML part, attachments, headers."""
    headers = {**message.headers, "Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if message.references:
        headers["References"] = message.references
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text_body,
        from_email=message.from_email,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=[message.reply_to] if message.reply_to else None,
        headers=headers,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            content = handle.read()
        if attachment.content_type.startswith("text/calendar"):
            # A calendar invite also goes inline as an alternative of the text: Outlook reads
            # the invite from there, Google and Apple from either.
            email.attach_alternative(content.decode("utf-8"), attachment.content_type)
        email.attach(attachment.filename, content, attachment.content_type)
    return email


def message_send(*, message_id: int) -> str:
    """Send a due message at most once: claim it, hand it to the server, record the answer.

    The claim is a conditional UPDATE, so of two workers given the same message only one
    sends it; the other sees it already claimed (or not yet due) and leaves it.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        Message.objects.filter(
            pk=message_id, state__in=[MessageState.QUEUED, MessageState.RETRYING]
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            state=MessageState.SENDING,
            claimed_at=now,
            claim_token=token,
            handed_at=None,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if not claimed:
        state = Message.objects.filter(pk=message_id).values_list("state", flat=True).first()
        return state or "missing"
    message = Message.objects.get(pk=message_id)
    if message.marketing and _suppressed(message, token, now):
        return MessageState.SUPPRESSED
    attempt = SendAttempt.objects.create(message=message, started_at=now)
    if not settings.EMAIL_URL:
        result: Result | None = Result(AttemptOutcome.HELD, None, NO_SERVER)
    else:
        try:
            result = _deliver(message, attempt, token)
        except Exception as exc:  # a bug or an odd server must not leave the claim hanging
            logger.exception("Sending message %s failed unexpectedly", message_id)
            handed = Message.objects.filter(
                pk=message_id, claim_token=token, handed_at__isnull=False
            ).exists()
            outcome = AttemptOutcome.UNKNOWN if handed else AttemptOutcome.TEMPORARY
            result = Result(outcome, None, f"Unexpected error while sending: {exc!r}")
    if result is not None:
        _finish(message, attempt, token, result)
    message.refresh_from_db(fields=["state"])
    return message.state


def _suppressed(message: Message, token: str, now: dt.datetime) -> bool:
    """Promotional mail is checked against the suppression list as it leaves, so someone who
    unsubscribed after it was queued does not get it."""
    from .consent import suppressed_among

    blocked = suppressed_among([*message.to, *message.cc, *message.bcc])
    if not blocked:
        return False
    Message.objects.filter(pk=message.pk, claim_token=token).update(
        state=MessageState.SUPPRESSED,
        last_error="Not sent: " + ", ".join(sorted(blocked)) + " asked for no marketing email.",
        updated_at=now,
    )
    return True


def _deliver(message: Message, attempt: SendAttempt, token: str) -> Result | None:
    """One SMTP session for the message; None when its claim was taken back before hand-over."""
    try:
        server = email_url_parse(settings.EMAIL_URL)
    except DomainError as exc:
        return Result(AttemptOutcome.TEMPORARY, None, exc.message)
    try:
        sender, recipients, body = _envelope(message)
    except (OSError, ValueError) as exc:  # a lost attachment file, an address SMTP cannot carry
        return Result(AttemptOutcome.PERMANENT, None, f"The message cannot be built: {exc}")
    try:
        session = smtp_open(server)
    except smtplib.SMTPAuthenticationError as exc:
        # the workspace's account, not this message, is wrong: retry until someone fixes it
        text = f"The mail server refused the login in EMAIL_URL: {_decode(exc.smtp_error)}"
        return Result(AttemptOutcome.TEMPORARY, exc.smtp_code, text)
    except smtplib.SMTPResponseException as exc:
        return _answer(exc.smtp_code, exc.smtp_error)
    except OSError as exc:  # refused, timed out, TLS failed, disconnected (SMTPException too)
        return Result(AttemptOutcome.TEMPORARY, None, f"Could not reach {server}: {exc}")
    try:
        return _transaction(session, server, message, attempt, token, sender, recipients, body)
    finally:
        try:
            session.quit()
        except OSError:
            session.close()


def _envelope(message: Message) -> tuple[str, list[str], bytes]:
    """Sender, recipients and bytes as SMTP carries them; names stay in the headers."""
    email = message_build(message)
    encoding = email.encoding or settings.DEFAULT_CHARSET
    sender = parseaddr(sanitize_address(email.from_email, encoding))[1]
    recipients = [parseaddr(sanitize_address(a, encoding))[1] for a in email.recipients()]
    return sender, recipients, email.message().as_bytes(linesep="\r\n")


def _transaction(
    session: smtplib.SMTP,
    server: MailServer,
    message: Message,
    attempt: SendAttempt,
    token: str,
    sender: str,
    recipients: list[str],
    body: bytes,
) -> Result | None:
    try:
        code, reply = session.mail(sender)
        if code != 250:
            session.rset()
            return _answer(code, reply)
        refused: dict[str, tuple[int, str]] = {}
        for recipient in recipients:
            code, reply = session.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, _decode(reply))
        if len(refused) == len(recipients):
            session.rset()
            return _all_refused(refused)
        if not _hand_over(message, attempt, token):
            session.rset()
            return None
    except smtplib.SMTPResponseException as exc:
        return _answer(exc.smtp_code, exc.smtp_error)
    except OSError as exc:
        return Result(AttemptOutcome.TEMPORARY, None, f"The connection to {server} broke: {exc}")
    try:
        code, reply = session.data(body)
    except smtplib.SMTPResponseException as exc:
        # DATA itself was refused: the body never left, nothing was delivered
        return _answer(exc.smtp_code, exc.smtp_error)
    except OSError as exc:
        text = (
            f"The connection to {server} broke while the server was taking the message ({exc}):"
            " it may have been delivered."
        )
        return Result(AttemptOutcome.UNKNOWN, None, text)
    if code != 250:
        return _answer(code, reply)
    notes = {address: f"{c} {text}" for address, (c, text) in refused.items()}
    return Result(AttemptOutcome.SENT, code, _decode(reply), notes)


def _all_refused(refused: dict[str, tuple[int, str]]) -> Result:
    """Every recipient refused: retry if any refusal was temporary, else it failed."""
    codes = [code for code, _ in refused.values()]
    temporary = any(400 <= code < 500 for code in codes)
    text = "; ".join(f"{address}: {code} {reply}" for address, (code, reply) in refused.items())
    outcome = AttemptOutcome.TEMPORARY if temporary else AttemptOutcome.PERMANENT
    code = next((c for c in codes if 400 <= c < 500), codes[0]) if temporary else codes[0]
    return Result(outcome, code, f"All recipients refused: {text}")


def _hand_over(message: Message, attempt: SendAttempt, token: str) -> bool:
    """Record, before the body goes out, that this claim is handing the message over.

    Conditional on the claim token: if a sweep took the claim back (the worker was thought
    dead), the worker must not send.
    """
    now = timezone.now()
    with transaction.atomic():
        marked = Message.objects.filter(
            pk=message.pk, state=MessageState.SENDING, claim_token=token
        ).update(handed_at=now)
        if marked:
            SendAttempt.objects.filter(pk=attempt.pk).update(handed_at=now)
    return bool(marked)


FINAL_STATE = {
    AttemptOutcome.SENT: MessageState.SENT,
    AttemptOutcome.HELD: MessageState.NOT_SENT,
    AttemptOutcome.PERMANENT: MessageState.FAILED,
    AttemptOutcome.UNKNOWN: MessageState.UNCERTAIN,
}


@transaction.atomic
def _finish(message: Message, attempt: SendAttempt, token: str, result: Result) -> None:
    """Record the try and move the message on; a temporary failure is queued for later."""
    now = timezone.now()
    SendAttempt.objects.filter(pk=attempt.pk).update(
        finished_at=now,
        outcome=result.outcome,
        smtp_code=result.code,
        response=result.text,
        refused=result.refused,
    )
    answer = f"{result.code} {result.text}" if result.code else result.text
    next_attempt_at = None
    if result.outcome == AttemptOutcome.TEMPORARY:
        delay = retry_delay(message.attempts)
        if delay is None:
            state = MessageState.FAILED
            answer = f"Gave up after {message.attempts} attempts. Last answer: {answer}"
        else:
            state, next_attempt_at = MessageState.RETRYING, now + delay
    else:
        state = FINAL_STATE[AttemptOutcome(result.outcome)]
    if result.outcome == AttemptOutcome.SENT:
        refused = "; ".join(f"{a} ({why})" for a, why in result.refused.items())
        answer = f"Not delivered to: {refused}" if refused else ""
    # conditional on the claim: a worker whose claim was taken back records nothing here
    updated = Message.objects.filter(pk=message.pk, claim_token=token).update(
        state=state,
        last_error=answer,
        next_attempt_at=next_attempt_at,
        sent_at=now if state == MessageState.SENT else None,
        claim_token="",
        updated_at=now,
    )
    if not updated:
        return
    if state == MessageState.RETRYING:
        from .services import message_enqueue

        message_enqueue(message=message, run_after=next_attempt_at)
    elif state in (MessageState.FAILED, MessageState.UNCERTAIN) or (
        state == MessageState.SENT and result.refused
    ):
        message_problem_notify(message=message, problem=answer)


def message_problem_notify(*, message: Message, problem: str) -> None:
    """Tell whoever wrote a message that it failed, partly failed or may not have gone out."""
    notification_create(
        recipient=message.created_by,
        kind="email_problem",
        title=f"Check the email “{message.subject}”"[:200],
        body=problem,
        url=reverse("messaging:detail", args=[message.pk]),
    )
