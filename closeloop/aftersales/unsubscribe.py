"""One-click unsubscribe for every marketing email (RFC 8058).

Each email carries a link signed for its address (and contact, and mailing recipient when it
came from a mailing): `/u/<token>/`. A POST to it unsubscribes at once: that is what mail
programs send for the `List-Unsubscribe-Post: List-Unsubscribe=One-Click` header, and the
signed token is the proof, so it needs no CSRF token. A GET only shows a page with a button,
because link scanners and previews open links without anyone asking to unsubscribe. Tokens do
not expire: an unsubscribe link must keep working as long as the mail sits in someone's inbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from closeloop.core.links import absolute_url
from closeloop.messaging.consent import email_key, email_suppressed, marketing_unsubscribe
from closeloop.people.models import Contact

from .models import MailingRecipient

SALT = "closeloop.aftersales.unsubscribe"
ONE_CLICK = "List-Unsubscribe=One-Click"


def unsubscribe_token(*, email: str, contact: Contact | None = None, recipient_id: int = 0) -> str:
    """The signed token of one address (and the contact and mailing recipient it was sent to)."""
    data: dict[str, object] = {"e": email_key(email)}
    if contact is not None:
        data["c"] = contact.pk
    if recipient_id:
        data["r"] = recipient_id
    return signing.dumps(data, salt=SALT, compress=True)


def unsubscribe_url(*, email: str, contact: Contact | None = None, recipient_id: int = 0) -> str:
    """The full address of the unsubscribe page for one recipient."""
    token = unsubscribe_token(email=email, contact=contact, recipient_id=recipient_id)
    return absolute_url(reverse("aftersales_public:unsubscribe", args=[token]))


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers that let mail programs offer their own one-click unsubscribe button."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK}


@dataclass(frozen=True)
class UnsubscribeTarget:
    """Who a valid token names."""

    email: str
    contact: Contact | None
    recipient_id: int


def unsubscribe_target(token: str) -> UnsubscribeTarget | None:
    """What a token names, or None when it was altered or made up."""
    try:
        data = signing.loads(token or "", salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not data.get("e"):
        return None
    contact = Contact.with_trashed.filter(pk=int(data["c"])).first() if data.get("c") else None
    return UnsubscribeTarget(str(data["e"]), contact, int(data.get("r") or 0))


@transaction.atomic
def unsubscribe_by_token(*, target: UnsubscribeTarget, source: str) -> None:
    """Suppress the address and withdraw the contact's consent; the mailing recipient (if any)
    records when. Doing it twice changes nothing more."""
    if not email_suppressed(target.email):
        marketing_unsubscribe(email=target.email, contact=target.contact, source=source)
    if target.recipient_id:
        MailingRecipient.objects.filter(
            pk=target.recipient_id, unsubscribed_at__isnull=True
        ).update(unsubscribed_at=timezone.now())
