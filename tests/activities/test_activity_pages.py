"""Planned work through the pages: scheduling from records, the activity page and its actions,
the timelines' quick "Done", and who may see or change what."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from closeloop.activities.choices import ActivityKind, ActivityOutcome
from closeloop.activities.models import Activity
from closeloop.activities.selectors import activity_visible_to
from closeloop.activities.services import activity_schedule
from closeloop.pipeline.models import Deal
from tests.factories import ContactFactory, DealFactory, OrganizationFactory
from tests.mail import Server
from tests.worker import run_worker

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def _plan(actor: Any, deal: Any = None, **kwargs: Any) -> Activity:
    kwargs.setdefault("kind", ActivityKind.MEETING)
    kwargs.setdefault("subject", "Kick-off")
    kwargs.setdefault("starts_at", timezone.now() + dt.timedelta(days=2))
    return activity_schedule(actor=actor, deal=deal, send_invites=False, **kwargs)


def _schedule_url(kind: str, pk: int) -> str:
    return reverse("activity:schedule", args=[kind, pk])


def test_a_rep_schedules_a_demo_from_the_deal_page_and_the_contact_gets_the_invite(
    rep: Any,
    rep_client: Any,
    bakery_deal: Any,
    smtp_server: Server,
    django_capture_on_commit_callbacks: Any,
):
    rep.time_zone = "Europe/Berlin"
    rep.save()
    page = rep_client.get(reverse("pipeline:deal_detail", args=[bakery_deal.pk])).content.decode()
    assert _schedule_url("deal", bakery_deal.pk) in page
    assert "no next step" in page
    form = rep_client.get(_schedule_url("deal", bakery_deal.pk)).content.decode()
    assert "Lena Lind &lt;lena@bakery.example&gt;" in form
    assert 'value="Europe/Berlin" selected' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = rep_client.post(
            _schedule_url("deal", bakery_deal.pk),
            {
                "kind": "demo",
                "subject": "Product demo",
                "date": "2026-12-03",
                "start": "10:00",
                "end": "11:00",
                "time_zone": "Europe/Berlin",
                "location": "https://meet.example.com/demo",
                "attendee_contacts": [bakery_deal.contact.pk],
                "send_invites": "on",
                "move_to_demo": "on",
            },
        )
    assert response.status_code == 302
    demo = Activity.objects.get(kind=ActivityKind.DEMO)
    assert demo.due_at == dt.datetime(2026, 12, 3, 10, tzinfo=BERLIN)
    assert demo.ends_at == dt.datetime(2026, 12, 3, 11, tzinfo=BERLIN)
    assert (demo.owner, demo.deal, demo.contact) == (rep, bakery_deal, bakery_deal.contact)
    run_worker()
    (mail,) = smtp_server.recorder.messages()
    assert mail["To"] == "lena@bakery.example"
    page = rep_client.get(reverse("pipeline:deal_detail", args=[bakery_deal.pk])).content.decode()
    assert "Next step:" in page and "Product demo" in page and "no next step" not in page
    assert "Thu 3 Dec 2026, 10:00" in page  # in Rita's zone
    assert 'href="https://meet.example.com/demo"' in page


def test_schedule_errors_show_on_their_field_and_htmx_gets_the_form_back(
    rep_client: Any, bakery_deal: Any
):
    response = rep_client.post(
        _schedule_url("deal", bakery_deal.pk),
        {"kind": "meeting", "subject": "Call", "date": "2026-12-03", "start": "10:00",
         "end": "09:00", "time_zone": "Europe/Berlin"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # the form partial only
    assert '<div class="field has-error">\n  <label for="id_end">' in html
    assert "The end must be after the start." in html
    assert not Activity.objects.filter(kind=ActivityKind.MEETING).exists()


def test_a_task_can_be_scheduled_on_a_contact_organization_and_lead(
    rep: Any, rep_client: Any, bakery_deal: Any
):
    from tests.leads_ui.conftest import LeadFactory

    lead = LeadFactory(owner=rep, email="kim@lead.example")
    for kind, pk in (
        ("contact", bakery_deal.contact.pk),
        ("organization", bakery_deal.organization.pk),
        ("lead", lead.pk),
    ):
        data = {"kind": "task", "subject": f"Follow up {kind}", "date": "2026-12-04",
                "start": "09:00", "time_zone": "UTC"}  # fmt: skip
        if kind == "lead":
            data["invite_lead"] = "on"
        response = rep_client.post(_schedule_url(kind, pk), data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and response.headers["HX-Redirect"]
    assert Activity.objects.get(subject="Follow up contact").contact == bakery_deal.contact
    org_task = Activity.objects.get(subject="Follow up organization")
    assert org_task.organization == bakery_deal.organization and org_task.ends_at is None
    lead_task = Activity.objects.get(subject="Follow up lead")
    assert lead_task.lead == lead
    assert lead_task.attendees.get().email == "kim@lead.example"
    page = rep_client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    assert "Follow up lead" in page and "Open" in page


def test_a_rep_cannot_schedule_on_a_record_they_cannot_see(outsider_client: Any, bakery_deal: Any):
    for kind, pk in (("deal", bakery_deal.pk), ("contact", bakery_deal.contact.pk)):
        assert outsider_client.get(_schedule_url(kind, pk)).status_code == 404
    assert outsider_client.get(_schedule_url("invoice", 1)).status_code == 404


def test_only_managers_and_admins_pick_another_owner(
    rep_client: Any, manager: Any, manager_client: Any, teammate: Any, bakery_deal: Any
):
    assert (
        'name="owner"' not in rep_client.get(_schedule_url("deal", bakery_deal.pk)).content.decode()
    )
    response = manager_client.post(
        _schedule_url("deal", bakery_deal.pk),
        {"kind": "call", "subject": "Call Lena", "date": "2026-12-03", "start": "10:00",
         "time_zone": "UTC", "owner": teammate.pk},
    )  # fmt: skip
    assert response.status_code == 302
    call = Activity.objects.get(subject="Call Lena")
    assert (call.owner, call.actor) == (teammate, manager)


def test_the_activity_page_shows_details_and_history_and_reschedules_keeping_the_length(
    rep: Any, rep_client: Any, bakery_deal: Any
):
    start = dt.datetime(2026, 12, 3, 10, tzinfo=BERLIN)
    meeting = _plan(
        rep,
        bakery_deal,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=45),
        location="Bakery, Main St 1",
        attendee_contacts=[bakery_deal.contact],
    )
    url = reverse("activity:detail", args=[meeting.pk])
    html = rep_client.get(url).content.decode()
    assert "Kick-off" in html and "Lena Lind" in html and "New website" in html
    response = rep_client.post(
        reverse("activity:reschedule", args=[meeting.pk]),
        {"date": "2026-12-04", "start": "15:30", "time_zone": "Europe/Berlin"},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.due_at == dt.datetime(2026, 12, 4, 15, 30, tzinfo=BERLIN)
    assert meeting.ends_at - meeting.due_at == dt.timedelta(minutes=45)
    html = rep_client.get(url).content.decode()
    assert "Rescheduled: Kick-off" in html


def test_complete_and_cancel_from_the_activity_page(rep: Any, rep_client: Any, bakery_deal: Any):
    meeting = _plan(rep, bakery_deal)
    task = _plan(rep, bakery_deal, kind=ActivityKind.TASK, subject="Send offer")
    rep_client.post(
        reverse("activity:complete", args=[meeting.pk]),
        {"outcome": "no_show", "notes": "Lena did not join."},
    )
    meeting.refresh_from_db()
    assert meeting.outcome == ActivityOutcome.NO_SHOW and meeting.done_at
    assert "Lena did not join." in meeting.body
    rep_client.post(reverse("activity:cancel", args=[task.pk]), {"reason": "Not needed"})
    task.refresh_from_db()
    assert task.outcome == ActivityOutcome.CANCELLED
    html = rep_client.get(reverse("activity:detail", args=[task.pk])).content.decode()
    assert "Cancelled: Send offer" in html and "Not needed" in html
    # done work cannot be completed twice: the page says so
    response = rep_client.post(reverse("activity:complete", args=[meeting.pk]), follow=True)
    assert "already done or cancelled" in response.content.decode()


def test_add_to_calendar_downloads_the_ics(rep: Any, rep_client: Any, bakery_deal: Any):
    start = dt.datetime(2026, 10, 24, 10, tzinfo=BERLIN)
    meeting = _plan(rep, bakery_deal, starts_at=start, time_zone="Europe/Berlin")
    response = rep_client.get(reverse("activity:ics", args=[meeting.pk]))
    assert response["Content-Type"].startswith("text/calendar")
    (event,) = Calendar.from_ical(response.content).walk("VEVENT")
    assert event.decoded("dtstart") == start
    assert str(event["uid"]) == meeting.ics_uid


def test_quick_done_on_the_timeline_returns_the_updated_row(
    rep: Any, rep_client: Any, bakery_deal: Any
):
    call = _plan(rep, bakery_deal, kind=ActivityKind.CALL, subject="Call Lena")
    for url in (
        reverse("pipeline:deal_detail", args=[bakery_deal.pk]),
        reverse("people:contact_detail", args=[bakery_deal.contact.pk]),
        reverse("people:organization_detail", args=[bakery_deal.organization.pk]),
    ):
        html = rep_client.get(url).content.decode()
        assert (
            f'id="act-{call.pk}"' in html and reverse("activity:complete", args=[call.pk]) in html
        )
    response = rep_client.post(
        reverse("activity:complete", args=[call.pk]), {"outcome": "held"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert f'id="act-{call.pk}"' in html and "Done · Held" in html and "<html" not in html


def test_overdue_state_on_the_timeline(rep: Any, rep_client: Any, bakery_deal: Any):
    _plan(rep, bakery_deal, starts_at=timezone.now() - dt.timedelta(hours=2))
    html = rep_client.get(reverse("pipeline:deal_detail", args=[bakery_deal.pk])).content.decode()
    assert 'badge state overdue">Overdue' in html
    assert '<span class="badge overdue">overdue</span>' in html  # the next step is overdue


# Visibility ------------------------------------------------------------------------------------


def test_another_reps_activity_is_404_for_reading_and_every_action(
    rep: Any, bakery_deal: Any, outsider_client: Any
):
    meeting = _plan(rep, bakery_deal)
    for name in ("detail", "ics"):
        assert (
            outsider_client.get(reverse(f"activity:{name}", args=[meeting.pk])).status_code == 404
        )
    for name in ("complete", "cancel", "reschedule"):
        response = outsider_client.post(
            reverse(f"activity:{name}", args=[meeting.pk]),
            {"date": "2026-12-04", "start": "10:00", "time_zone": "UTC"},
        )
        assert response.status_code == 404
    meeting.refresh_from_db()
    assert meeting.is_open


def test_an_invited_colleague_sees_the_meeting_but_may_not_change_it(
    rep: Any, bakery_deal: Any, outsider: Any, outsider_client: Any
):
    meeting = _plan(rep, bakery_deal, attendee_users=[outsider])
    assert list(activity_visible_to(outsider)) == [meeting]
    assert outsider_client.get(reverse("activity:detail", args=[meeting.pk])).status_code == 200
    response = outsider_client.post(reverse("activity:complete", args=[meeting.pk]), follow=True)
    assert "Only its owner" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.is_open


def test_a_manager_sees_and_completes_the_teams_work_an_outsider_does_not(
    rep: Any, bakery_deal: Any, manager: Any, manager_client: Any, outsider: Any
):
    meeting = _plan(rep, bakery_deal)
    assert meeting in activity_visible_to(manager)
    assert meeting not in activity_visible_to(outsider)
    manager_client.post(reverse("activity:complete", args=[meeting.pk]), {"outcome": "held"})
    meeting.refresh_from_db()
    assert meeting.outcome == ActivityOutcome.HELD


def test_a_private_deals_meeting_does_not_show_through_a_shared_organization(
    rep: Any, teammate: Any, outsider: Any
):
    shared = OrganizationFactory(name="Shared Co", owner=None)
    private = DealFactory(owner=teammate, organization=shared)
    on_deal = _plan(teammate, private, organization=shared)
    on_org = _plan(teammate, organization=shared, subject="Org visit")
    visible = set(activity_visible_to(outsider))
    assert on_org in visible and on_deal not in visible
    contact = ContactFactory(owner=outsider, organization=None)
    on_contact = _plan(teammate, contact=contact, subject="Contact call")
    assert on_contact in set(activity_visible_to(outsider))


def test_trashed_deals_hide_their_activities_from_others_and_everyone_logged_out(
    rep: Any, bakery_deal: Any, manager: Any
):
    from django.contrib.auth.models import AnonymousUser

    meeting = _plan(rep, bakery_deal, owner=rep)
    Deal.objects.filter(pk=bakery_deal.pk).update(deleted_at=timezone.now())
    assert meeting not in activity_visible_to(manager)
    assert meeting in activity_visible_to(rep)  # still their own work
    assert list(activity_visible_to(AnonymousUser())) == []
