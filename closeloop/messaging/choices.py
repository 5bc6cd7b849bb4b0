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


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    TEMPORARY = "temporary", "Temporary failure"
    PERMANENT = "permanent", "Permanent failure"
    HELD = "held", "Held (no mail server)"
