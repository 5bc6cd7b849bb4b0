"""Follow-up plan pages: settings for admins and managers, plans on the customer's pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from closeloop.aftersales.models import FollowUpPlan, PlanStepTemplate, PlanTemplate
from closeloop.aftersales.plans import StepInput, plan_step_template_add, plan_template_create
from closeloop.aftersales.plans_selectors import plans_of
from closeloop.core.exceptions import DomainError
from closeloop.pipeline.services import deal_mark_won
from tests.factories import default_pipeline

from .plan_setup import at, email_templates, welcome_plan

pytestmark = pytest.mark.django_db


def test_a_rep_cannot_set_up_plans(rep, rep_client):
    assert rep_client.get(reverse("settings:plans:list")).status_code == 403
    response = rep_client.post(reverse("settings:plans:create"), {"name": "Mine"})
    assert response.status_code == 403
    with pytest.raises(DomainError, match="Only admins and managers"):
        plan_template_create(actor=rep, name="Mine", pipeline=default_pipeline())
    assert PlanTemplate.objects.count() == 0


def test_a_manager_builds_a_plan_with_steps_reorders_and_switches_it_off(manager_client):
    thanks, _ = email_templates()
    response = manager_client.post(
        reverse("settings:plans:create"),
        {"name": "Welcome", "pipeline": default_pipeline().pk, "description": "After a sale"},
    )
    template = PlanTemplate.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "settings:plans:edit", args=[template.pk]
    )
    add = reverse("settings:plans:step_add", args=[template.pk])
    manager_client.post(add, {"kind": "task", "title": "Call", "offset_days": 1, "anchor": "won"})
    manager_client.post(
        add,
        {
            "kind": "email",
            "title": "Thanks",
            "offset_days": 0,
            "anchor": "won",
            "email_template": thanks.pk,
        },
    )
    steps = list(template.steps.values_list("title", "position"))
    assert steps == [("Call", 1), ("Thanks", 2)]
    thanks_step = template.steps.get(title="Thanks")
    manager_client.post(
        reverse("settings:plans:step_move", args=[thanks_step.pk]), {"direction": "up"}
    )
    assert list(template.steps.order_by("position").values_list("title", flat=True)) == [
        "Thanks",
        "Call",
    ]
    page = manager_client.get(reverse("settings:plans:edit", args=[template.pk])).content.decode()
    assert "Thanks" in page and "email “Thanks”" in page and "1 day after the win" in page
    manager_client.post(
        reverse("settings:plans:toggle", args=[template.pk]), {"is_active": "false"}
    )
    template.refresh_from_db()
    assert template.is_active is False
    listing = manager_client.get(reverse("settings:plans:list")).content.decode()
    assert (
        "Welcome" in listing
        and "Off" in listing
        and "Thanks → Call" in listing.replace(' <small class="muted">(day 0)</small>', "")
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "email"}, "email_template", "Choose the email template to send."),
        ({"kind": "survey"}, "survey", "Choose the survey to send."),
        ({"kind": "coupon"}, "coupon_kind", "Choose percent or amount off for the coupon."),
        (
            {"kind": "coupon", "coupon_kind": "percent", "coupon_value": "120"},
            "coupon_value",
            "A percentage cannot be above 100.",
        ),
        ({"kind": "task", "offset_days": -1}, "offset_days", "A step cannot come before the win."),
        ({"kind": "task", "title": "  "}, "title", "Give the step a title (the task's subject)."),
    ],
)
def test_step_refusals_name_their_field(admin, data, field, message):
    template = plan_template_create(actor=admin, name="P", pipeline=default_pipeline())
    step = StepInput(**{"title": "Step", **data})
    with pytest.raises(DomainError) as error:
        plan_step_template_add(actor=admin, template=template, step=step)
    assert (error.value.field, error.value.message) == (field, message)


def test_a_plan_belongs_to_a_pipeline_or_a_product_and_has_a_unique_name(admin):
    with pytest.raises(DomainError) as error:
        plan_template_create(actor=admin, name="P")
    assert error.value.field == "pipeline"
    plan_template_create(actor=admin, name="P", pipeline=default_pipeline())
    with pytest.raises(DomainError, match="There is already a plan called “p”") as taken:
        plan_template_create(actor=admin, name="p", pipeline=default_pipeline())
    assert taken.value.field == "name"


def test_a_form_error_shows_on_its_field(admin_client_):
    template = plan_template_create(actor=None, name="P", pipeline=default_pipeline())
    response = admin_client_.post(
        reverse("settings:plans:step_add", args=[template.pk]),
        {"kind": "offer", "title": "Offer", "offset_days": 3, "anchor": "won"},
    )
    assert response.status_code == 200
    assert "Choose the email template to send." in response.content.decode()
    assert PlanStepTemplate.objects.count() == 0


def test_removing_a_step_cancels_its_waiting_copies(admin, rep, bakery_deal, admin_client_):
    welcome_plan(admin)
    deal_mark_won(actor=rep, deal=bakery_deal)
    coupon_step = PlanStepTemplate.objects.get(title="Loyalty coupon")
    admin_client_.post(reverse("settings:plans:step_delete", args=[coupon_step.pk]))
    plan = FollowUpPlan.objects.get()
    assert plan.steps.get(title="Loyalty coupon").state == "cancelled"
    assert list(
        PlanStepTemplate.objects.order_by("position").values_list("position", flat=True)
    ) == [
        1,
        2,
        3,
        4,
    ]


@pytest.fixture
def won(admin, rep, bakery_deal):  # type: ignore[no-untyped-def]
    welcome_plan(admin)
    with at(0):
        deal_mark_won(actor=rep, deal=bakery_deal)
    return FollowUpPlan.objects.get()


def test_plans_show_on_the_deal_organization_and_contact_pages(won, rep_client, bakery_deal):
    for url in (
        reverse("pipeline:deal_detail", args=[bakery_deal.pk]),
        reverse("people:organization_detail", args=[bakery_deal.organization_id]),
        reverse("people:contact_detail", args=[bakery_deal.contact_id]),
    ):
        page = rep_client.get(url).content.decode()
        assert 'id="follow-up-plans"' in page, url
        assert "Call to say thanks" in page and "Come-back offer" in page
        assert "2 days after the delivery, once its date is set" in page
        assert page.count('aria-label="Skip ') == 5
        assert "csrfmiddlewaretoken" in page


def test_plans_follow_the_deals_visibility(won, rep, teammate, outsider, manager, bakery_deal):
    assert [p.name for p in plans_of(user=rep, deal=bakery_deal)] == ["Welcome"]
    assert [p.name for p in plans_of(user=manager, organization=bakery_deal.organization)] == [
        "Welcome"
    ]
    assert plans_of(user=outsider, contact=bakery_deal.contact) == []
    assert plans_of(user=teammate, deal=bakery_deal) == []  # reps see their own by default


def test_an_outsider_cannot_skip_or_cancel(won, outsider_client):
    step = won.steps.get(position=2)
    skip = outsider_client.post(reverse("aftersales:plan_step_skip", args=[step.pk]))
    cancel = outsider_client.post(reverse("aftersales:plan_cancel", args=[won.pk]))
    assert (skip.status_code, cancel.status_code) == (404, 404)
    step.refresh_from_db()
    won.refresh_from_db()
    assert (step.state, won.state) == ("pending", "running")


def test_the_owner_skips_sets_delivery_and_cancels_from_the_deal_page(won, rep_client, bakery_deal):
    deal_url = reverse("pipeline:deal_detail", args=[bakery_deal.pk])
    step = won.steps.get(position=2)
    response = rep_client.post(
        reverse("aftersales:plan_step_skip", args=[step.pk]), {"next": deal_url}
    )
    assert response.status_code == 302 and response.url == deal_url
    step.refresh_from_db()
    assert step.state == "skipped"
    rep_client.post(
        reverse("aftersales:plan_delivery", args=[won.pk]),
        {"delivery_date": "2026-04-10", "next": "https://evil.example/"},
    )
    won.refresh_from_db()
    assert str(won.delivery_date) == "2026-04-10"
    assert won.steps.get(position=5).due_at is not None
    response = rep_client.post(reverse("aftersales:plan_cancel", args=[won.pk]))
    assert response.url == deal_url  # a foreign `next` is ignored
    won.refresh_from_db()
    assert won.state == "cancelled"
    page = rep_client.get(deal_url).content.decode()
    assert "Cancelled" in page and "The plan was cancelled." in page
    assert 'aria-label="Skip ' not in page
