"""The lead page's scorecard and outcome forms, through the HTTP client."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from closeloop.leads.choices import LeadStatus
from closeloop.leads.models import DisqualifyReason
from closeloop.pipeline.models import Deal
from tests.factories import ContactEmailFactory, default_pipeline

from .conftest import criterion, fill_all


def _detail(lead):  # type: ignore[no-untyped-def]
    return reverse("leads:lead_detail", args=[lead.pk])


def test_lead_page_shows_score_and_missing_items(rep_client, lead):
    page = rep_client.get(_detail(lead)).content.decode()
    assert "Score 0" in page and "Missing: Budget, Authority, Need, Timeline." in page
    assert "Budget status" in page and "Who decides" in page and "Buys by" in page


def test_htmx_save_of_one_item_updates_the_score(rep_client, lead):
    budget = criterion("budget")
    url = reverse("leads:lead_scorecard_save", args=[lead.pk, budget.pk])
    p = f"c{budget.pk}-"
    response = rep_client.post(
        url,
        {
            f"{p}status": "yes",
            f"{p}note": "<b>approved</b>",
            f"{p}budget_min": "1,000",
            f"{p}budget_max": "2000",
            f"{p}budget_currency": "EUR",
            f"{p}contact_is_decision_maker": "unknown",
        },
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "25 / 100" in body
    assert "Missing: Authority, Need, Timeline." in body
    assert "&lt;b&gt;approved&lt;/b&gt;" in body and "<b>approved" not in body
    lead.refresh_from_db()
    assert lead.score == 25 and lead.scorecard.get().budget_min == 1000


def test_bad_budget_range_is_shown_on_the_field(rep_client, lead):
    budget = criterion("budget")
    url = reverse("leads:lead_scorecard_save", args=[lead.pk, budget.pk])
    p = f"c{budget.pk}-"
    response = rep_client.post(
        url,
        {
            f"{p}status": "yes",
            f"{p}budget_min": "5000",
            f"{p}budget_max": "10",
            f"{p}contact_is_decision_maker": "unknown",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "upper end is below its lower end" in response.content.decode()
    lead.refresh_from_db()
    assert lead.score == 0


def test_qualify_page_links_the_duplicate_and_lands_on_the_deal(rep_client, lead, rep):
    fill_all(lead)
    existing = ContactEmailFactory(email="grace@navy.example", contact__owner=rep).contact
    url = reverse("leads:lead_qualify", args=[lead.pk])
    page = rep_client.get(url).content.decode()
    assert f"Link to {existing.full_name}" in page and "Why qualify it below" not in page
    response = rep_client.post(
        url,
        {
            "pipeline": default_pipeline().pk,
            "stage": "",
            "title": "Navy compiler",
            "value": "",
            "contact": f"c{existing.pk}",
            "organization": "new",
        },
    )
    deal = Deal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pipeline:deal_detail", args=[deal.pk])
    assert deal.contact == existing and deal.organization.name == "Navy Labs"
    deal_page = rep_client.get(response["Location"]).content.decode()
    assert "is sales-qualified" in deal_page and "From lead" in deal_page
    assert "spring" in deal_page and "Referral" in deal_page


def test_qualify_page_refuses_a_rep_below_threshold(rep_client, lead):
    url = reverse("leads:lead_qualify", args=[lead.pk])
    assert "ask a manager" in rep_client.get(url).content.decode()
    rep_client.post(
        url, {"pipeline": default_pipeline().pk, "contact": "new", "organization": "new"}
    )
    assert not Deal.objects.exists()


def test_manager_override_form_requires_the_reason(manager_client, lead):
    url = reverse("leads:lead_qualify", args=[lead.pk])
    data = {"pipeline": default_pipeline().pk, "contact": "new", "organization": "new"}
    response = manager_client.post(url, data)
    assert "give a reason" in response.content.decode() and not Deal.objects.exists()
    response = manager_client.post(url, {**data, "override_reason": "Board decision"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.override_reason == "Board decision"


def test_rep_cannot_see_or_act_on_another_reps_lead(rep_client, others_lead):
    for name in ("lead_detail", "lead_qualify"):
        assert rep_client.get(reverse(f"leads:{name}", args=[others_lead.pk])).status_code == 404
    response = rep_client.post(
        reverse("leads:lead_disqualify", args=[others_lead.pk]),
        {"reason": DisqualifyReason.objects.first().pk},
    )
    assert response.status_code == 404
    others_lead.refresh_from_db()
    assert others_lead.status == LeadStatus.NEW


def test_nurture_discard_and_reopen_buttons(rep_client, lead):
    until = timezone.localdate() + dt.timedelta(days=14)
    response = rep_client.post(
        reverse("leads:lead_nurture", args=[lead.pk]),
        {"reason": "After budget round", "until": until.isoformat()},
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NURTURING and lead.nurture_until == until
    page = rep_client.get(_detail(lead)).content.decode()
    assert "After budget round" in page and "Reopen" in page
    rep_client.post(reverse("leads:lead_reopen", args=[lead.pk]))
    response = rep_client.post(
        reverse("leads:lead_disqualify", args=[lead.pk]),
        {"reason": DisqualifyReason.objects.get(name="Spam").pk},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED
    response = rep_client.post(
        reverse("leads:lead_nurture", args=[lead.pk]),
        {"reason": "x", "until": until.isoformat()},
        follow=True,
    )
    assert "reopen it first" in response.content.decode()


def test_inbox_shows_open_leads_with_score_and_missing_items_show_all_too(rep_client, lead, rep):
    from tests.leads_ui.conftest import LeadFactory

    fill_all(lead)
    LeadFactory(owner=rep, last_name="Gone", status=LeadStatus.DISQUALIFIED)
    page = rep_client.get(reverse("leads:lead_list")).content.decode()
    assert "Hopper" in page and "Gone" not in page
    assert '<td class="num" data-role="score">100</td>' in page
    everything = rep_client.get(reverse("leads:lead_list"), {"status": "all"}).content.decode()
    assert "Gone" in everything
    by_score = rep_client.get(reverse("leads:lead_list"), {"status": "all", "sort": "-score"})
    assert next(x.pk for x in by_score.context["page_obj"]) == lead.pk
