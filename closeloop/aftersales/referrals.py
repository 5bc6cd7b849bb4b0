"""Referral links: each customer contact has one; leads that arrive through it are theirs."""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

from closeloop.core.links import absolute_url
from closeloop.people.models import Contact

SALT = "closeloop.aftersales.referral"


def referral_token(contact: Contact) -> str:
    """The contact's referral token: signed, so it cannot be guessed or altered; it does not
    expire (a customer hands their link on for as long as they like)."""
    return signing.dumps({"c": contact.pk}, salt=SALT, compress=True)


def referral_contact(token: str) -> Contact | None:
    """The contact a referral token belongs to, or None for a tampered or unknown one."""
    try:
        data = signing.loads(token or "", salt=SALT)
    except signing.BadSignature:
        return None
    return Contact.objects.filter(pk=data.get("c")).first()


def referral_url(contact: Contact) -> str:
    """The personal link a customer shares (it leads to the referral landing page)."""
    return absolute_url(reverse("aftersales_public:referral", args=[referral_token(contact)]))
