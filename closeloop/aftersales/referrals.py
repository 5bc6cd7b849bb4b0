"""Referral links: each customer contact has one; leads that arrive through it are theirs, and
when such a lead's deal is won the customer gets a reward coupon.

The token travels from the landing page to the lead in a signed cookie (90 days) or in a `?ref=`
query parameter; the web form and booking services hand it to `referral_record_for_lead` in the
transaction that creates the lead, so a lead and its referral are written together or not at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from closeloop.accounts.selectors import workspace_settings
from closeloop.activities.services import activity_create
from closeloop.core.exceptions import DomainError
from closeloop.core.links import absolute_url
from closeloop.leads.models import Lead, Source, WebForm
from closeloop.people.models import Contact, ContactEmail
from closeloop.pipeline.models import Deal

from .choices import CouponKind, CouponOrigin
from .coupons import coupon_issue
from .models import Referral, ReferralProgram

SALT = "closeloop.aftersales.referral"
COOKIE_NAME = "closeloop_ref"
COOKIE_SALT = "closeloop.aftersales.referral.cookie"
COOKIE_MAX_AGE = dt.timedelta(days=90)
REFERRAL_SOURCE_NAME = "Referral"


def referral_token(contact: Contact) -> str:
    """The contact's referral token: signed, so it cannot be guessed or altered; it does not
    expire (a customer hands their link on for as long as they like)."""
    # a plain Signer (no timestamp): the same contact always gets the same link
    return signing.Signer(salt=SALT).sign_object({"c": contact.pk}, compress=True)


def referral_contact(token: str) -> Contact | None:
    """The contact a referral token belongs to, or None for a tampered or unknown one."""
    try:
        data = signing.Signer(salt=SALT).unsign_object(token or "")
    except signing.BadSignature:
        return None
    pk = data.get("c") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        return None
    return Contact.objects.filter(pk=pk).first()


def referral_url(contact: Contact) -> str:
    """The personal link a customer shares (it leads to the referral landing page)."""
    return absolute_url(reverse("aftersales_public:referral", args=[referral_token(contact)]))


def reward_percent() -> int:
    """The referral reward, percent off the referrer's next order (REFERRAL_REWARD_PERCENT)."""
    return int(getattr(settings, "REFERRAL_REWARD_PERCENT", 10))


def reward_days() -> int:
    """How many days a reward coupon stays valid (REFERRAL_REWARD_DAYS)."""
    return int(getattr(settings, "REFERRAL_REWARD_DAYS", 180))


# --- the programme's setting ---------------------------------------------------------------


def referral_program() -> ReferralProgram:
    """The referral settings (an unsaved default until an admin saves them)."""
    return ReferralProgram.objects.select_related("webform").filter(pk=1).first() or (
        ReferralProgram(pk=1)
    )


@transaction.atomic
def referral_program_set(*, actor: Any, webform: WebForm | None) -> ReferralProgram:
    """Choose the web form the referral landing page shows (admins and managers only)."""
    if getattr(actor, "role", None) not in ("admin", "manager") or not actor.is_active:
        raise DomainError("Only admins and managers can change the referral settings.")
    if webform is not None and not webform.is_active:
        raise DomainError(f"The web form “{webform.name}” is switched off.", field="webform")
    program = referral_program()
    program.webform = webform
    program.updated_by = actor
    program.save()
    return program


# --- leads that arrive through a link ------------------------------------------------------


def referral_source() -> Source:
    """The lead source "Referral", created the first time a referred lead arrives."""
    from closeloop.leads.services.sources import source_create

    source = Source.objects.filter(name__iexact=REFERRAL_SOURCE_NAME).first()
    if source is not None:
        return source
    try:
        with transaction.atomic():
            return source_create(actor=None, name=REFERRAL_SOURCE_NAME)
    except IntegrityError:  # two first referrals at once: the other one made it
        return Source.objects.get(name__iexact=REFERRAL_SOURCE_NAME)


@transaction.atomic
def referral_record_for_lead(*, lead: Lead | None, token: str) -> Referral | None:
    """Mark a new lead as referred by the customer whose token it arrived with: a Referral row,
    the lead's source set to "Referral" and a note on the referrer's timeline.

    Nothing happens without a lead or a valid token, for a lead already referred, or when the
    referrer sends their own link to themselves (the lead's email is one of theirs).
    """
    if lead is None or not token:
        return None
    referrer = referral_contact(token)
    if referrer is None or Referral.objects.filter(lead=lead).exists():
        return None
    if (
        lead.email
        and ContactEmail.objects.filter(contact=referrer, email__iexact=lead.email).exists()
    ):
        return None
    referral = Referral.objects.create(referrer=referrer, lead=lead)
    lead.source = referral_source()
    lead.version += 1
    lead.save(update_fields=["source", "version", "updated_at"])
    activity_create(
        actor=None,
        subject=f"Referred a new lead: {lead}",
        body=f"{lead} arrived through {referrer.full_name}'s referral link.",
        contact=referrer,
    )
    return referral


@transaction.atomic
def referral_link_deal(*, deal: Deal) -> int:
    """Link the referral of the lead a deal was qualified from to that deal (0 or 1 rows)."""
    if not deal.lead_id:
        return 0
    return Referral.objects.filter(lead_id=deal.lead_id, deal__isnull=True).update(deal=deal)


# --- the reward ----------------------------------------------------------------------------


def _thank_you_text(referrer: Contact, code: str, percent: int, until: dt.datetime) -> str:
    name = referrer.first_name or referrer.full_name
    company = workspace_settings().name
    return (
        f"Hello {name},\n\n"
        "someone you recommended us to has just become our customer. Thank you!\n\n"
        f"As a thank-you, here is a coupon for {percent}% off your next order:\n\n"
        f"    {code}\n\n"
        f"It can be used once, until {until:%d %B %Y}.\n\n"
        f"With warm regards,\n{company}\n"
    )


@transaction.atomic
def referral_reward_for_won_deal(*, actor: Any, deal: Deal) -> Referral | None:
    """When a referred deal is won, give the referrer a one-use reward coupon, email them its
    code and note it on their timeline — once per referral, however often the deal is won.

    Runs inside deal_mark_won's transaction; an email that cannot be queued (no or a bad
    address) never stops the win, it is only left out.
    """
    from closeloop.messaging.services import message_queue

    if not deal.lead_id:
        return None
    # The row lock makes "once" hold when two wins of deals from one lead race.
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("referrer")
        .filter(lead_id=deal.lead_id)
        .first()
    )
    if referral is None or referral.rewarded_at is not None:
        return None
    referrer = referral.referrer
    percent = reward_percent()
    coupon = coupon_issue(
        actor=None,
        kind=CouponKind.PERCENT,
        value=percent,
        valid_days=reward_days(),
        max_uses=1,
        max_uses_per_customer=1,
        contact=referrer,
        origin=CouponOrigin.REFERRAL,
        description=f"Referral reward for “{deal.title}”",
    )
    referral.reward = coupon
    referral.rewarded_at = timezone.now()
    referral.deal = referral.deal or deal
    referral.save(update_fields=["reward", "rewarded_at", "deal", "updated_at"])
    assert coupon.expires_at is not None
    email = referrer.primary_email
    sent = ""
    if email:
        try:
            with transaction.atomic():
                message_queue(
                    actor=None,
                    to=email,
                    subject="Thank you for recommending us",
                    text_body=_thank_you_text(referrer, coupon.code, percent, coupon.expires_at),
                    contact=referrer,
                )
            sent = f" It was emailed to {email}."
        except DomainError as error:
            sent = f" It could not be emailed: {error.message}"
    activity_create(
        actor=None,
        subject=f"Referral reward: coupon {coupon.code}",
        body=f"{percent}% off, one use, valid until {coupon.expires_at:%Y-%m-%d}, for referring "
        f"the deal “{deal.title}”, which was won.{sent}",
        contact=referrer,
    )
    return referral


def referral_deal_won(*, actor: Any, deal: Deal) -> None:
    """The deal-won handler (registered in AftersalesConfig.ready): reward a referred win."""
    referral_reward_for_won_deal(actor=actor, deal=deal)
