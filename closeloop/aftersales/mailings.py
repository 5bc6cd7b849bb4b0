"""Promotional email and offers to a segment, sent through the outbox at a set rate.

Starting a mailing writes one `MailingRecipient` per contact of the segment: those with an
address, marketing consent and no suppression wait to be sent; the others are kept as skipped
or suppressed with the reason, so the page shows who did not get it and why. A batch task then
queues up to `rate_per_minute` emails and enqueues itself again a minute later until no
recipient is waiting. Each recipient is queued in its own transaction that takes it from
waiting to queued, so a retried or restarted task never mails anyone twice. Every email is a
marketing message (the outbox checks the suppression list again as it sends), carries a signed
unsubscribe link in its text and HTML and the RFC 8058 headers; an offer issues each recipient
a personal coupon in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from closeloop.accounts.actors import acting_user, require_admin_or_manager
from closeloop.core.exceptions import DomainError
from closeloop.core.money import CURRENCY_CODES, base_currency, format_money
from closeloop.messaging.consent import suppressed_among
from closeloop.messaging.html_mail import html_inline_css, html_to_text
from closeloop.messaging.merge import (
    merge_context_for,
    merge_field_names,
    merge_field_register,
    merge_render_email,
)
from closeloop.messaging.models import EmailTemplate
from closeloop.messaging.services import message_queue

from .choices import CouponKind, CouponOrigin, MailingState, RecipientState
from .coupons import coupon_issue
from .models import Mailing, MailingRecipient, Segment
from .segments import ONLY_MARKETERS, segment_contacts
from .unsubscribe import unsubscribe_headers, unsubscribe_url

MAX_RATE = 1000
BATCH_EVERY = dt.timedelta(minutes=1)

# Values filled per recipient (MergeContext.extra); outside a mailing they have none.
UNSUBSCRIBE_FIELD = "links.unsubscribe"
COUPON_FIELDS = ("coupon.code", "coupon.discount", "coupon.expires_on")
merge_field_register(
    UNSUBSCRIBE_FIELD, "Unsubscribe link (promotional email)", lambda c: None, example="https://…"
)
merge_field_register(
    "coupon.code", "Personal coupon code (offers)", lambda c: None, example="ACDE-FGHJ-KMNP"
)
merge_field_register(
    "coupon.discount", "What the coupon takes off (offers)", lambda c: None, example="10 %"
)
merge_field_register(
    "coupon.expires_on", "Last day of the coupon (offers)", lambda c: None, example="30 Jun 2026"
)


def _offer_clean(kind: str, value: Any, currency: str, valid_days: Any) -> tuple[Decimal, str]:
    """The coupon of an offer checked as `coupon_issue` will check it, before anything is sent."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise DomainError(f"'{value}' is not a number.", field="coupon_value") from None
    if not amount.is_finite() or amount <= 0:
        raise DomainError("A coupon must take something off.", field="coupon_value")
    if kind == CouponKind.PERCENT and amount > 100:
        raise DomainError("A percentage cannot be above 100.", field="coupon_value")
    currency = (currency or "").strip().upper()
    if kind == CouponKind.AMOUNT:
        currency = currency or base_currency()
        if currency not in CURRENCY_CODES:
            raise DomainError(f"'{currency}' is not a known currency.", field="coupon_currency")
    else:
        currency = ""
    if valid_days is not None and int(valid_days) < 1:
        raise DomainError("A coupon must be valid for at least a day.", field="coupon_valid_days")
    return amount, currency


def _template_fields(template: EmailTemplate) -> list[str]:
    return merge_field_names(template.subject + template.text_body + template.html_body)


@transaction.atomic
def mailing_create(
    *,
    actor: Any,
    name: str,
    segment: Segment,
    template: EmailTemplate,
    campaign: Any = None,
    coupon_kind: str = "",
    coupon_value: Any = None,
    coupon_currency: str = "",
    coupon_valid_days: int | None = None,
    rate_per_minute: int = 60,
) -> Mailing:
    """A draft mailing; with `coupon_kind` it is an offer and each recipient gets a coupon."""
    require_admin_or_manager(actor, ONLY_MARKETERS)
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("A mailing needs a name.", field="name")
    if not template.is_active:
        raise DomainError("This template is hidden; pick an offered one.", field="template")
    if not 1 <= int(rate_per_minute) <= MAX_RATE:
        raise DomainError(
            f"Send between 1 and {MAX_RATE} emails a minute.", field="rate_per_minute"
        )
    uses_coupon = [n for n in _template_fields(template) if n in COUPON_FIELDS]
    if coupon_kind:
        if coupon_kind not in CouponKind.values:
            raise DomainError(f"'{coupon_kind}' is not a kind of coupon.", field="coupon_kind")
        coupon_value, coupon_currency = _offer_clean(
            coupon_kind, coupon_value, coupon_currency, coupon_valid_days
        )
    elif uses_coupon:
        raise DomainError(
            "The template shows a coupon ({{ " + uses_coupon[0] + " }}): choose a kind of "
            "coupon for this offer, or pick another template.",
            field="coupon_kind",
        )
    return Mailing.objects.create(
        name=name[:200],
        segment=segment,
        template=template,
        campaign=campaign,
        coupon_kind=coupon_kind,
        coupon_value=coupon_value if coupon_kind else None,
        coupon_currency=coupon_currency if coupon_kind else "",
        coupon_valid_days=coupon_valid_days if coupon_kind else None,
        rate_per_minute=int(rate_per_minute),
        created_by=acting_user(actor),
    )


def _skip_reason(*, email: str, consent: bool, suppressed: set[str]) -> tuple[str, str]:
    if not email:
        return RecipientState.SKIPPED, "No email address."
    if email.lower() in suppressed:
        return RecipientState.SUPPRESSED, "The address is on the suppression list."
    if not consent:
        return RecipientState.SKIPPED, "No marketing consent."
    return RecipientState.PENDING, ""


@transaction.atomic
def mailing_start(*, actor: Any, mailing: Mailing) -> Mailing:
    """Fix the recipients from the segment as it is now and start sending in batches."""
    require_admin_or_manager(actor, ONLY_MARKETERS)
    mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
    if mailing.state != MailingState.DRAFT:
        raise DomainError("This mailing has already been started.")
    # the contacts the starter may see; one query, values only
    rows = list(
        segment_contacts(mailing.segment, user=actor).values_list(  # type: ignore[misc]
            "pk", "email", "marketing_consent"
        )
    )
    suppressed = suppressed_among([email for _, email, _ in rows if email])
    recipients = []
    for contact_id, email, consent in rows:
        state, reason = _skip_reason(email=email or "", consent=consent, suppressed=suppressed)
        recipients.append(
            MailingRecipient(
                mailing=mailing,
                contact_id=contact_id,
                email=email or "",
                state=state,
                reason=reason,
            )
        )
    MailingRecipient.objects.bulk_create(recipients, batch_size=500)
    mailing.state = MailingState.SENDING
    mailing.started_at = timezone.now()
    mailing.save(update_fields=["state", "started_at", "updated_at"])
    _enqueue_batch(mailing.pk, run_after=None)
    return mailing


@transaction.atomic
def mailing_cancel(*, actor: Any, mailing: Mailing) -> Mailing:
    """Stop a mailing: recipients still waiting are not queued (those in the outbox go)."""
    require_admin_or_manager(actor, ONLY_MARKETERS)
    mailing = Mailing.objects.select_for_update().get(pk=mailing.pk)
    if mailing.state not in (MailingState.DRAFT, MailingState.SENDING):
        raise DomainError("Only a draft or a mailing being sent can be cancelled.")
    mailing.recipients.filter(state=RecipientState.PENDING).update(
        state=RecipientState.SKIPPED, reason="The mailing was cancelled."
    )
    mailing.state = MailingState.CANCELLED
    mailing.finished_at = timezone.now()
    mailing.save(update_fields=["state", "finished_at", "updated_at"])
    return mailing


def _enqueue_batch(mailing_id: int, *, run_after: dt.datetime | None) -> None:
    from .mailing_tasks import mailing_batch_task

    def enqueue() -> None:
        task = (
            mailing_batch_task
            if run_after is None
            else mailing_batch_task.using(run_after=run_after)
        )
        task.enqueue(mailing_id=mailing_id)

    transaction.on_commit(enqueue)


def mailing_send_batch(*, mailing_id: int) -> dict[str, int]:
    """Queue up to `rate_per_minute` waiting recipients, then come back in a minute (or mark
    the mailing sent when none is left)."""
    mailing = Mailing.objects.select_related("template", "created_by").filter(pk=mailing_id).first()
    if mailing is None or mailing.state != MailingState.SENDING:
        return {"queued": 0, "left": 0}
    waiting = mailing.recipients.filter(state=RecipientState.PENDING).order_by("pk")
    ids = list(waiting.values_list("pk", flat=True)[: mailing.rate_per_minute])
    outcomes = [mailing_recipient_send(mailing=mailing, recipient_id=pk) for pk in ids]
    with transaction.atomic():
        left = waiting.count()
        if left:
            _enqueue_batch(mailing.pk, run_after=timezone.now() + BATCH_EVERY)
        else:
            Mailing.objects.filter(pk=mailing.pk, state=MailingState.SENDING).update(
                state=MailingState.SENT, finished_at=timezone.now(), updated_at=timezone.now()
            )
    return {"queued": outcomes.count(RecipientState.QUEUED), "left": left}


STALLED_AFTER = dt.timedelta(minutes=10)


def mailings_resume_stalled(*, now: dt.datetime | None = None) -> int:
    """Give a new batch job to every mailing still sending whose chain of batch jobs was lost
    (a worker died): recipients wait and nothing was queued for ten minutes. A second chain
    cannot mail anyone twice (each recipient is taken under a row lock); at worst it sends
    faster for a while. Returns how many mailings were resumed."""
    now = now or timezone.now()
    cutoff = now - STALLED_AFTER
    resumed = 0
    for mailing in Mailing.objects.filter(state=MailingState.SENDING, started_at__lt=cutoff):
        if not mailing.recipients.filter(state=RecipientState.PENDING).exists():
            continue
        last = mailing.recipients.aggregate(at=Max("message__created_at"))["at"]
        if last is None or last < cutoff:
            with transaction.atomic():
                _enqueue_batch(mailing.pk, run_after=None)
            resumed += 1
    return resumed


def _discount_words(mailing: Mailing) -> str:
    if mailing.coupon_kind == CouponKind.PERCENT:
        value = mailing.coupon_value if mailing.coupon_value is not None else Decimal("0")
        return f"{value.normalize():f} %"
    return format_money(mailing.coupon_value, mailing.coupon_currency)


def _day(moment: dt.datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


def with_unsubscribe(text: str, html: str, url: str, template: EmailTemplate) -> tuple[str, str]:
    """Add the unsubscribe line below the text and inside the HTML body of a marketing email
    (unless its template placed the link itself); every marketing email goes through here."""
    if UNSUBSCRIBE_FIELD in _template_fields(template):
        return text, html
    text = f"{text.rstrip()}\n\n--\nNo more emails like this: {url}"
    if html:
        block = (
            '<p style="font-size:12px;color:#666666">No more emails like this? '
            f'<a href="{url}">Unsubscribe</a>.</p>'
        )
        at = html.lower().rfind("</body>")
        html = f"{html[:at]}{block}{html[at:]}" if at >= 0 else html + block
    return text, html


@transaction.atomic
def mailing_recipient_send(*, mailing: Mailing, recipient_id: int) -> str:
    """Queue one recipient's email (with its coupon for an offer); at most once, ever."""
    recipient = (
        MailingRecipient.objects.select_for_update()
        .filter(pk=recipient_id, mailing=mailing, state=RecipientState.PENDING)
        .first()
    )
    if recipient is None:  # another run took it already
        return ""
    contact = recipient.contact
    if not contact.marketing_consent or contact.deleted_at is not None:
        return _finish(recipient, RecipientState.SKIPPED, "Consent withdrawn before sending.")
    if suppressed_among([recipient.email]):  # unsubscribed since the mailing started
        return _finish(
            recipient, RecipientState.SUPPRESSED, "The address is on the suppression list."
        )
    url = unsubscribe_url(email=recipient.email, contact=contact, recipient_id=recipient.pk)
    template = mailing.template
    ctx = merge_context_for(sender=mailing.created_by, contact=contact)
    ctx.extra[UNSUBSCRIBE_FIELD] = url
    try:
        with transaction.atomic():  # a refusal below leaves no coupon behind
            if mailing.coupon_kind:
                recipient.coupon = coupon_issue(
                    actor=None,
                    kind=mailing.coupon_kind,
                    value=mailing.coupon_value,
                    currency=mailing.coupon_currency,
                    valid_days=mailing.coupon_valid_days,
                    contact=contact,
                    origin=CouponOrigin.OFFER,
                    campaign=mailing.campaign,
                    description=f"Offer: {mailing.name}",
                )
                ctx.extra["coupon.code"] = recipient.coupon.code
                ctx.extra["coupon.discount"] = _discount_words(mailing)
                expires = recipient.coupon.expires_at
                ctx.extra["coupon.expires_on"] = (
                    _day(timezone.localtime(expires)) if expires else "no expiry"
                )
            rendered = merge_render_email(
                ctx,
                subject=template.subject,
                text_body=template.text_body,
                html_body=template.html_body,
            )
            html = rendered.html_body.strip()
            text = rendered.text_body.strip() or html_to_text(html)
            text, html = with_unsubscribe(text, html, url, template)
            recipient.message = message_queue(
                actor=mailing.created_by,
                to=recipient.email,
                subject=rendered.subject,
                text_body=text,
                html_body=html_inline_css(html) if html else "",
                headers=unsubscribe_headers(url),
                template=template,
                contact=contact,
                marketing=True,
            )
    except DomainError as error:
        recipient.coupon = None
        return _finish(recipient, RecipientState.FAILED, error.message)
    return _finish(recipient, RecipientState.QUEUED, "")


def _finish(recipient: MailingRecipient, state: str, reason: str) -> str:
    recipient.state, recipient.reason = state, reason[:300]
    recipient.save(update_fields=["state", "reason", "message", "coupon"])
    return state


def coupon_value_words(mailing: Mailing) -> str:
    """The offer's coupon in words ("" when the mailing has none)."""
    if not mailing.coupon_kind or mailing.coupon_value is None:
        return ""
    words = _discount_words(mailing) + " off"
    if mailing.coupon_valid_days:
        words += f", valid {mailing.coupon_valid_days} days"
    return words
