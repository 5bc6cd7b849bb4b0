"""The team's pages of the document: draft preview, versions, PDFs and the send form."""

from __future__ import annotations

import io
import sys
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from closeloop.core.exceptions import DomainError
from closeloop.messaging.models import Message
from closeloop.proposals.document import document_context
from closeloop.proposals.models import DiscountLimit, ProposalVersion
from closeloop.proposals.pdf import version_pdf
from closeloop.proposals.pricing import instalment_amounts
from closeloop.proposals.services import (
    LineIn,
    proposal_create,
    proposal_lines_set,
    proposal_send,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(rep: Any, bakery_deal: Any, web_template: Any) -> Any:
    return proposal_create(actor=rep, deal=bakery_deal, template=web_template)


def test_the_draft_preview_shows_the_document_built_now(rep_client: Client, proposal: Any):
    page = rep_client.get(reverse("proposal_docs:preview", args=[proposal.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Draft preview" in html and "Dear Lena, here is our offer." in html
    assert "Website build" in html and "€4,760.00" in html
    assert "14 days after acceptance" in html  # the delivery schedule
    assert "€1,428.00" in html  # the 30 % deposit of the one-off total
    assert not ProposalVersion.objects.exists()
    pdf = rep_client.get(reverse("proposal_docs:preview_pdf", args=[proposal.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_versions_show_what_was_sent_even_after_edits(
    rep: Any, rep_client: Client, proposal: Any, hosting: Any
):
    version = proposal_send(actor=rep, proposal=proposal)
    proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=hosting)])
    page = rep_client.get(reverse("proposal_docs:version", args=[proposal.pk, 1]))
    assert "Website build" in page.content.decode() and "Version 1" in page.content.decode()
    pdf = rep_client.get(reverse("proposal_docs:version_pdf", args=[proposal.pk, 1]))
    assert pdf.content == version.pdf.read()
    assert (
        rep_client.get(reverse("proposal_docs:version", args=[proposal.pk, 2])).status_code == 404
    )


def test_someone_who_cannot_see_the_deal_gets_404_everywhere(
    rep: Any, outsider_client: Client, proposal: Any
):
    proposal_send(actor=rep, proposal=proposal)
    for name, args in [
        ("preview", [proposal.pk]),
        ("preview_pdf", [proposal.pk]),
        ("version", [proposal.pk, 1]),
        ("version_pdf", [proposal.pk, 1]),
        ("send", [proposal.pk]),
    ]:
        assert outsider_client.get(reverse(f"proposal_docs:{name}", args=args)).status_code == 404
    response = outsider_client.post(reverse("proposal_docs:send", args=[proposal.pk]), {})
    assert response.status_code == 404
    assert ProposalVersion.objects.count() == 1


def test_the_send_form_sends_and_goes_back(rep_client: Client, proposal: Any, bakery_deal: Any):
    send_url = reverse("proposal_docs:send", args=[proposal.pk])
    page = rep_client.get(send_url)
    assert "Empty “To” sends to Lena Lind &lt;lena@bakery.example&gt;" in page.content.decode()
    response = rep_client.post(
        send_url, {"message": "Here it is", "note": "first", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    # an outside "next" is ignored: back to the proposal's page
    assert response["Location"] == reverse("proposals:detail", args=[proposal.pk])
    version = ProposalVersion.objects.get()
    assert version.note == "first"
    assert "Here it is" in Message.objects.get().text_body


def test_a_blocked_send_shows_why_and_disables_the_button(
    rep_client: Client, rep: Any, proposal: Any, website: Any
):
    DiscountLimit.objects.create(role="rep", max_percent=Decimal("5"))
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, discount_value="20")]
    )
    send_url = reverse("proposal_docs:send", args=[proposal.pk])
    html = rep_client.get(send_url).content.decode()
    assert "Beyond your discount limits" in html and "disabled" in html
    response = rep_client.post(send_url, {"message": ""})
    assert (
        response.status_code == 400 and "Beyond your discount limits" in response.content.decode()
    )
    assert not ProposalVersion.objects.exists()


def test_the_actions_include_renders_the_send_panel(rf: Any, rep: Any, proposal: Any):
    from django.template.loader import render_to_string

    request = rf.get("/proposals/1/")
    request.user = rep
    html = render_to_string("proposals/_actions.html", {"proposal": proposal}, request=request)
    assert "Preview" in html and 'name="message"' in html and "csrfmiddlewaretoken" in html


def test_without_pango_a_pdf_is_refused_with_a_clear_message(rep: Any, proposal: Any):
    version = proposal_send(actor=rep, proposal=proposal)
    with mock.patch.dict(sys.modules, {"weasyprint": None}):
        with pytest.raises(DomainError, match="Pango"):
            version_pdf(version)
        with pytest.raises(DomainError, match="Pango"):
            proposal_send(actor=rep, proposal=proposal)
    assert ProposalVersion.objects.count() == 1


def test_the_pdf_holds_the_lines_and_totals_of_the_snapshot(rep: Any, proposal: Any):
    version = proposal_send(actor=rep, proposal=proposal)
    reader = PdfReader(io.BytesIO(version_pdf(version)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Website build" in text and "€4,760.00" in text and "€699.72" in text


def test_instalments_add_up_to_the_total_whatever_the_rounding():
    assert instalment_amounts(
        Decimal("100.00"), [Decimal("33.33")] * 2 + [Decimal("33.34")], "EUR"
    ) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    parts = instalment_amounts(Decimal("10.00"), [Decimal("33.33"), Decimal("66.67")], "EUR")
    assert parts == [Decimal("3.33"), Decimal("6.67")] and sum(parts) == Decimal("10.00")
    assert instalment_amounts(Decimal("1000"), [Decimal("50"), Decimal("50")], "JPY") == [
        Decimal("500"),
        Decimal("500"),
    ]


def test_the_document_context_formats_net_terms(rep: Any, proposal: Any):
    from closeloop.proposals.document import draft_snapshot

    snapshot = {**draft_snapshot(proposal, actor=rep), "payment_terms": "net", "net_days": 14}
    doc = document_context(snapshot)["doc"]
    assert doc["payment"] == {"kind": "net", "net_days": 14, "instalments": []}
    assert [g["label"] for g in doc["totals"]] == ["One-off", "Monthly"]
