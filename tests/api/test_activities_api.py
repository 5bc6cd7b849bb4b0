"""/api/v1/activities: list with filters, schedule, read, reschedule, cancel and complete
planned work through the planning services, with the timeline's visibility rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from closeloop.accounts.choices import TokenScope
from closeloop.accounts.selectors import workspace_settings
from closeloop.accounts.services import api_token_create
from closeloop.activities.choices import ActivityKind
from closeloop.activities.models import Activity
from closeloop.activities.services import activity_create, activity_schedule
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory

from .tokens import ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/activities"
START = "2030-05-06T10:00:00+02:00"


def _plan(owner, deal, **kwargs) -> Activity:
    values = {
        "kind": ActivityKind.CALL,
        "subject": "Call",
        "starts_at": dt.datetime(2030, 5, 6, 8, tzinfo=dt.UTC),
        **kwargs,
    }
    return activity_schedule(actor=owner, owner=owner, deal=deal, send_invites=False, **values)


def test_schedule_read_and_list_a_meeting(rep):
    deal = DealFactory(owner=rep)
    contact = ContactFactory(organization=deal.organization, owner=rep)
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    api = ApiClient(rep)
    response = api.post_json(
        URL,
        {
            "kind": "meeting",
            "subject": "Kick-off",
            "starts_at": START,
            "time_zone": "Europe/Berlin",
            "location": "Their office",
            "deal_id": deal.pk,
            "attendee_contact_ids": [contact.pk],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    activity = Activity.objects.get(pk=body["id"])
    assert (activity.kind, activity.owner, activity.deal) == ("meeting", rep, deal)
    assert activity.ends_at - activity.due_at == dt.timedelta(minutes=30)
    assert body["state"] == "open" and body["owner_email"] == rep.email
    assert body["organization_id"] == deal.organization_id
    assert body["attendees"] == [
        {
            "name": contact.full_name,
            "email": "lena@bakery.example",
            "user_id": None,
            "contact_id": contact.pk,
            "lead_id": None,
        }
    ]
    assert api.get(f"{URL}/{activity.pk}").json() == body
    assert ids(api.get(URL)) == [activity.pk]


@pytest.mark.parametrize("send", [False, True])
def test_invites_go_out_only_when_asked(rep, monkeypatch, django_capture_on_commit_callbacks, send):
    from closeloop.activities import invites

    sent: list[str] = []
    monkeypatch.setattr(invites, "invite_send", lambda **kw: sent.append(kw["method"]))
    deal = DealFactory(owner=rep)
    contact = ContactFactory(organization=deal.organization, owner=rep)
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    payload = {
        "kind": "demo",
        "subject": "Demo",
        "starts_at": START,
        "deal_id": deal.pk,
        "attendee_contact_ids": [contact.pk],
        "send_invites": send,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = ApiClient(rep).post_json(URL, payload)
    assert response.status_code == 201, response.content
    assert sent == (["REQUEST"] if send else [])


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"kind": "note"}, 422, "kind"),
        ({"subject": ""}, 422, "subject"),
        ({"subject": "   "}, 400, "subject"),
        ({"starts_at": "tomorrow"}, 422, "starts_at"),
        ({"starts_at": "2030-05-06T10:00:00"}, 422, "starts_at"),  # no offset
        ({"starts_at": "9999-12-31T23:59:00+00:00"}, 422, "starts_at"),
        ({"ends_at": "2030-05-06T09:00:00+02:00"}, 400, "ends_at"),
        ({"time_zone": "Mars/Olympus"}, 400, "time_zone"),
        ({"deal_id": 999_999}, 400, "deal_id"),
        ({"deal_id": None}, 400, "deal_id"),
        ({"attendee_contact_ids": [999_999]}, 400, "attendee_contact_ids"),
        ({"subject": "Nul\x00"}, 422, "subject"),
    ],
)
def test_bad_input_is_named(rep, payload, status, field):
    deal = DealFactory(owner=rep)
    base = {"kind": "call", "subject": "Call", "starts_at": START, "deal_id": deal.pk}
    response = ApiClient(rep).post_json(URL, {**base, **payload})
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert not Activity.objects.filter(kind="call").exists()


def test_who_may_own_the_work(rep, teammate, manager, outsider):
    deal = DealFactory(owner=rep)
    base = {"kind": "task", "subject": "Send offer", "starts_at": START, "deal_id": deal.pk}
    refused = ApiClient(rep).post_json(URL, {**base, "owner_id": teammate.pk})
    assert refused.status_code == 400 and "owner_id" in refused.json()["fields"]
    assigned = ApiClient(manager).post_json(URL, {**base, "owner_id": rep.pk})
    assert assigned.status_code == 201 and assigned.json()["owner_id"] == rep.pk
    foreign = ApiClient(manager).post_json(URL, {**base, "owner_id": outsider.pk})
    assert foreign.status_code == 400 and "owner_id" in foreign.json()["fields"]


def test_reschedule_keeps_the_length(rep):
    deal = DealFactory(owner=rep)
    meeting = _plan(
        rep, deal, kind=ActivityKind.MEETING, ends_at=dt.datetime(2030, 5, 6, 9, tzinfo=dt.UTC)
    )
    api = ApiClient(rep)
    response = api.patch_json(
        f"{URL}/{meeting.pk}", {"starts_at": "2030-05-07T12:00:00Z", "location": "Video"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["due_at"].startswith("2030-05-07T12:00") and body["ends_at"].startswith(
        "2030-05-07T13:00"
    )
    assert body["location"] == "Video"
    assert Activity.objects.filter(about=meeting, subject__startswith="Rescheduled").exists()


def test_complete_and_cancel(rep):
    deal = DealFactory(owner=rep)
    call, task = _plan(rep, deal), _plan(rep, deal, kind=ActivityKind.TASK, subject="Offer")
    api = ApiClient(rep)
    done = api.post_json(f"{URL}/{call.pk}/complete", {"note": "Wants a demo."})
    assert done.status_code == 200, done.content
    assert (done.json()["state"], done.json()["outcome"]) == ("done", "held")
    assert "Wants a demo." in done.json()["body"]
    again = api.post_json(f"{URL}/{call.pk}/complete", {})
    assert again.status_code == 400
    bad = api.post_json(f"{URL}/{task.pk}/complete", {"outcome": "cancelled"})
    assert bad.status_code == 422 and "outcome" in bad.json()["fields"]
    assert api.delete(f"{URL}/{task.pk}?reason=No+longer+needed").status_code == 204
    task.refresh_from_db()
    assert task.state == "cancelled"
    assert api.delete(f"{URL}/{task.pk}").status_code == 400
    note = activity_create(actor=rep, body="Just a note", deal=deal)
    assert api.delete(f"{URL}/{note.pk}").status_code == 400
    assert api.patch_json(f"{URL}/{note.pk}", {"subject": "x"}).status_code == 400


def test_visibility_and_who_may_change(rep, teammate, manager, outsider):
    deal = DealFactory(owner=rep)
    call = _plan(rep, deal)
    hidden = _plan(outsider, DealFactory(owner=outsider))
    # the teammate attends: sees it, may not change it
    seen = _plan(rep, deal, subject="Team call", attendee_users=[teammate])
    api = ApiClient(teammate)
    assert set(ids(api.get(URL))) == {seen.pk}
    assert api.get(f"{URL}/{call.pk}").status_code == 404
    refused = api.post_json(f"{URL}/{seen.pk}/complete", {})
    assert refused.status_code == 403
    assert api.delete(f"{URL}/{seen.pk}").status_code == 403
    # the manager of rep's team changes it; another team's work stays invisible
    boss = ApiClient(manager)
    assert hidden.pk not in ids(boss.get(URL))
    assert boss.get(f"{URL}/{hidden.pk}").status_code == 404
    assert boss.post_json(f"{URL}/{hidden.pk}/complete", {}).status_code == 404
    assert boss.post_json(f"{URL}/{call.pk}/complete", {}).status_code == 200
    assert ApiClient(rep).get(f"{URL}/{hidden.pk}").status_code == 404


def test_filters_and_orderings(rep, teammate, admin):
    deal, other = DealFactory(owner=rep), DealFactory(owner=teammate)
    org = OrganizationFactory(owner=rep)
    early = _plan(rep, deal, starts_at=dt.datetime(2030, 5, 1, 8, tzinfo=dt.UTC))
    late = _plan(teammate, other, kind=ActivityKind.TASK, subject="Task")
    on_org = activity_schedule(
        actor=rep, kind=ActivityKind.CALL, subject="Org call", organization=org,
        starts_at=dt.datetime(2030, 5, 3, 8, tzinfo=dt.UTC), send_invites=False,
    )  # fmt: skip
    note = activity_create(actor=rep, body="A note", deal=deal)
    api = ApiClient(admin)
    api.post_json(f"{URL}/{early.pk}/complete", {})
    changes = set(Activity.objects.filter(kind=ActivityKind.CHANGE).values_list("pk", flat=True))
    cases = {
        f"owner_id={teammate.pk}": [late.pk],
        f"deal_id={deal.pk}&kind=call": [early.pk],
        f"organization_id={org.pk}": [on_org.pk],
        "kind=note": [note.pk],
        "done=true": [early.pk],
        "done=false&ordering=due_at": [on_org.pk, late.pk],
        "due_from=2030-05-02T00:00:00Z&ordering=-due_at": [late.pk, on_org.pk],
        "due_to=2030-05-02T00:00:00Z": [early.pk],
    }
    for query, expected in cases.items():
        assert ids(api.get(f"{URL}?{query}")) == expected, query
    everything = ids(api.get(f"{URL}?ordering=created_at"))
    assert set(everything) == {early.pk, late.pk, on_org.pk, note.pk} | changes
    for query, field in [
        ("kind=party", "kind"),
        ("ordering=subject", "ordering"),
        ("due_from=0001-01-01T00:00:00+05:00", "due_from"),
    ]:
        bad = api.get(f"{URL}?{query}")
        assert bad.status_code == 422 and field in bad.json()["fields"], query


def test_a_read_only_token_may_not_write(rep):
    call = _plan(rep, DealFactory(owner=rep))
    token = api_token_create(actor=None, user=rep, scope=TokenScope.READ)[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.delete(f"{URL}/{call.pk}").status_code == 403
    assert client.get(f"{URL}/{call.pk}").status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(rep, rows, django_assert_max_num_queries):
    workspace_settings()
    deal = DealFactory(owner=rep)
    for _ in range(rows):
        _plan(rep, deal, kind=ActivityKind.MEETING, attendee_users=[rep])
    api = ApiClient(rep)
    # token, its last use, the rate limit (2), the workspace setting, the page, the attendees
    with django_assert_max_num_queries(8):
        response = api.get(f"{URL}?limit=50&kind=meeting")
    assert len(response.json()["items"]) == rows
