"""/api/v1/surveys: the surveys, and the answers of the customers the token's user may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from closeloop.accounts.selectors import workspace_settings
from closeloop.aftersales.models import Survey, SurveyResponse
from closeloop.aftersales.surveys import survey_answer, survey_invite_send, survey_save
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory

from .tokens import ROLE_SEES, ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/surveys"


@pytest.fixture
def nps(admin: Any) -> Survey:
    return survey_save(
        actor=admin,
        name="After purchase NPS",
        kind="nps",
        question="How likely are you to recommend us?",
        comment_label="Why?",
        questions=[{"label": "Was the delivery on time?", "kind": "yesno"}],
        email_subject="How did we do?",
        email_body="Please tell us.",
    )


@pytest.fixture
def csat(admin: Any) -> Survey:
    return survey_save(
        actor=admin,
        name="Support CSAT",
        kind="csat",
        question="How satisfied are you?",
        comment_label="",
        questions=[],
        email_subject="Your opinion",
        email_body="Please answer.",
    )


def answered(survey: Survey, owner: Any, score: int, *, comment: str = "", when: Any = None):
    """An answer of a customer of `owner`'s deal (no owner: a contact nobody owns)."""
    contact = ContactFactory(owner=owner)
    ContactEmailFactory(contact=contact)
    deal = DealFactory(owner=owner, contact=contact) if owner is not None else None
    invite = survey_invite_send(actor=None, survey=survey, contact=contact, deal=deal)
    moment = when or dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        return survey_answer(invite=invite, score=score, comment=comment)


@pytest.fixture
def owned(nps, rep, teammate, outsider) -> dict[str, SurveyResponse]:
    return {
        key: answered(nps, owner, 9)
        for key, owner in (
            ("rep", rep),
            ("teammate", teammate),
            ("outsider", outsider),
            ("shared", None),
        )
    }


def test_surveys_are_read_by_everyone(rep, nps, csat):
    api = ApiClient(rep)
    assert ids(api.get(URL)) == [nps.pk, csat.pk]
    assert ids(api.get(f"{URL}?kind=csat")) == [csat.pk]
    body = api.get(f"{URL}/{nps.pk}").json()
    assert body["kind"] == "nps" and body["question"] == "How likely are you to recommend us?"
    assert [q["label"] for q in body["questions"]] == ["Was the delivery on time?"]
    Survey.objects.filter(pk=csat.pk).update(is_active=False)
    assert ids(api.get(f"{URL}?active=false")) == [csat.pk]
    assert api.get(f"{URL}/999999").status_code == 404
    assert api.get(f"{URL}/999999/responses").status_code == 404


def test_an_answer_says_score_comment_contact_deal_and_when(rep, nps):
    response = answered(nps, rep, 3, comment="Late delivery")
    body = ApiClient(rep).get(f"{URL}/{nps.pk}/responses").json()["items"]
    invite = response.invite
    assert body == [
        {
            "id": response.pk,
            "survey_id": nps.pk,
            "survey_kind": "nps",
            "score": 3,
            "comment": "Late delivery",
            "answers": {},
            "contact_id": invite.contact_id,
            "contact_name": str(invite.contact),
            "organization_id": invite.organization_id,
            "deal_id": invite.deal_id,
            "answered_at": "2026-03-01T12:00:00Z",
            "changed_at": None,
            "created_at": body[0]["created_at"],
            "updated_at": body[0]["updated_at"],
        }
    ]


@pytest.mark.parametrize(("who", "sees"), ROLE_SEES)
def test_visibility_by_role(request, owned, nps, who, sees):
    api = ApiClient(request.getfixturevalue(who))
    expected = {owned[key].pk for key in sees}
    assert set(ids(api.get(f"{URL}/{nps.pk}/responses"))) == expected
    assert set(ids(api.get(f"{URL}/responses"))) == expected


def test_workspace_sharing_lets_a_rep_see_the_team(rep, owned, nps):
    settings = workspace_settings()
    settings.rep_visibility = "team"
    settings.save()
    seen = set(ids(ApiClient(rep).get(f"{URL}/responses")))
    assert seen == {owned[k].pk for k in ("rep", "teammate", "shared")}


def test_filters_and_orderings(admin, nps, csat, rep):
    march = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
    april = dt.datetime(2026, 4, 10, 9, tzinfo=dt.UTC)
    low = answered(nps, rep, 2, when=march)
    high = answered(nps, rep, 10, when=april)
    happy = answered(csat, rep, 5, when=march)
    api = ApiClient(admin)
    assert ids(api.get(f"{URL}/responses")) == [high.pk, happy.pk, low.pk]
    assert ids(api.get(f"{URL}/{nps.pk}/responses")) == [high.pk, low.pk]
    assert ids(api.get(f"{URL}/responses?survey_id={csat.pk}")) == [happy.pk]
    assert ids(api.get(f"{URL}/responses?kind=nps&score_max=6")) == [low.pk]
    assert ids(api.get(f"{URL}/responses?score_min=5&ordering=score")) == [happy.pk, high.pk]
    assert ids(api.get(f"{URL}/responses?answered_from=2026-04-01")) == [high.pk]
    assert ids(api.get(f"{URL}/responses?answered_to=2026-03-31")) == [happy.pk, low.pk]
    for bad, field in (
        ("kind=ces", "kind"),
        ("score_min=11", "score_min"),
        ("answered_from=yesterday", "answered_from"),
        ("ordering=comment", "ordering"),
    ):
        response = api.get(f"{URL}/responses?{bad}")
        assert response.status_code == 422 and field in response.json()["fields"], bad


def test_pages_follow_the_cursor(admin, nps, rep):
    made = [answered(nps, rep, i) for i in range(5)]
    api = ApiClient(admin)
    first = api.get(f"{URL}/responses?limit=2&ordering=id").json()
    rest = api.get(f"{URL}/responses?limit=10&ordering=id&cursor={first['next_cursor']}").json()
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in rest["items"]]
    assert seen == [r.pk for r in made] and rest["next_cursor"] is None


@pytest.mark.parametrize("rows", [2, 15])
def test_list_query_count_does_not_grow_with_rows(rep, nps, rows, django_assert_max_num_queries):
    workspace_settings()
    for _ in range(rows):
        answered(nps, rep, 8)
    api = ApiClient(rep)
    with django_assert_max_num_queries(8):
        response = api.get(f"{URL}/{nps.pk}/responses?limit=50")
    assert len(response.json()["items"]) == rows
