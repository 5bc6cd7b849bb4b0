from django.db import models


class MessageState(models.TextChoices):
    """Where an outgoing message is on its way out."""

    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Waiting to retry"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # delivered to the server, then returned by the recipient's side (a bounce in the mailbox)
    BOUNCED = "bounced", "Bounced"
    # no mail server is configured (EMAIL_URL unset): the outbox keeps it, readable, unsent
    NOT_SENT = "not_sent", "Not sent (no mail server)"
    # a worker died after handing it to the server but before hearing the answer: it may have
    # arrived, so it is never resent on its own; a person checks and resends or leaves it
    UNCERTAIN = "uncertain", "May have been sent (check)"
    # promotional mail to an address on the suppression list (it unsubscribed after queueing)
    SUPPRESSED = "suppressed", "Not sent (unsubscribed)"


class AttemptOutcome(models.TextChoices):
    """How one try at handing a message to the mail server ended."""

    SENT = "sent", "Sent"
    TEMPORARY = "temporary", "Temporary failure"
    PERMANENT = "permanent", "Permanent failure"
    HELD = "held", "Held (no mail server)"
    # the worker stopped before the message reached the server: safely queued again
    LOST = "lost", "Interrupted before hand-over"
    # the worker stopped (or the line dropped) while the server was taking the message
    UNKNOWN = "unknown", "Interrupted during hand-over"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Marked as spam"
    MANUAL = "manual", "Added by hand"
    ERASED = "erased", "Person erased (address kept hashed)"
