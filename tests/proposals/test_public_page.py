"""The customer's side: the signed link opens the version; accept, decline, ask for changes;
every edge case gets a clear page and changes nothing."""

from __future__ import annotations

import datetime as dt
import re
import time
from decimal import Decimal
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.models import Activity, Notification
from closeloop.pipeline.choices import DealStatus
from closeloop.proposals.choices import ProposalStatus, ResponseKind
from closeloop.proposals.links import version_from_token, version_token
from closeloop.proposals.models import Material, ProposalResponse, ProposalVersion
from closeloop.proposals.services import (
    LineIn,
    proposal_create,
    proposal_lines_set,
    proposal_send,
    proposal_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(rep: Any, bakery_deal: Any, web_template: Any) -> ProposalVersion:
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    return proposal_send(actor=rep, proposal=proposal)


def url(version: ProposalVersion, name: str = "view", *args: Any) -> str:
    return reverse(f"proposals_public:{name}", args=[version_token(version), *args])


def accept(client: Client, version: ProposalVersion, **data: Any) -> Any:
    data = {"name": "Lena Lind", "consent": "on", **data}
    return client.post(
        url(version, "accept"), data, REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT="Firefox/140"
    )


def test_the_link_opens_the_version_with_its_pdf_and_no_login(client: Client, sent: Any):
    page = client.get(url(sent))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Website build" in html and "€4,760.00" in html
    assert "Accept proposal" in html and "Version 1" in html
    pdf = client.get(url(sent, "pdf"))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment")
    assert pdf.content == sent.pdf.read()


def test_accepting_records_who_when_where_and_which_version(
    client: Client, sent: Any, rep: Any, bakery_deal: Any
):
    response = accept(client, sent)
    assert response.status_code == 302
    answer = ProposalResponse.objects.get()
    assert answer.version == sent and answer.kind == ResponseKind.ACCEPTED
    assert answer.name == "Lena Lind" and answer.consent
    assert answer.ip_address == "203.0.113.7" and answer.user_agent == "Firefox/140"
    assert abs(answer.created_at - timezone.now()) < dt.timedelta(minutes=1)
    sent.proposal.refresh_from_db()
    assert sent.proposal.status == ProposalStatus.ACCEPTED
    assert Activity.objects.filter(
        deal=bakery_deal, subject__startswith="Proposal v1 accepted by Lena Lind"
    ).exists()
    note = Notification.objects.get(recipient=rep)
    assert "Lena Lind accepted" in note.title
    page = client.get(response["Location"]).content.decode()
    assert "Accepted by Lena Lind" in page and "Accept proposal" not in page
    bakery_deal.refresh_from_db()
    assert bakery_deal.status == DealStatus.OPEN  # the pipeline does not win on acceptance


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": " "}, "Type your full name"),
        ({"consent": ""}, "Tick the box"),
    ],
)
def test_accepting_needs_the_name_and_the_consent(client: Client, sent: Any, data, message):
    response = accept(client, sent, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProposalResponse.objects.exists()


def test_decline_with_a_reason_and_ask_for_changes(client: Client, sent: Any, rep: Any):
    response = client.post(url(sent, "changes"), {"comment": "Net 60, please"})
    assert response.status_code == 302
    sent.proposal.refresh_from_db()
    assert sent.proposal.status == ProposalStatus.CHANGES_REQUESTED
    assert "You asked for changes" in client.get(url(sent)).content.decode()

    assert client.post(url(sent, "decline"), {"reason": ""}).status_code == 400
    response = client.post(url(sent, "decline"), {"reason": "Too expensive"})
    assert response.status_code == 302
    sent.proposal.refresh_from_db()
    assert sent.proposal.status == ProposalStatus.DECLINED
    kinds = list(ProposalResponse.objects.values_list("kind", "comment"))
    assert kinds == [("changes", "Net 60, please"), ("declined", "Too expensive")]
    assert Notification.objects.filter(recipient=rep).count() == 2
    assert Activity.objects.filter(subject__startswith="Proposal v1 declined").exists()
    # a declined proposal takes no acceptance
    assert accept(client, sent).status_code == 409


def test_an_older_version_points_to_the_newer_one_and_changes_nothing(
    client: Client, sent: Any, rep: Any, website: Any
):
    proposal = sent.proposal
    proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=website)])
    newer = proposal_send(actor=rep, proposal=proposal)
    page = client.get(url(sent)).content.decode()
    assert "A newer version of this proposal exists" in page and "Accept proposal" not in page

    response = accept(client, sent)
    assert response.status_code == 409
    html = response.content.decode()
    assert "A newer version exists" in html
    newer_link = re.search(r'href="([^"]+)">Open the newest version', html).group(1)  # type: ignore[union-attr]
    path = urlsplit(newer_link).path
    assert version_from_token(path.split("/")[2]) == newer
    opened = client.get(path)
    assert opened.status_code == 200 and "Version 2" in opened.content.decode()
    assert not ProposalResponse.objects.exists()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.SENT


def test_accepting_twice_gives_one_acceptance(client: Client, sent: Any):
    assert accept(client, sent).status_code == 302
    second = accept(client, sent, name="Someone Else")
    assert second.status_code == 409
    assert "already accepted" in second.content.decode()
    assert ProposalResponse.objects.count() == 1


def test_after_the_validity_date_it_cannot_be_accepted(client: Client, sent: Any):
    ProposalVersion.objects.filter(pk=sent.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    assert "can no longer be accepted" in client.get(url(sent)).content.decode()
    response = accept(client, sent)
    assert response.status_code == 409 and "was valid until" in response.content.decode()
    assert not ProposalResponse.objects.exists()


def test_a_tampered_link_is_404_and_an_old_one_410_revealing_nothing(client: Client, sent: Any):
    token = version_token(sent)
    tampered = client.get(f"/p/{token[:-2]}xx/")
    assert tampered.status_code == 404
    assert "not valid" in tampered.content.decode()
    assert "Website" not in tampered.content.decode()
    forged = client.post(f"/p/{token[:-2]}xx/accept", {"name": "X Y", "consent": "on"})
    assert forged.status_code == 404
    later = time.time() + 181 * 86400
    with mock.patch("django.core.signing.time.time", return_value=later):
        expired = client.get(f"/p/{token}/")
        assert expired.status_code == 410
        assert "expired" in expired.content.decode()
        assert "Website" not in expired.content.decode()
        gone = client.post(f"/p/{token}/accept", {"name": "Lena Lind", "consent": "on"})
        assert gone.status_code == 410
    assert not ProposalResponse.objects.exists()


def test_a_link_to_a_trashed_deal_opens_nothing(client: Client, sent: Any, bakery_deal: Any):
    bakery_deal.deleted_at = timezone.now()
    bakery_deal.save()
    assert client.get(url(sent)).status_code == 404


def test_acceptance_wins_the_deal_at_the_one_off_total_when_the_pipeline_says_so(
    client: Client, sent: Any, bakery_deal: Any
):
    pipeline = bakery_deal.pipeline
    pipeline.win_on_acceptance = True
    pipeline.save()
    accept(client, sent)
    bakery_deal.refresh_from_db()
    assert bakery_deal.status == DealStatus.WON
    assert bakery_deal.value == Decimal("4760.00")
    entry = Activity.objects.get(subject__startswith="Proposal v1 accepted")
    assert "won automatically" in entry.body and "€4,760.00" in entry.body


def test_customer_text_and_proposal_text_are_escaped(
    client: Client, rep: Any, bakery_deal: Any, website: Any
):
    proposal = proposal_create(actor=rep, deal=bakery_deal, title="<script>alert(1)</script>")
    proposal_lines_set(
        actor=rep,
        proposal=proposal,
        lines=[LineIn(product=website, name="<img src=x onerror=alert(2)>")],
    )
    proposal_update(actor=rep, proposal=proposal, terms_conditions="<b>bold</b>")
    version = proposal_send(actor=rep, proposal=proposal)
    html = client.get(url(version)).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert "<img src=x" not in html and "<b>bold</b>" not in html
    response = client.post(url(version, "changes"), {"comment": ""})
    assert response.status_code == 400
    response = accept(client, version, name="<i>Lena</i>", consent="")
    assert "<i>Lena</i>" not in response.content.decode()


def test_answers_are_rate_limited_per_address(client: Client, sent: Any, settings: Any):
    settings.PROPOSAL_RATE_PER_IP = 2
    for _ in range(2):
        assert accept(client, sent, name="").status_code == 400
    limited = accept(client, sent)
    assert limited.status_code == 429 and "Too many answers" in limited.content.decode()
    assert int(limited["Retry-After"]) > 0
    assert not ProposalResponse.objects.exists()


def test_the_forms_need_the_csrf_token(sent: Any):
    strict = Client(enforce_csrf_checks=True)
    assert strict.get(url(sent)).status_code == 200
    assert accept(strict, sent).status_code == 403
    assert not ProposalResponse.objects.exists()


def test_only_the_versions_materials_download_and_only_as_attachments(
    client: Client, rep: Any, bakery_deal: Any, website: Any
):
    listed = Material(filename="spec.html", content_type="text/html", size=10, uploaded_by=rep)
    listed.file.save("spec.html", ContentFile(b"<script>x</script>"), save=True)
    other = Material(filename="secret.pdf", content_type="application/pdf", size=4)
    other.file.save("secret.pdf", ContentFile(b"%PDF"), save=True)
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    proposal_lines_set(actor=rep, proposal=proposal, lines=[LineIn(product=website)])
    proposal.materials.set([listed])
    version = proposal_send(actor=rep, proposal=proposal)

    page = client.get(url(version)).content.decode()
    assert "spec.html" in page and "secret.pdf" not in page
    download = client.get(url(version, "material", listed.pk))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert client.get(url(version, "material", other.pk)).status_code == 404


def test_an_answer_without_a_client_address_is_still_recorded(client: Client, sent: Any):
    response = client.post(
        url(sent, "accept"), {"name": "Lena Lind", "consent": "on"}, REMOTE_ADDR=""
    )
    assert response.status_code == 302
    assert ProposalResponse.objects.get().ip_address is None


def test_the_page_reads_a_fixed_number_of_queries(
    client: Client, sent: Any, rep: Any, django_assert_max_num_queries: Any
):
    for _ in range(3):
        proposal_send(actor=rep, proposal=sent.proposal)
    with django_assert_max_num_queries(6):
        assert client.get(url(sent)).status_code == 200
