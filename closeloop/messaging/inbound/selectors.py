"""Reads for the mailbox status page."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from closeloop.core.exceptions import DomainError

from .config import MailboxConfig, mailbox_address, mailbox_config_parse
from .models import MailboxPoll, MailboxState, ReceivedMessage


@dataclass
class MailboxStatus:
    """Whether the mailbox is configured (and how), its health and its recent polls."""

    configured: bool
    config: MailboxConfig | None
    config_error: str
    address: str
    poll_minutes: int
    state: MailboxState | None
    polls: list[MailboxPoll] = field(default_factory=list)
    recent: list[ReceivedMessage] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        """The last poll failed (or the configuration cannot work)."""
        if self.config_error:
            return True
        return bool(self.polls and not self.polls[0].ok)


def mailbox_status(*, polls: int = 10, recent: int = 20) -> MailboxStatus:
    """The mailbox page's figures; the password in IMAP_URL is never part of them."""
    config, config_error = None, ""
    if settings.IMAP_URL:
        try:
            config = mailbox_config_parse(settings.IMAP_URL)
        except DomainError as exc:
            config_error = exc.message
    return MailboxStatus(
        configured=bool(settings.IMAP_URL),
        config=config,
        config_error=config_error,
        address=mailbox_address(),
        poll_minutes=settings.IMAP_POLL_MINUTES,
        state=MailboxState.objects.filter(pk=1).first(),
        polls=list(MailboxPoll.objects.all()[:polls]),
        recent=list(
            ReceivedMessage.objects.select_related("lead", "contact", "deal", "reply_to")[:recent]
        ),
    )
