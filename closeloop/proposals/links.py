"""The customer's link to a proposal version: signed, tied to that version, expiring."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from closeloop.core.links import absolute_url

from .models import ProposalVersion

SALT = "closeloop.proposals.public"


def link_max_age() -> int:
    """How long a sent link opens at all (seconds); acceptance also ends at the validity date."""
    return int(getattr(settings, "PROPOSAL_LINK_DAYS", 180)) * 86400


def version_token(version: ProposalVersion) -> str:
    return signing.dumps({"v": version.pk, "p": version.proposal_id}, salt=SALT, compress=True)


class LinkInvalid(Exception):
    """A link that was tampered with, or points at nothing."""


class LinkExpired(Exception):
    """A genuine link past its age."""


def version_from_token(token: str) -> ProposalVersion:
    """The version a token names; LinkInvalid or LinkExpired otherwise (the page says which,
    and nothing more)."""
    try:
        data = signing.loads(token or "", salt=SALT, max_age=link_max_age())
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    version = (
        ProposalVersion.objects.select_related("proposal__deal")
        .filter(pk=data.get("v"), proposal_id=data.get("p"))
        .first()
    )
    if version is None or version.proposal.deal.deleted_at is not None:
        raise LinkInvalid
    return version


def version_public_url(version: ProposalVersion) -> str:
    """The full address of the customer's page of this version."""
    return absolute_url(reverse("proposals_public:view", args=[version_token(version)]))
