"""The pipelines settings page through the HTTP client: stages, their order, deletion, pipelines."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from closeloop.pipeline import services
from closeloop.pipeline.models import Deal, Pipeline, Stage
from tests.factories import DealFactory, stage_named

pytestmark = pytest.mark.django_db

PAGE = reverse("settings:pipelines")


def _stage_rows(html: str) -> list[str]:
    """The stage names in the order the stages table shows them."""
    return re.findall(r'<a href="/settings/stages/\d+/" title="Edit [^"]*">([^<]+)</a>', html)


def test_the_page_shows_the_stages_in_order_with_their_numbers(manager_client):
    DealFactory(stage=stage_named("Proposal"))
    DealFactory(stage=stage_named("Proposal"))
    response = manager_client.get(PAGE)
    assertContains(response, "<title>Sales · Pipelines · Closeloop</title>")
    html = response.content.decode()
    assert _stage_rows(html) == ["Demo / meeting", "Proposal", "Negotiation / commitment"]
    proposal_row = html[
        html.index(">Proposal</a>") : html.index("</tr>", html.index(">Proposal</a>"))
    ]
    assert "50 %" in proposal_row and ">21<" in proposal_row and ">2<" in proposal_row
    assertContains(response, "Optional")
    assertContains(response, "Move 2 deals to")


def test_choosing_another_pipeline_shows_its_stages(admin, admin_client_):
    partners = services.pipeline_create(actor=admin, name="Partners", with_default_stages=False)
    services.stage_create(actor=admin, pipeline=partners, name="Referral in")
    response = admin_client_.get(PAGE, {"pipeline": partners.pk})
    assert _stage_rows(response.content.decode()) == ["Referral in"]
    assertContains(response, "Add a stage to Partners")


def test_a_pipeline_without_stages_says_so(admin, admin_client_):
    empty = services.pipeline_create(actor=admin, name="Empty", with_default_stages=False)
    response = admin_client_.get(PAGE, {"pipeline": empty.pk})
    assertContains(response, "Empty has no stages yet")


def test_adding_a_stage(manager_client, sales):
    response = manager_client.post(
        reverse("settings:stage_create", args=[sales.pk]),
        {"name": "Contract sent", "probability": "90", "rot_days": "7"}, follow=True,
    )  # fmt: skip
    assertContains(response, "Stage “Contract sent” added to Sales.")
    assert _stage_rows(response.content.decode())[-1] == "Contract sent"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "Contract", "probability": "150"},
            "The win probability must be between 0 and 100 %.",
        ),
        (
            {"name": "Contract", "probability": "50", "rot_days": "0"},
            "Days to rot must be at least 1",
        ),
        (
            {"name": "proposal", "probability": "50"},
            "“Sales” already has a stage called “proposal”.",
        ),
        ({"name": "Contract", "probability": "lots"}, "Enter a whole number."),
    ],
)
def test_adding_a_bad_stage_shows_why(manager_client, sales, data, message):
    response = manager_client.post(reverse("settings:stage_create", args=[sales.pk]), data)
    assertContains(response, message)
    assert sales.stages.count() == 3


def test_editing_a_stage(admin_client_):
    proposal = stage_named("Proposal")
    url = reverse("settings:stage_edit", args=[proposal.pk])
    assertContains(admin_client_.get(url), "Edit “Proposal”")
    response = admin_client_.post(
        url, {"name": "Offer", "probability": "55", "rot_days": "", "is_optional": "on"},
        follow=True,
    )  # fmt: skip
    assertContains(response, "Stage “Offer” saved.")
    proposal.refresh_from_db()
    assert (proposal.name, proposal.probability, proposal.rot_days, proposal.is_optional) == (
        "Offer", 55, None, True,
    )  # fmt: skip


def test_editing_a_stage_with_bad_input_keeps_it_and_shows_why(admin_client_):
    proposal = stage_named("Proposal")
    response = admin_client_.post(
        reverse("settings:stage_edit", args=[proposal.pk]),
        {"name": "Demo / Meeting", "probability": "50", "rot_days": "21"},
    )  # fmt: skip
    assertContains(response, "already has a stage called “Demo / Meeting”")
    assertContains(response, "Edit “Proposal”")
    proposal.refresh_from_db()
    assert proposal.name == "Proposal"


@pytest.mark.parametrize(
    ("name", "direction", "order"),
    [
        ("Proposal", "up", ["Proposal", "Demo / meeting", "Negotiation / commitment"]),
        ("Proposal", "down", ["Demo / meeting", "Negotiation / commitment", "Proposal"]),
        ("Demo / meeting", "up", ["Demo / meeting", "Proposal", "Negotiation / commitment"]),
    ],
)
def test_moving_a_stage_up_or_down(manager_client, name, direction, order):
    url = reverse("settings:stage_move", args=[stage_named(name).pk])
    response = manager_client.post(url, {"direction": direction}, follow=True)
    assert _stage_rows(response.content.decode()) == order


def test_deleting_a_stage_that_holds_deals_without_a_target_is_refused(manager_client):
    proposal = stage_named("Proposal")
    DealFactory(stage=proposal)
    DealFactory(stage=proposal)
    response = manager_client.post(
        reverse("settings:stage_delete", args=[proposal.pk]), follow=True
    )
    assertContains(response, "“Proposal” still holds 2 deal(s): choose a stage to move them to.")
    assert Stage.objects.filter(pk=proposal.pk).exists()


def test_deleting_a_stage_moves_its_deals_to_the_chosen_stage(manager_client):
    proposal, negotiation = stage_named("Proposal"), stage_named("Negotiation / commitment")
    deal = DealFactory(stage=proposal)
    response = manager_client.post(
        reverse("settings:stage_delete", args=[proposal.pk]), {"move_to": negotiation.pk},
        follow=True,
    )  # fmt: skip
    assertContains(
        response, "Stage “Proposal” deleted and its 1 deal(s) moved to Negotiation / commitment."
    )
    assert _stage_rows(response.content.decode()) == ["Demo / meeting", "Negotiation / commitment"]
    assert Deal.objects.get(pk=deal.pk).stage == negotiation


def test_deleting_an_empty_stage(manager_client):
    response = manager_client.post(
        reverse("settings:stage_delete", args=[stage_named("Demo / meeting").pk]), follow=True
    )
    assertContains(response, "Stage “Demo / meeting” deleted.")


def test_the_last_stage_cannot_be_deleted(admin, admin_client_):
    tiny = services.pipeline_create(actor=admin, name="Tiny", with_default_stages=False)
    only = services.stage_create(actor=admin, pipeline=tiny, name="Only")
    response = admin_client_.post(reverse("settings:stage_delete", args=[only.pk]), follow=True)
    assertContains(response, "A pipeline needs at least one stage.")
    assert Stage.objects.filter(pk=only.pk).exists()


def test_adding_a_pipeline_shows_it_with_the_default_stages(manager_client):
    response = manager_client.post(
        reverse("settings:pipeline_create"), {"name": "Partners"}, follow=True
    )
    assertContains(response, "Pipeline “Partners” added with the default stages.")
    assertContains(response, "Add a stage to Partners")
    assert _stage_rows(response.content.decode()) == [
        "Demo / meeting", "Proposal", "Negotiation / commitment",
    ]  # fmt: skip


def test_adding_a_pipeline_with_a_taken_name_shows_why(manager_client, sales):
    response = manager_client.post(reverse("settings:pipeline_create"), {"name": "SALES"})
    assertContains(response, "There is already a pipeline called “SALES”.")
    assert Pipeline.objects.count() == 1


def test_renaming_a_pipeline_and_making_it_the_default(admin, admin_client_, sales):
    partners = services.pipeline_create(actor=admin, name="Partners")
    response = admin_client_.post(
        reverse("settings:pipeline_update", args=[partners.pk]),
        {"name": "Partner sales", "is_default": "on"}, follow=True,
    )  # fmt: skip
    assertRedirects(response, f"{reverse('settings:pipelines')}?pipeline={partners.pk}")
    assertContains(response, "Pipeline “Partner sales” saved.")
    partners.refresh_from_db()
    sales.refresh_from_db()
    assert (partners.name, partners.is_default, sales.is_default) == ("Partner sales", True, False)


def test_unticking_default_on_the_default_pipeline_shows_why(admin_client_, sales):
    response = admin_client_.post(
        reverse("settings:pipeline_update", args=[sales.pk]), {"name": "Sales"}
    )
    assertContains(response, "Make another pipeline the default instead.")
    sales.refresh_from_db()
    assert sales.is_default


def test_the_page_does_not_grow_queries_with_deals(manager_client, django_assert_max_num_queries):
    for name in ("Demo / meeting", "Proposal", "Negotiation / commitment"):
        for _ in range(5):
            DealFactory(stage=stage_named(name))
    with django_assert_max_num_queries(9):
        response = manager_client.get(PAGE)
    assertContains(response, "Move 5 deals to", count=3)
