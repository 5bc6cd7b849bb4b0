"""Webhooks go to public addresses only (unless the install allows its own network), and the
POST connects to the address that was checked."""

from __future__ import annotations

import socket

import pytest

from closeloop.core.exceptions import DomainError
from closeloop.integrations.addresses import address_is_public
from closeloop.integrations.models import WebhookDelivery
from closeloop.integrations.services import (
    webhook_delivery_attempt,
    webhook_subscription_create,
    webhook_subscription_update,
)
from closeloop.pipeline.services import deal_create

pytestmark = pytest.mark.django_db

PRIVATE_URLS = [
    "http://127.0.0.1:8000/hooks",
    "http://localhost/hooks",
    "http://10.1.2.3/hooks",
    "http://192.168.0.10:8080/hooks",
    "http://172.20.0.1/hooks",
    "http://169.254.169.254/latest/meta-data/",  # the cloud's metadata service
    "http://100.64.0.1/hooks",  # carrier-grade shared space
    "http://0.0.0.0/hooks",
    "http://[::1]/hooks",
    "http://[fd00::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",  # loopback written as IPv6
]


@pytest.fixture
def only_public(settings):  # type: ignore[no-untyped-def]
    settings.WEBHOOK_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_a_subscription_to_a_private_address_is_refused_naming_the_address(rep, only_public, url):
    with pytest.raises(DomainError) as refused:
        webhook_subscription_create(actor=rep, url=url, events=["deal.created"])
    assert refused.value.field == "url"
    assert "private or local address" in str(refused.value)
    assert "WEBHOOK_PRIVATE_ADDRESSES" in str(refused.value)


def test_public_addresses_pass_and_names_that_do_not_resolve_are_left_to_the_deliveries(
    rep, only_public
):
    assert address_is_public("93.184.215.14") and address_is_public("2606:4700::1111")
    made = webhook_subscription_create(
        actor=rep, url="https://93.184.215.14/hooks", events=["deal.created"]
    )
    assert made.url == "https://93.184.215.14/hooks"
    # .invalid never resolves (RFC 6761): nothing to refuse now, the delivery log will say why
    webhook_subscription_create(
        actor=rep, url="https://hooks.example.invalid/in", events=["deal.created"]
    )


def test_changing_a_subscription_to_a_private_address_is_refused_too(rep, only_public):
    made = webhook_subscription_create(
        actor=rep, url="https://93.184.215.14/hooks", events=["deal.created"]
    )
    with pytest.raises(DomainError, match=r"10\.0\.0\.7"):
        webhook_subscription_update(
            actor=rep, subscription=made, url="http://10.0.0.7/x", events=["deal.created"]
        )


def test_a_name_that_resolves_to_a_private_address_is_not_called(rep, receiver, settings,
                                                                  monkeypatch):  # fmt: skip
    # saved while the install allowed its own network; the rule is switched on afterwards, and a
    # name now resolving to the receiver's loopback address must not get the POST
    url = f"http://hooks.example.test:{receiver.port}/hooks"
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == "hooks.example.test" else host, *a, **k),
    )
    webhook_subscription_create(actor=rep, url=url, events=["deal.created"])
    deal_create(actor=rep, title="Quiet deal")
    delivery = WebhookDelivery.objects.get()
    settings.WEBHOOK_PRIVATE_ADDRESSES = False
    webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert receiver.received == []
    assert "hooks.example.test is 127.0.0.1, a private or local address" in delivery.last_error
    assert delivery.attempt_log.get().status_code is None


def test_the_post_goes_to_the_address_checked_with_the_name_in_the_host_header(
    rep, receiver, monkeypatch
):
    # the name resolves once (to the receiver); a second lookup would answer somewhere else
    url = f"http://hooks.example.test:{receiver.port}/hooks"
    webhook_subscription_create(actor=rep, url=url, events=["deal.created"])
    deal_create(actor=rep, title="Pinned deal")
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "hooks.example.test":
            lookups.append(host)
            host = "127.0.0.1" if len(lookups) == 1 else "192.0.2.1"  # TEST-NET: unroutable
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    delivery = WebhookDelivery.objects.get()
    webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == "delivered", delivery.last_error
    assert lookups == ["hooks.example.test"]
    assert receiver.received[0].headers["Host"] == f"hooks.example.test:{receiver.port}"
