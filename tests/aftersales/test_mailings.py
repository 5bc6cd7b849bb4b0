"""Mailings through a real SMTP server: exact unsubscribe headers and links, a batch of N per
minute, personal coupons, skipped and suppressed contacts, cancelling, and the results."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from closeloop.aftersales.choices import MailingState, RecipientState
from closeloop.aftersales.coupons import coupon_redeem
from closeloop.aftersales.mailings import (
    mailing_cancel,
    mailing_create,
    mailing_recipient_send,
    mailing_start,
)
from closeloop.aftersales.mailings_selectors import mailing_results
from closeloop.aftersales.models import Coupon, Mailing, Segment
from closeloop.aftersales.unsubscribe import unsubscribe_target
from closeloop.core.exceptions import DomainError
from closeloop.messaging.choices import MessageState
from closeloop.messaging.models import EmailTemplate, Message
from closeloop.pipeline.choices import DealStatus
from tests.factories import DealFactory
from tests.mail import later
from tests.worker import run_worker

from .mailings_history import customers as customers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def workspace_defaults(transactional_db: None) -> None:
    """Transactional tests empty the database after each test; put the defaults back first."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()


TEXT = (
    "Hello {{ contact.first_name }}, your code {{ coupon.code }} takes {{ coupon.discount }} off."
)
HTML = (
    "<html><body><p>Hi {{ contact.first_name }}, code <b>{{ coupon.code }}</b>.</p></body></html>"
)


@pytest.fixture
def offer(customers, manager) -> Mailing:
    template = EmailTemplate.objects.create(
        name="Spring offer", subject="A gift for you, {{ contact.first_name }}",
        text_body=TEXT, html_body=HTML,
    )  # fmt: skip
    segment = Segment.objects.create(name="All buyers", criteria={})
    return mailing_create(
        actor=manager, name="Spring", segment=segment, template=template,
        coupon_kind="percent", coupon_value="10", coupon_valid_days=30, rate_per_minute=1,
    )  # fmt: skip


def by_recipient(server) -> dict:
    return {m["To"].addresses[0].addr_spec: m for m in server.recorder.messages()}


def test_an_offer_goes_one_a_minute_with_unsubscribe_headers_and_own_coupons(
    offer, manager, smtp_server, settings
):
    mailing_start(actor=manager, mailing=offer)
    run_worker()
    assert len(smtp_server.recorder.messages()) == 1  # the rate: one a minute
    assert offer.recipients.filter(state=RecipientState.PENDING).count() == 1
    with later(1.5):
        run_worker()
    with later(3):
        run_worker()  # nothing left: the mailing is done
    received = by_recipient(smtp_server)
    assert set(received) == {"lena@bakery.example", "sam@solo.example"}  # Lars: no consent
    codes = set()
    for address, message in received.items():
        recipient = offer.recipients.get(email=address)
        # a long header is folded onto a second line: the value itself is exact
        header = message["List-Unsubscribe"].strip()
        target = re.fullmatch(re.escape(f"<{settings.SITE_URL}/u/") + r"([^/>]+)/>", header)
        assert target, header
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        found = unsubscribe_target(target.group(1))
        assert (found.email, found.contact, found.recipient_id) == (
            address,
            recipient.contact,
            recipient.pk,
        )
        url = f"{settings.SITE_URL}/u/{target.group(1)}/"
        text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
        html = message.get_body(preferencelist=("html",)).get_content()
        assert text.endswith(f"\n\n--\nNo more emails like this: {url}")
        assert f'href="{url}"' in html
        code = recipient.coupon.code
        assert f"your code {code} takes 10 % off." in text and f"<b>{code}</b>" in html
        assert recipient.coupon.contact == recipient.contact
        assert recipient.coupon.origin == "offer"
        codes.add(code)
    assert len(codes) == 2 and Coupon.objects.count() == 2
    offer.refresh_from_db()
    assert offer.state == MailingState.SENT and offer.finished_at is not None
    lars = offer.recipients.get(email="lars@bakery.example")
    assert (lars.state, lars.reason, lars.coupon) == (
        RecipientState.SKIPPED,
        "No marketing consent.",
        None,
    )
    results = mailing_results(offer)
    assert (results.recipients, results.sent, results.skipped, results.failed) == (3, 2, 1, 0)
    assert (results.coupons, results.coupons_redeemed, results.suppressed) == (2, 0, 0)


def test_a_suppressed_contact_receives_nothing_queued_or_later(
    offer, manager, customers, smtp_server, client
):
    mailing_start(actor=manager, mailing=offer)
    # both queued in the outbox (the worker has not sent them yet) …
    for recipient in offer.recipients.filter(state=RecipientState.PENDING):
        mailing_recipient_send(mailing=offer, recipient_id=recipient.pk)
    sam = offer.recipients.get(email="sam@solo.example")
    token = re.search(r"/u/([^/]+)/", sam.message.headers["List-Unsubscribe"]).group(1)
    # … then Sam's mail program posts the one-click unsubscribe
    response = client.post(f"/u/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    run_worker()
    assert set(by_recipient(smtp_server)) == {"lena@bakery.example"}
    sam.refresh_from_db()
    assert sam.message.state == MessageState.SUPPRESSED and sam.unsubscribed_at is not None
    results = mailing_results(offer)
    assert (results.sent, results.suppressed, results.unsubscribed) == (1, 1, 1)

    # a later mailing to the same segment skips him at the start
    again = mailing_create(
        actor=manager, name="Summer", segment=offer.segment, template=offer.template,
        coupon_kind="amount", coupon_value="5", rate_per_minute=100,
    )  # fmt: skip
    customers.sam.refresh_from_db()
    assert not customers.sam.marketing_consent
    mailing_start(actor=manager, mailing=again)
    run_worker()
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.recorder.messages()] == [
        "lena@bakery.example", "lena@bakery.example"
    ]  # fmt: skip
    sam_again = again.recipients.get(email="sam@solo.example")
    assert (sam_again.state, sam_again.reason) == (
        RecipientState.SUPPRESSED,
        "The address is on the suppression list.",
    )
    assert Message.objects.filter(contact=customers.sam).count() == 1  # the stopped one


def test_cancel_stops_the_waiting_recipients(offer, manager, smtp_server):
    mailing_start(actor=manager, mailing=offer)
    run_worker()  # the first of two
    mailing_cancel(actor=manager, mailing=offer)
    with later(2):
        run_worker()
    assert len(smtp_server.recorder.messages()) == 1
    offer.refresh_from_db()
    assert offer.state == MailingState.CANCELLED
    cancelled = offer.recipients.get(
        state=RecipientState.SKIPPED, reason="The mailing was cancelled."
    )
    assert cancelled.message is None and cancelled.coupon is None
    with pytest.raises(DomainError, match="already been started"):
        mailing_start(actor=manager, mailing=offer)


def test_results_count_redemptions_and_repeat_deals_within_90_days(
    offer, manager, customers, smtp_server, rep
):
    offer.rate_per_minute = 10
    offer.save()
    mailing_start(actor=manager, mailing=offer)
    run_worker()
    lena = offer.recipients.get(email="lena@bakery.example")
    sent_at = Message.objects.get(pk=lena.message_id).sent_at
    coupon_redeem(actor=rep, code=lena.coupon.code, order_value="200", contact=customers.lena)
    for title, days, value, currency, who in (
        ("Lars buys again", 10, "300", "EUR", {"organization": customers.lena.organization}),
        ("Sam in dollars", 20, "700", "USD", {"contact": customers.sam, "organization": None}),
        ("Too late", 91, "900", "EUR", {"contact": customers.lena}),
        ("Nina, not mailed", 5, "50", "EUR", {"contact": customers.nina}),
    ):
        DealFactory(
            title=title, owner=rep, value=Decimal(value), currency=currency,
            status=DealStatus.WON, won_at=sent_at + dt.timedelta(days=days), **who,
        )  # fmt: skip
    results = mailing_results(offer)
    assert (results.coupons_redeemed, results.repeat_deals, results.other_currency_deals) == (
        1, 2, 1
    )  # fmt: skip
    assert results.repeat_revenue == Decimal("300.00") and results.currency == "EUR"


def test_an_offer_template_needs_a_coupon_and_reps_cannot_mail(offer, manager, rep):
    with pytest.raises(DomainError, match=r"shows a coupon \(\{\{ coupon.code \}\}\)"):
        mailing_create(actor=manager, name="x", segment=offer.segment, template=offer.template)
    with pytest.raises(DomainError, match="Only admins and managers"):
        mailing_start(actor=rep, mailing=offer)
    with pytest.raises(DomainError, match="percentage cannot be above 100"):
        mailing_create(
            actor=manager, name="x", segment=offer.segment, template=offer.template,
            coupon_kind="percent", coupon_value="120",
        )  # fmt: skip


def test_the_mailing_page_shows_the_results(offer, manager, manager_client, smtp_server):
    offer.rate_per_minute = 10
    offer.save()
    response = manager_client.post(f"/customers/mailings/{offer.pk}/start/")
    assert response.status_code == 302
    run_worker()
    html = manager_client.get(f"/customers/mailings/{offer.pk}/").content.decode()
    assert '<dd data-figure="sent">2</dd>' in html
    assert '<dd data-figure="skipped">1</dd>' in html
    assert '<dd data-figure="coupons_redeemed">0 of 2</dd>' in html
    assert "No marketing consent." in html
    assert timezone.now()


def test_a_mailing_whose_batch_job_was_lost_is_resumed(offer, manager, smtp_server):
    from django_tasks_db.models import DBTaskResult

    from closeloop.aftersales.mailings import mailings_resume_stalled

    mailing_start(actor=manager, mailing=offer)
    run_worker()  # the first recipient goes; the next batch job is waiting for its minute
    DBTaskResult.objects.filter(status="READY").delete()  # the worker's queue was lost
    with later(5):
        assert mailings_resume_stalled() == 0  # not ten minutes without progress yet
    with later(12):
        assert mailings_resume_stalled() == 1
        run_worker()
    assert len(smtp_server.recorder.messages()) == 2
    assert not offer.recipients.filter(state=RecipientState.PENDING).exists()
    with later(30):
        run_worker()
        assert mailings_resume_stalled() == 0
    offer.refresh_from_db()
    assert offer.state == "sent"
