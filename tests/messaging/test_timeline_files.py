"""Files of emails on a timeline: listed under the entry, downloadable by who sees the record."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from closeloop.leads.models import Lead
from closeloop.messaging.inbound.routing import received_message_record
from closeloop.messaging.services import AttachmentIn, message_queue
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory
from tests.mailbox.mails import mail

pytestmark = pytest.mark.django_db


def _file_links(html: str) -> list[str]:
    marker = 'href="/outbox/files/'
    return ["/outbox/files/" + part.split('"', 1)[0] for part in html.split(marker)[1:]]


def test_a_received_attachment_is_offered_on_the_leads_timeline(
    rep: Any, rep_client: Client, outsider_client: Client
) -> None:
    lead = Lead.objects.create(
        first_name="Nina", last_name="Novak", email="nina@northwind-traders.com", owner=rep
    )
    received_message_record(
        raw=mail(attachments=[("floor plan.pdf", "application/pdf", b"%PDF-1.4 plan")])
    )

    page = rep_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "floor plan.pdf" in page
    [link] = _file_links(page)
    download = rep_client.get(link)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 plan"  # type: ignore[attr-defined]
    assert "attachment" in download["Content-Disposition"]
    # a rep of another team cannot see the lead, so not its files either
    assert outsider_client.get(link).status_code == 404


def test_a_sent_attachment_shows_on_the_deal_and_its_contact(
    rep: Any, rep_client: Client, outsider_client: Client, bakery_deal: Any
) -> None:
    message_queue(
        actor=rep,
        to="lena@bakery.example",
        subject="The quote",
        text_body="Attached.",
        attachments=[AttachmentIn("quote.pdf", b"%PDF-1.4 quote", "application/pdf")],
        deal=bakery_deal,
    )

    deal_page = rep_client.get(reverse("pipeline:deal_detail", args=[bakery_deal.pk]))
    contact_page = rep_client.get(reverse("people:contact_detail", args=[bakery_deal.contact_id]))
    [link] = _file_links(deal_page.content.decode())
    assert _file_links(contact_page.content.decode()) == [link]
    assert b"".join(rep_client.get(link).streaming_content) == b"%PDF-1.4 quote"  # type: ignore[attr-defined]
    assert outsider_client.get(link).status_code == 404


def test_an_unknown_file_source_is_not_found(rep_client: Client) -> None:
    assert rep_client.get("/outbox/files/other/1/").status_code == 404


def test_a_file_of_a_private_deal_is_not_offered_through_its_shared_contact(
    rep: Any, outsider: Any, rep_client: Client, outsider_client: Client
) -> None:
    # the outsider owns the organization and contact; the deal with them is the rep's own
    organization = OrganizationFactory(name="Shared Ltd", owner=outsider)
    contact = ContactFactory(first_name="Sam", organization=organization, owner=outsider)
    ContactEmailFactory(contact=contact, email="sam@shared.example")
    deal = DealFactory(title="Rep's deal", owner=rep, organization=organization, contact=contact)
    message_queue(
        actor=rep,
        to="sam@shared.example",
        subject="Private terms",
        text_body="Attached.",
        attachments=[AttachmentIn("terms.pdf", b"%PDF-1.4 terms", "application/pdf")],
        deal=deal,
    )
    [link] = _file_links(
        rep_client.get(reverse("pipeline:deal_detail", args=[deal.pk])).content.decode()
    )

    contact_page = outsider_client.get(reverse("people:contact_detail", args=[contact.pk]))
    assert contact_page.status_code == 200
    assert "terms.pdf" not in contact_page.content.decode()
    assert outsider_client.get(link).status_code == 404
