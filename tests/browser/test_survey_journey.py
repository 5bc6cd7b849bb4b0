"""A customer answers a survey on a phone-sized window; the rep then finds the service task
for the unhappy answer in "My work"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from closeloop.aftersales.models import SurveyResponse
from closeloop.aftersales.surveys import invite_token, survey_invite_send, survey_save
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_customer_answers_on_a_phone_and_the_rep_sees_the_task(
    browser, page, live_server, admin, rep, bakery_deal
):  # type: ignore[no-untyped-def]
    survey = survey_save(
        actor=admin, name="NPS", kind="nps", question="How likely are you to recommend us?",
        comment_label="What should we improve?", questions=[], email_subject="How did we do?",
        email_body="Hello {{ contact.first_name }}",
    )  # fmt: skip
    invite = survey_invite_send(
        actor=rep, survey=survey, contact=bakery_deal.contact, deal=bakery_deal
    )
    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    tab = phone.new_page()
    tab.set_default_timeout(10_000)
    tab.goto(f"{live_server.url}/s/{invite_token(invite)}/")
    expect(tab.get_by_role("heading", name="How likely are you to recommend us?")).to_be_visible()
    choice = tab.locator(".survey-score", has_text="2").first
    box = choice.bounding_box()
    assert box is not None and box["width"] >= 40 and box["height"] >= 40  # a finger hits it
    # nothing runs off the side of a phone screen
    assert tab.evaluate("document.documentElement.scrollWidth") <= 375
    choice.click()
    tab.get_by_label("What should we improve?").fill("The site was late")
    tab.get_by_role("button", name="Send my answer").click()
    expect(tab.locator("#saved")).to_contain_text("Thank you! Your answer is saved.")
    phone.close()
    response = SurveyResponse.objects.get()
    assert response.score == 2 and response.comment == "The site was late"

    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/work/")
    expect(page.locator(f"#act-{response.service_task_id}")).to_contain_text("Overdue")
    expect(page.get_by_text("Unhappy customer: call Lena Lind")).to_be_visible()
