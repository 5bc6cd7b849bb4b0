"""Discount approval: limits per role and floor prices; ask, decide, and sending waits for it."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from closeloop.activities.models import Activity, Notification
from closeloop.core.exceptions import DomainError
from closeloop.proposals.choices import ApprovalState
from closeloop.proposals.models import DiscountApproval
from closeloop.proposals.services import (
    LineIn,
    approval_decide,
    approval_request,
    discount_limit_set,
    proposal_create,
    proposal_lines_set,
    proposal_update,
    send_blocker,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(admin: Any) -> None:
    discount_limit_set(actor=admin, role="rep", max_percent="10")
    discount_limit_set(actor=admin, role="manager", max_percent="25")


@pytest.fixture
def generous(rep: Any, bakery_deal: Any, website: Any, limits: None) -> Any:
    """Rita's proposal with 15 % off the website: beyond a rep's 10 %."""
    proposal = proposal_create(actor=rep, deal=bakery_deal, title="Website offer")
    return proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, discount_value="15")]
    )


def _side(client: Any, proposal: Any) -> str:
    response = client.get(reverse("proposals:versions", args=[proposal.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_within_the_limit_needs_nothing(rep: Any, bakery_deal: Any, website: Any, limits: None):
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, discount_value="10")]
    )
    assert send_blocker(proposal, actor=rep) is None
    with pytest.raises(DomainError, match="needs no approval"):
        approval_request(actor=rep, proposal=proposal, reason="Just in case")


def test_limits_are_per_role(generous: Any, rep: Any, manager: Any):
    assert "Beyond your discount limits" in send_blocker(generous, actor=rep)
    # the manager may give up to 25 %: the same proposal is theirs to send
    assert send_blocker(generous, actor=manager) is None


def test_the_floor_price_needs_approval_whatever_the_role(
    rep: Any, admin: Any, bakery_deal: Any, website: Any
):
    proposal = proposal_create(actor=rep, deal=bakery_deal)
    proposal_lines_set(
        actor=rep, proposal=proposal, lines=[LineIn(product=website, unit_price="3000")]
    )
    assert "below the floor price 3200" in send_blocker(proposal, actor=admin)


def test_request_then_approve_lets_it_be_sent(generous: Any, rep: Any, manager: Any):
    with pytest.raises(DomainError) as error:
        approval_request(actor=rep, proposal=generous, reason="  ")
    assert error.value.field == "reason"
    approval = approval_request(actor=rep, proposal=generous, reason="Three-year customer")
    assert send_blocker(generous, actor=rep) == (
        "This proposal is waiting for a manager's approval of its discounts."
    )
    assert Notification.objects.filter(recipient=manager, kind="discount_approval").exists()
    with pytest.raises(DomainError, match="already waiting"):
        approval_request(actor=rep, proposal=generous, reason="Again")

    approval_decide(actor=manager, approval=approval, approve=True, note="OK this once")
    approval.refresh_from_db()
    assert approval.state == ApprovalState.APPROVED and approval.decided_by == manager
    assert send_blocker(generous, actor=rep) is None
    assert Notification.objects.filter(recipient=rep, kind="discount_decided").exists()
    subjects = set(Activity.objects.filter(deal=generous.deal).values_list("subject", flat=True))
    assert {
        "Discount approval requested: Website offer",
        "Discount approved: Website offer",
    } <= subjects


def test_a_rejection_blocks_until_the_proposal_changes(generous: Any, rep: Any, manager: Any):
    approval = approval_request(actor=rep, proposal=generous, reason="Please")
    approval_decide(actor=manager, approval=approval, approve=False, note="Too much")
    assert "rejected" in send_blocker(generous, actor=rep)
    with pytest.raises(DomainError, match="already rejected"):
        approval_decide(actor=manager, approval=approval, approve=True)


def test_changing_the_lines_outdates_the_request(
    generous: Any, rep: Any, manager: Any, website: Any
):
    approval = approval_request(actor=rep, proposal=generous, reason="Please")
    proposal_lines_set(
        actor=rep, proposal=generous, lines=[LineIn(product=website, discount_value="18")]
    )
    approval.refresh_from_db()
    assert approval.state == ApprovalState.OUTDATED
    with pytest.raises(DomainError, match="already outdated"):
        approval_decide(actor=manager, approval=approval, approve=True)
    assert "Beyond your discount limits" in send_blocker(generous, actor=rep)


def test_an_approval_does_not_survive_a_change_of_terms(generous: Any, rep: Any, manager: Any):
    approval = approval_request(actor=rep, proposal=generous, reason="Please")
    approval_decide(actor=manager, approval=approval, approve=True)
    proposal_update(actor=rep, proposal=generous, net_days=90)
    assert "Beyond your discount limits" in send_blocker(generous, actor=rep)


def test_who_may_decide(
    generous: Any, rep: Any, teammate: Any, admin: Any, other_team: Any, bakery_deal: Any
):
    approval = approval_request(actor=rep, proposal=generous, reason="Please")
    other_manager = UserFactory(role="manager", teams=[other_team])
    for user in (rep, teammate, other_manager):
        with pytest.raises(DomainError, match="Only a manager of the owner's team"):
            approval_decide(actor=user, approval=approval, approve=True)
    approval_decide(actor=admin, approval=approval, approve=True)


def test_nobody_approves_their_own_request(
    manager: Any, bakery_deal: Any, website: Any, limits: None
):
    bakery_deal.owner = manager
    bakery_deal.save()
    proposal = proposal_create(actor=manager, deal=bakery_deal)
    proposal_lines_set(
        actor=manager, proposal=proposal, lines=[LineIn(product=website, discount_value="30")]
    )
    approval = approval_request(actor=manager, proposal=proposal, reason="Big customer")
    with pytest.raises(DomainError, match="your own request"):
        approval_decide(actor=manager, approval=approval, approve=True)


# --- the pages ---------------------------------------------------------------------------


def test_the_side_panel_shows_problems_and_asks_for_approval(
    generous: Any, rep_client: Any, rep: Any
):
    html = _side(rep_client, generous)
    assert "15.0 % discount, above the 10 % you may give" in html
    assert "Request approval" in html
    url = reverse("proposals:approval_request", args=[generous.pk])
    response = rep_client.post(url, {"reason": "Loyal <b>customer</b>"})
    assert response.status_code == 302
    assert response["Location"] == reverse("proposals:detail", args=[generous.pk])
    approval = DiscountApproval.objects.get(proposal=generous)
    assert approval.reason == "Loyal <b>customer</b>"
    html = _side(rep_client, generous)
    assert "waiting for a manager" in html and "Request approval" not in html
    assert "Loyal &lt;b&gt;customer&lt;/b&gt;" in html
    # the rep cannot decide it: no buttons
    assert 'value="approve"' not in html


def test_an_empty_reason_is_refused_with_a_message(generous: Any, rep_client: Any):
    url = reverse("proposals:approval_request", args=[generous.pk])
    response = rep_client.post(url, {"reason": ""}, follow=True)
    assert "Say why this discount is needed." in response.content.decode()
    assert not DiscountApproval.objects.exists()


def test_a_manager_decides_from_the_inbox(
    generous: Any, rep: Any, manager_client: Any, django_assert_max_num_queries: Any
):
    approval = approval_request(actor=rep, proposal=generous, reason="Three-year customer")
    inbox = reverse("proposals:approvals")
    with django_assert_max_num_queries(12):
        html = manager_client.get(inbox).content.decode()
    assert "Website offer" in html and "Three-year customer" in html
    assert 'value="approve"' in _side(manager_client, generous)
    response = manager_client.post(
        reverse("proposals:approval_decide", args=[approval.pk]),
        {"decision": "reject", "note": "Ten percent at most", "next": inbox},
    )
    assert response["Location"] == inbox
    approval.refresh_from_db()
    assert approval.state == ApprovalState.REJECTED
    assert approval.decision_note == "Ten percent at most"
    assert "Nothing waits for your approval" in manager_client.get(inbox).content.decode()
    assert "Ten percent at most" in _side(manager_client, generous)


def test_the_inbox_query_count_does_not_grow(
    generous: Any,
    rep: Any,
    manager_client: Any,
    bakery_deal: Any,
    website: Any,
    django_assert_max_num_queries: Any,
):
    approval_request(actor=rep, proposal=generous, reason="One")
    for n in range(4):
        other = proposal_create(actor=rep, deal=bakery_deal, title=f"Offer {n}")
        proposal_lines_set(
            actor=rep, proposal=other, lines=[LineIn(product=website, discount_value="12")]
        )
        approval_request(actor=rep, proposal=other, reason=f"Reason {n}")
    with django_assert_max_num_queries(12):
        html = manager_client.get(reverse("proposals:approvals")).content.decode()
    assert html.count("“Reason ") == 4


def test_the_inbox_shows_only_what_one_may_decide(
    generous: Any, rep: Any, rep_client: Any, client_for: Any, other_team: Any, admin_client_: Any
):
    approval_request(actor=rep, proposal=generous, reason="Three-year customer")
    other_manager = UserFactory(role="manager", teams=[other_team])
    inbox = reverse("proposals:approvals")
    assert "Website offer" not in client_for(other_manager).get(inbox).content.decode()
    assert "Website offer" not in rep_client.get(inbox).content.decode()
    assert "Website offer" in admin_client_.get(inbox).content.decode()


def test_invisible_proposals_and_requests_are_404(generous: Any, rep: Any, outsider_client: Any):
    approval = approval_request(actor=rep, proposal=generous, reason="Please")
    assert outsider_client.get(reverse("proposals:versions", args=[generous.pk])).status_code == 404
    response = outsider_client.post(
        reverse("proposals:approval_request", args=[generous.pk]), {"reason": "x"}
    )
    assert response.status_code == 404
    response = outsider_client.post(
        reverse("proposals:approval_decide", args=[approval.pk]), {"decision": "approve"}
    )
    assert response.status_code == 404
    approval.refresh_from_db()
    assert approval.state == ApprovalState.PENDING


def test_an_unsafe_next_goes_back_to_the_proposal(generous: Any, rep_client: Any):
    response = rep_client.post(
        reverse("proposals:approval_request", args=[generous.pk]),
        {"reason": "Please", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("proposals:detail", args=[generous.pk])
