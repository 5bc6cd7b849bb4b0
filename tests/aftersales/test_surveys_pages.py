"""Survey pages through the HTTP client: the customer's page (signed link, CSRF, rate limit,
change window), settings, "Send survey", and the results with exact NPS/CSAT math.

The results history (invites sent in 2025; Rita owns the Bakery deals, Tom owns one):
| owner | survey | sent     | product        | score            |
| Rita  | NPS    | Jan 10 ×6| Website on 4 of them | 10, 9, 9, 7, 3, 6 |
| Rita  | NPS    | Feb 5 ×2 | –              | unanswered       |
| Rita  | CSAT   | Feb 5 ×4 | –              | 5, 4, 2, unanswered |
| Tom   | NPS    | Feb 5 ×1 | –              | 0                |
Rita: NPS answers 6, promoters 3, detractors 2 → 100·(3−2)/6 = 16.67 → 17; CSAT (5+4+2)/3 =
3.67; sent 12, answered 9 → 75.0%. With Tom (a manager sees both): NPS answers 7, promoters 3,
detractors 3 → 0; sent 13, answered 10 → 76.9%.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from closeloop.activities.models import Activity
from closeloop.aftersales.models import Survey, SurveyInvite
from closeloop.aftersales.surveys import invite_token, survey_answer, survey_invite_send
from closeloop.aftersales.surveys_selectors import SurveyFilters, survey_results
from closeloop.proposals.models import LineItem, Proposal
from closeloop.proposals.services import product_create
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)


def _customer(owner: Any, n: int) -> Any:
    contact = ContactFactory(first_name=f"C{n}", last_name="Customer", owner=owner)
    ContactEmailFactory(contact=contact, email=f"c{n}@example.org")
    return DealFactory(title=f"Deal {n}", owner=owner, contact=contact)


@pytest.fixture
def history(admin, rep, teammate, nps_survey, csat_survey) -> dict[str, Any]:
    website = product_create(
        actor=admin, name="Website", sku="W", unit="project", unit_price=Decimal("4000"),
        currency="EUR", tax_rate=Decimal("0"),
    )  # fmt: skip
    n = 0

    def send(owner: Any, survey: Survey, when: dt.datetime, score: int | None, product=None):
        nonlocal n
        n += 1
        deal = _customer(owner, n)
        if product is not None:
            proposal = Proposal.objects.create(deal=deal, title="Offer", currency="EUR")
            # two lines of one product: the deal still counts once under it
            LineItem.objects.create(proposal=proposal, product=product, name="Site")
            LineItem.objects.create(proposal=proposal, product=product, name="Site extra")
        with time_machine.travel(when, tick=False):
            invite = survey_invite_send(actor=owner, survey=survey, contact=deal.contact, deal=deal)
            if score is not None:
                survey_answer(invite=invite, score=str(score), comment=f"score {score}")
        return invite

    jan, feb = (
        dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC),
        dt.datetime(2025, 2, 5, 12, tzinfo=dt.UTC),
    )
    for i, score in enumerate([10, 9, 9, 7, 3, 6]):
        send(rep, nps_survey, jan, score, website if i in (0, 1, 4, 5) else None)
    for _ in range(2):
        send(rep, nps_survey, feb, None)
    for score in (5, 4, 2, None):
        send(rep, csat_survey, feb, score)
    send(teammate, nps_survey, feb, 0)
    return {"website": website}


def test_results_math_for_a_rep(rep, history) -> None:
    results = survey_results(user=rep, filters=SurveyFilters())
    total = results.total
    assert (total.sent, total.answered, total.response_rate) == (12, 9, Decimal("75.0"))
    assert (total.nps_answers, total.promoters, total.detractors, total.nps) == (6, 3, 2, 17)
    assert (total.csat_answers, total.csat) == (3, Decimal("3.67"))
    assert [(r.label, r.sent, r.answered, r.nps) for r in results.by_rep] == [
        ("Rita Rep", 12, 9, 17)
    ]
    # Website deals: scores 10, 9, 3, 6 → 2 promoters, 2 detractors → NPS 0
    assert [(r.label, r.sent, r.answered, r.nps, r.csat) for r in results.by_product] == [
        ("Website", 4, 4, 0, None)
    ]
    assert [(r.label, r.sent, r.answered, r.nps, r.csat) for r in results.by_month] == [
        ("February 2025", 6, 3, None, Decimal("3.67")),
        ("January 2025", 6, 6, 17, None),
    ]
    assert len(results.responses) == 9
    assert {r.invite.owner_id for r in results.responses} == {rep.pk}


def test_results_for_a_manager_and_filters(manager, rep, teammate, outsider, history) -> None:
    total = survey_results(user=manager, filters=SurveyFilters()).total
    assert (total.sent, total.answered, total.response_rate) == (13, 10, Decimal("76.9"))
    assert (total.nps_answers, total.promoters, total.detractors, total.nps) == (7, 3, 3, 0)
    by_rep = survey_results(user=manager, filters=SurveyFilters()).by_rep
    assert [(r.label, r.sent, r.nps) for r in by_rep] == [
        ("Rita Rep", 12, 17),
        ("Tom Teammate", 1, -100),
    ]
    only_tom = survey_results(user=manager, filters=SurveyFilters(owner_id=teammate.pk)).total
    assert (only_tom.sent, only_tom.nps) == (1, -100)
    product = survey_results(
        user=manager, filters=SurveyFilters(product_id=history["website"].pk)
    ).total
    assert (product.sent, product.nps) == (4, 0)
    january = SurveyFilters(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 1, 31))
    assert survey_results(user=manager, filters=january).total.sent == 6
    assert survey_results(user=outsider, filters=SurveyFilters()).total.sent == 0


def test_results_page_shows_figures_and_escapes_comments(rep_client, rep, history) -> None:
    invite = SurveyInvite.objects.filter(owner=rep, response__isnull=True).first()
    survey_answer(invite=invite, score="8", comment="<script>alert(1)</script>")
    response = rep_client.get("/customers/surveys/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<div class="kpi" id="kpi-nps">14</div>' in html  # 3 promoters, 2 detractors of 7
    assert '<div class="kpi" id="kpi-csat">3.67</div>' in html
    assert '<div class="kpi" id="kpi-rate">83.3%</div>' in html  # 10 of 12
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert f'href="/people/contacts/{invite.contact_id}/"' in html
    assert "Tom" not in html.split('id="by-rep"')[1].split("</table>")[0]


# --- the customer's page -------------------------------------------------------------------


@pytest.fixture
def invite(rep, bakery_deal, nps_survey) -> SurveyInvite:
    with time_machine.travel(T0, tick=False):
        return survey_invite_send(
            actor=rep, survey=nps_survey, contact=bakery_deal.contact, deal=bakery_deal
        )


def test_customer_answers_and_changes_within_seven_days(invite, rep) -> None:
    token = invite_token(invite)
    url = f"/s/{token}/"
    client = Client(enforce_csrf_checks=True)
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "How likely are you to recommend us?" in html
        assert html.count('name="score"') == 11 and 'name="csrfmiddlewaretoken"' in html
        # without the CSRF token the answer is refused
        assert client.post(url, {"score": "4"}).status_code == 403
        csrf = client.cookies["csrftoken"].value
        answer = {
            "score": "4",
            "comment": "Slow",
            "q1": "no",
            "q2": "2",
            "csrfmiddlewaretoken": csrf,
        }
        response = client.post(url, answer)
        assert response.status_code == 302 and response["Location"] == f"{url}?saved=1"
        assert "Thank you! Your answer is saved." in client.get(f"{url}?saved=1").content.decode()
        bad = client.post(url, {"score": "12", "csrfmiddlewaretoken": csrf})
        assert bad.status_code == 400 and "Choose a score from 0 to 10." in bad.content.decode()
    with time_machine.travel(T0 + dt.timedelta(days=7, hours=23), tick=False):
        again = client.post(url, {"score": "8", "csrfmiddlewaretoken": csrf})
        assert again.status_code == 302
    invite.response.refresh_from_db()
    assert invite.response.score == 8 and invite.response.comment == ""
    with time_machine.travel(T0 + dt.timedelta(days=8, minutes=1), tick=False):
        html = client.get(url).content.decode()
        assert 'name="score"' not in html and "Your answer: <strong>8</strong>" in html
        late = client.post(url, {"score": "0", "csrfmiddlewaretoken": csrf})
        assert late.status_code == 409 and "can no longer be changed" in late.content.decode()
    invite.response.refresh_from_db()
    assert invite.response.score == 8
    assert Activity.objects.filter(kind="task").count() == 1  # the first answer, 4


def test_tampered_and_expired_links_reveal_nothing(client, invite) -> None:
    with time_machine.travel(T0, tick=False):  # the link as it was sent
        token = invite_token(invite)
    for bad in (token[:-3] + "abc", "nothing"):
        response = client.get(f"/s/{bad}/")
        html = response.content.decode()
        assert response.status_code == 404 and "This link is not valid" in html
        assert "Lena" not in html and "recommend" not in html
        assert client.post(f"/s/{bad}/", {"score": "1"}).status_code == 404
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        response = client.get(f"/s/{token}/")
        assert response.status_code == 410 and "This link has expired" in response.content.decode()
        assert "Lena" not in response.content.decode()
    assert not SurveyInvite.objects.filter(response__isnull=False).exists()


def test_answers_are_rate_limited_per_address(client, invite, settings) -> None:
    settings.SURVEY_RATE_PER_IP = 2
    url = f"/s/{invite_token(invite)}/"
    with time_machine.travel(T0 + dt.timedelta(days=1), tick=False):
        assert [client.post(url, {"score": "x"}).status_code for _ in range(3)] == [400, 400, 429]
        other = client.post(url, {"score": "9"}, REMOTE_ADDR="10.0.0.9")
        assert other.status_code == 302


# --- settings and sending ------------------------------------------------------------------


def test_manager_sets_up_a_survey_and_a_rep_may_not(manager_client, rep_client) -> None:
    assert rep_client.get("/settings/surveys/").status_code == 403
    form = {
        "name": "Delivery CSAT", "kind": "csat", "question": "How satisfied are you?",
        "comment_label": "Tell us more", "email_subject": "Quick question",
        "email_body": "Hi {{ contact.first_name }}", "is_active": "on",
        "q1_label": "Would you buy again?", "q1_kind": "yesno",
        "q3_label": "Speed", "q3_kind": "scale",
    }  # fmt: skip
    response = manager_client.post("/settings/surveys/new/", form)
    assert response.status_code == 302
    survey = Survey.objects.get(name="Delivery CSAT")
    assert survey.questions == [
        {"key": "q1", "label": "Would you buy again?", "kind": "yesno"},
        {"key": "q2", "label": "Speed", "kind": "scale"},
    ]
    page = manager_client.get(f"/settings/surveys/{survey.pk}/").content.decode()
    assert 'value="Would you buy again?"' in page
    bad = manager_client.post(
        f"/settings/surveys/{survey.pk}/", {**form, "email_body": "{{ nope.x }}"}
    )
    assert bad.status_code == 400 and "Unknown merge field" in bad.content.decode()
    assert "Delivery CSAT" in manager_client.get("/settings/surveys/").content.decode()


def test_send_survey_from_the_deal_and_contact_pages(
    rep_client, outsider_client, bakery_deal, nps_survey, csat_survey
) -> None:
    deal_page = rep_client.get(f"/deals/{bakery_deal.pk}/").content.decode()
    assert f'href="/customers/surveys/send/deal/{bakery_deal.pk}/"' in deal_page
    contact_page = rep_client.get(f"/people/contacts/{bakery_deal.contact_id}/").content.decode()
    assert f'href="/customers/surveys/send/contact/{bakery_deal.contact_id}/"' in contact_page
    url = f"/customers/surveys/send/deal/{bakery_deal.pk}/"
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, {"survey": nps_survey.pk}).status_code == 404
    form = rep_client.get(url).content.decode()
    assert "To <strong>Lena Lind</strong> &lt;lena@bakery.example&gt;" in form
    response = rep_client.post(url, {"survey": nps_survey.pk})
    assert response.status_code == 302 and response["Location"] == f"/deals/{bakery_deal.pk}/"
    invite = SurveyInvite.objects.get()
    assert invite.deal == bakery_deal and invite.survey == nps_survey
    contact_url = f"/customers/surveys/send/contact/{bakery_deal.contact_id}/"
    assert rep_client.post(contact_url, {"survey": csat_survey.pk}).status_code == 302
    assert SurveyInvite.objects.filter(deal__isnull=True, survey=csat_survey).count() == 1
