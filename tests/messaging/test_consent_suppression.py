"""Consent changes are recorded, and a suppressed address gets no marketing mail — not even one
already queued before the person unsubscribed."""

from __future__ import annotations

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.messaging.choices import MessageState
from closeloop.messaging.consent import (
    email_suppressed,
    marketing_consent_set,
    marketing_unsubscribe,
    suppression_add,
)
from closeloop.messaging.models import ConsentChange, Message, SendAttempt
from closeloop.messaging.sending import message_send
from closeloop.messaging.services import message_queue
from tests.factories import ContactEmailFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lena(rep):
    contact = ContactFactory(first_name="Lena", owner=rep)
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    return contact


def test_consent_changes_are_recorded_with_when_how_and_who(rep, lena):
    marketing_consent_set(actor=rep, contact=lena, granted=True, source="phone call")
    lena.refresh_from_db()
    assert lena.marketing_consent and lena.consent_method == "phone call"
    change = ConsentChange.objects.get()
    assert (change.granted, change.email, change.actor, change.source) == (
        True,
        "lena@bakery.example",
        rep,
        "phone call",
    )
    with pytest.raises(DomainError) as error:
        marketing_consent_set(actor=rep, contact=lena, granted=False, source=" ")
    assert error.value.field == "source"


def test_unsubscribing_withdraws_consent_and_suppresses(lena):
    marketing_consent_set(actor=None, contact=lena, granted=True, source="web form")
    marketing_unsubscribe(email="Lena@Bakery.example", contact=lena, source="unsubscribe link")
    lena.refresh_from_db()
    assert not lena.marketing_consent
    assert email_suppressed("lena@bakery.example")
    assert [c.granted for c in ConsentChange.objects.order_by("at", "pk")] == [True, False]
    # asking to be mailed again lifts an unsubscribe (not a bounce)
    marketing_consent_set(actor=None, contact=lena, granted=True, source="asked at the fair")
    assert not email_suppressed("lena@bakery.example")
    suppression_add(email="lena@bakery.example", reason="bounced")
    marketing_consent_set(actor=None, contact=lena, granted=True, source="asked again")
    assert email_suppressed("lena@bakery.example")


def test_marketing_mail_to_a_suppressed_address_is_refused_when_queued(rep):
    suppression_add(email="gone@example.com", reason="unsubscribed")
    with pytest.raises(DomainError, match=r"gone@example\.com asked for no marketing email"):
        message_queue(
            actor=rep, to="Gone <GONE@example.com>", subject="Offer", text_body="Hi",
            marketing=True,
        )  # fmt: skip
    # a service email to the same address still goes
    assert message_queue(actor=rep, to="gone@example.com", subject="Invoice", text_body="Hi")


def test_a_queued_marketing_message_is_stopped_when_sending(rep, settings):
    settings.EMAIL_URL = "smtp://127.0.0.1:1"  # never reached: the check comes first
    message = message_queue(
        actor=rep, to="later@example.com", subject="Offer", text_body="Hi", marketing=True
    )
    suppression_add(email="later@example.com", reason="unsubscribed")
    assert message_send(message_id=message.pk) == MessageState.SUPPRESSED
    message.refresh_from_db()
    assert "later@example.com asked for no marketing email" in message.last_error
    assert not SendAttempt.objects.filter(message=message).exists()
    assert Message.objects.get(pk=message.pk).state == MessageState.SUPPRESSED
