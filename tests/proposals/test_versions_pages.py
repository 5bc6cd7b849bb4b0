"""The versions of a proposal: each page shows what it said, what changed and the answers."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from closeloop.activities.models import Activity
from closeloop.core.exceptions import DomainError
from closeloop.proposals.choices import ProposalStatus, ResponseKind
from closeloop.proposals.models import Proposal, ProposalResponse
from closeloop.proposals.services import (
    LineIn,
    proposal_create,
    proposal_lines_set,
    proposal_update,
    version_freeze,
)
from closeloop.proposals.services.negotiation import version_note_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def negotiated(rep: Any, bakery_deal: Any, web_template: Any, website: Any) -> Any:
    """Sent once from the template; then hosting dropped, a discount and net 60: sent again."""
    proposal = proposal_create(actor=rep, deal=bakery_deal, template=web_template)
    first = version_freeze(actor=rep, proposal=proposal, note="First offer")
    ProposalResponse.objects.create(
        version=first, kind=ResponseKind.CHANGES_REQUESTED, comment="Too expensive <i>for us</i>"
    )
    proposal_lines_set(
        actor=rep,
        proposal=proposal,
        lines=[
            LineIn(product=website, discount_value="5"),
            LineIn(name="Training", unit_price="300"),
        ],
    )
    proposal_update(actor=rep, proposal=proposal, payment_terms="net", instalments=[], net_days=60)
    version_freeze(actor=rep, proposal=proposal, note="Customer asked for net 60")
    return proposal


def test_a_version_page_shows_what_changed(negotiated: Any, rep_client: Any):
    response = rep_client.get(reverse("proposals:version", args=[negotiated.pk, 2]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "What changed since version 1" in html
    assert "Line added: <strong>Training</strong>" in html
    assert "Line removed: <strong>Hosting</strong>" in html
    assert 'discount: <del class="diff-old">0 %</del> → <ins class="diff-new">5 %</ins>' in html
    assert 'Payment terms: <del class="diff-old">Instalments</del>' in html
    assert "Instalment removed: <strong>Deposit</strong>" in html
    assert "Customer asked for net 60" in html
    assert "Rita Rep" in html
    assert "← Version 1" in html


def test_the_first_version_shows_the_customers_answer(negotiated: Any, rep_client: Any):
    html = rep_client.get(reverse("proposals:version", args=[negotiated.pk, 1])).content.decode()
    assert "The first version sent." in html
    assert "Asked for changes" in html
    assert "Too expensive &lt;i&gt;for us&lt;/i&gt;" in html
    assert "Website build" in html and "Hosting" in html
    assert "Version 2 →" in html


def test_the_versions_list(negotiated: Any, rep_client: Any, django_assert_max_num_queries: Any):
    with django_assert_max_num_queries(25):
        response = rep_client.get(reverse("proposals:versions", args=[negotiated.pk]))
    html = response.content.decode()
    assert html.count(f'href="/proposals/{negotiated.pk}/versions/2/"') >= 1
    assert "First offer" in html and "Customer asked for net 60" in html


def test_versions_are_seen_through_the_deal(
    negotiated: Any, outsider_client: Any, manager_client: Any, rep_client: Any
):
    for name, args in (("versions", [negotiated.pk]), ("version", [negotiated.pk, 1])):
        assert outsider_client.get(reverse(f"proposals:{name}", args=args)).status_code == 404
        assert manager_client.get(reverse(f"proposals:{name}", args=args)).status_code == 200
    assert rep_client.get(reverse("proposals:version", args=[negotiated.pk, 3])).status_code == 404
    response = outsider_client.post(
        reverse("proposals:version_note", args=[negotiated.pk, 1]), {"note": "hijack"}
    )
    assert response.status_code == 404
    assert negotiated.versions.get(number=1).note == "First offer"


def test_the_note_can_be_added_afterwards_and_is_on_the_timeline(
    negotiated: Any, rep: Any, rep_client: Any
):
    url = reverse("proposals:version_note", args=[negotiated.pk, 1])
    response = rep_client.post(url, {"note": "  Customer wants a shop later  "}, follow=True)
    assert "The note on version 1 is saved." in response.content.decode()
    version = negotiated.versions.get(number=1)
    assert version.note == "Customer wants a shop later"
    entry = Activity.objects.filter(deal=negotiated.deal).order_by("-pk").first()
    assert entry.subject.startswith("Negotiation note changed on")
    assert entry.body == "Customer wants a shop later"
    # saving the same note again records nothing
    count = Activity.objects.count()
    version_note_set(actor=rep, version=version, note="Customer wants a shop later")
    assert Activity.objects.count() == count


def test_a_too_long_note_is_refused(negotiated: Any, rep: Any):
    version = negotiated.versions.get(number=2)
    with pytest.raises(DomainError) as error:
        version_note_set(actor=rep, version=version, note="x" * 5001)
    assert error.value.field == "note"
    version.refresh_from_db()
    assert version.note == "Customer asked for net 60"


def test_the_side_panel_lists_the_versions(negotiated: Any, rep_client: Any):
    html = rep_client.get(reverse("proposals:detail", args=[negotiated.pk])).content.decode()
    assert "Version 1" in html and "Version 2" in html
    assert "1 answer" in html


def test_an_accepted_proposal_needs_no_approval(negotiated: Any, rep_client: Any):
    Proposal.objects.filter(pk=negotiated.pk).update(status=ProposalStatus.ACCEPTED)
    html = rep_client.get(reverse("proposals:detail", args=[negotiated.pk])).content.decode()
    assert "The proposal is accepted; nothing more to approve." in html
    assert "Request approval" not in html
