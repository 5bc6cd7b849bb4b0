"""Every public signed link: tampered, expired and used again.

The links a customer or a calendar app gets carry a token signed with the SECRET_KEY and a
salt of their own. Each is checked the same way:

- tampering: a changed payload, a changed or cut signature, garbage, or another link's genuine
  token is refused (or, for the referral link, ignored), and the answer shows nothing of what
  the genuine link shows;
- expiry: links that end (the proposal's, the survey's, the booking's, a web form's "shown at"
  stamp) are refused once past their lifetime with a page that says so; links that never end
  (unsubscribe, referral, calendar feed, web form address) still work years later, on purpose;
- reuse: what may happen once happens once (accepting a proposal, cancelling a booking), what
  may be repeated changes nothing more (unsubscribing), and answers close when they should.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from closeloop.aftersales.models import SurveyResponse
from closeloop.aftersales.referrals import COOKIE_NAME
from closeloop.messaging.models import Suppression
from closeloop.proposals.models import Proposal, ProposalResponse

from .page_records import MARKERS, PageRecords

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Link:
    """A public link: its address, the records key of its token, what its page shows."""

    url: str
    token: str
    secret: str  # shown by the genuine page, never by a refused one
    forged: int  # the status of a forged token


LINKS = {
    "proposal": Link("/p/{}/", "proposal_token", MARKERS["proposal"], 404),
    "proposal pdf": Link("/p/{}/pdf", "proposal_token", "%PDF", 404),
    "survey": Link("/s/{}/", "survey_token", "Recommend us?", 404),
    "booking": Link("/book/manage/{}/", "booking_token", "Intro call", 400),
    "booking cancel": Link("/book/manage/{}/cancel/", "booking_token", "Intro call", 400),
    "unsubscribe": Link("/u/{}/", "unsubscribe_token", "olaf@outsider.example", 400),
    "calendar feed": Link("/calendar/{}.ics", "feed_token", "Otto Outsider", 404),
    "web form": Link("/f/{}/", "webform_token", "Contact us", 404),
    # a tampered referral link is the plain landing page, referring nobody
    "referral": Link("/r/{}/", "referral_token", "Olaf", 200),
}
OTHER = {  # a genuine token of another kind, to try on each link
    "proposal_token": "survey_token",
    "survey_token": "proposal_token",
    "booking_token": "unsubscribe_token",
    "unsubscribe_token": "booking_token",
    "feed_token": "referral_token",
    "webform_token": "feed_token",
    "referral_token": "webform_token",
}


@pytest.fixture
def records(outsider: Any, admin: Any) -> PageRecords:
    return PageRecords(outsider, admin)


def _flip(text: str, index: int) -> str:
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def _forgeries(token: str, other: str) -> dict[str, str]:
    value, _, signature = token.rpartition(":")
    return {
        "payload changed": _flip(token, 2),
        "payload swapped": _flip(value, len(value) // 2) + ":" + signature,
        "signature changed": value + ":" + _flip(signature, len(signature) - 2),
        "signature cut": value + ":" + signature[:10],
        "no signature": value,
        "garbage": "not-a-token",
        "another link's token": other,
    }


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("name", sorted(LINKS))
def test_the_genuine_link_works(name, records):
    link = LINKS[name]
    response = Client().get(link.url.format(records[link.token]))
    assert response.status_code == 200, _body(response)[:300]
    assert link.secret in _body(response)


@pytest.mark.parametrize("name", sorted(LINKS))
def test_a_tampered_link_is_refused_and_reveals_nothing(name, records):
    link = LINKS[name]
    genuine = records[link.token]
    for how, token in _forgeries(genuine, records[OTHER[link.token]]).items():
        response = Client().get(link.url.format(token))
        body = _body(response)
        assert response.status_code == link.forged, (how, response.status_code, body[:300])
        assert link.secret not in body, how
        if name == "referral":
            assert COOKIE_NAME not in response.cookies, how


def _later(days: float) -> Any:
    return time_machine.travel(timezone.now() + dt.timedelta(days=days), tick=False)


@pytest.mark.parametrize(
    ("name", "setting"),
    [("proposal", "PROPOSAL_LINK_DAYS"), ("proposal pdf", "PROPOSAL_LINK_DAYS"),
     ("survey", "SURVEY_LINK_DAYS")],
)  # fmt: skip
def test_a_link_past_its_lifetime_says_it_expired(name, setting, records):
    link = LINKS[name]
    url = link.url.format(records[link.token])
    days = int(getattr(settings, setting))
    with _later(days - 1):
        assert Client().get(url).status_code == 200
    with _later(days + 1):
        response = Client().get(url)
    body = _body(response)
    assert response.status_code == 410, body[:300]
    assert "expired" in body.lower() and link.secret not in body


def test_a_booking_link_ends_with_its_meeting(records):
    url = LINKS["booking"].url.format(records["booking_token"])
    with _later(8):  # the meeting was within the week
        response = Client().get(url)
    body = _body(response)
    assert response.status_code == 410
    assert "expired" in body and "Intro call" not in body


def test_a_web_form_open_too_long_asks_to_send_again(records):
    token, started = records["webform_token"], records["webform_started"]
    post = {"last_name": "Visitor", "email": "v@visitor.example", "_started": started}
    with _later(1):  # the stamp lasts twelve hours
        response = Client().post(f"/f/{token}/submit", post)
    assert response.status_code == 400
    assert "open for too long" in _body(response)
    other = PageRecords(records.outsider_user, records.admin, serial=1)
    post["_started"] = other["webform_started"]  # another form's stamp
    response = Client().post(f"/f/{token}/submit", post)
    assert response.status_code == 400 and "could not be verified" in _body(response)


@pytest.mark.parametrize("name", ["unsubscribe", "referral", "calendar feed", "web form"])
def test_links_that_never_expire_still_work_years_later(name, records):
    """On purpose: an unsubscribe link must work whenever the email is read, a customer hands
    their referral link on for as long as they like, a calendar app polls its feed for years
    (resetting it ends the old one), and a web form lives until it is switched off."""
    link = LINKS[name]
    url = link.url.format(records[link.token])
    with _later(5 * 365):
        response = Client().get(url)
    assert response.status_code == 200 and link.secret in _body(response)


def _answer(token: str, form: str, data: dict[str, str]) -> Any:
    return Client().post(f"/p/{token}/{form}", data)


def test_an_accepted_proposal_cannot_be_accepted_or_declined_again(records):
    token = records["proposal_token"]
    assert _answer(token, "accept", {"name": "Olaf", "consent": "on"}).status_code == 302
    again = _answer(token, "accept", {"name": "Mallory", "consent": "on"})
    assert again.status_code == 409
    assert _answer(token, "decline", {"reason": "Changed my mind"}).status_code == 409
    assert _answer(token, "changes", {"comment": "Cheaper"}).status_code == 409
    proposal = Proposal.objects.get(pk=records["proposal"])
    assert proposal.status == "accepted"
    answers = ProposalResponse.objects.filter(version__proposal=proposal)
    assert list(answers.values_list("kind", "name")) == [("accepted", "Olaf")]


def test_a_superseded_version_cannot_be_accepted(records, outsider):
    from closeloop.proposals.services import proposal_send, proposal_update

    token = records["proposal_token"]
    proposal = Proposal.objects.get(pk=records["proposal"])
    proposal = proposal_update(actor=outsider, proposal=proposal, title="Outsider proposal v2")
    proposal_send(actor=outsider, proposal=proposal)
    response = _answer(token, "accept", {"name": "Olaf", "consent": "on"})
    assert response.status_code == 409
    assert Proposal.objects.get(pk=proposal.pk).status != "accepted"


def test_a_survey_answer_can_change_for_seven_days_then_not(records):
    url = f"/s/{records['survey_token']}/"
    assert Client().post(url, {"score": "6"}).status_code == 302
    with _later(3):
        assert Client().post(url, {"score": "9"}).status_code == 302
    with _later(8):
        response = Client().post(url, {"score": "0"})
    assert response.status_code == 409
    assert "can no longer be changed" in _body(response)
    assert list(SurveyResponse.objects.values_list("score", flat=True)) == [9]


def test_unsubscribing_twice_changes_nothing_more(records):
    url = f"/u/{records['unsubscribe_token']}/"
    for _ in range(2):
        response = Client().post(url, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    assert Suppression.objects.filter(email="olaf@outsider.example").count() == 1


def test_a_cancelled_booking_link_is_spent(records):
    token = records["booking_token"]
    client = Client()
    assert client.post(f"/book/manage/{token}/cancel/").status_code == 200
    for url in (f"/book/manage/{token}/cancel/", f"/book/manage/{token}/reschedule/"):
        response = client.post(url, {"start": "2030-01-07T10:00:00+00:00"})
        assert response.status_code == 410, url
        assert "Intro call" not in _body(response)


def test_a_reset_calendar_feed_ends_the_old_link(records, outsider):
    from closeloop.activities.feed import calendar_feed_reset

    old = records["feed_token"]
    calendar_feed_reset(actor=outsider, user=outsider)
    assert Client().get(f"/calendar/{old}.ics").status_code == 404


def test_a_switched_off_web_form_link_is_gone(records, admin):
    from closeloop.leads.webforms import webform_set_active

    webform_set_active(actor=admin, webform=records["webform_record"], is_active=False)
    response = Client().get(f"/f/{records['webform_token']}/")
    assert response.status_code == 404 and "Contact us" not in _body(response)
