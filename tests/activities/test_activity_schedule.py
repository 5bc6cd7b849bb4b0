"""Scheduling, rescheduling, completing and cancelling planned work, and the invites it sends."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from closeloop.activities.choices import ActivityKind, ActivityOutcome
from closeloop.activities.invites import activity_ics
from closeloop.activities.models import Activity
from closeloop.activities.selectors import activity_busy_intervals
from closeloop.activities.services import (
    activity_cancel,
    activity_complete,
    activity_reschedule,
    activity_schedule,
)
from closeloop.core.exceptions import DomainError
from closeloop.messaging.models import Message
from closeloop.pipeline.models import Pipeline, Stage
from tests.factories import DealFactory
from tests.mail import Server
from tests.worker import run_worker

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# The Saturday before Europe's clocks go back (25 October 2026, 03:00 CEST → 02:00 CET)
BEFORE_DST_END = dt.datetime(2026, 10, 24, 10, 0, tzinfo=BERLIN)
AFTER_DST_END = dt.datetime(2026, 10, 26, 10, 0, tzinfo=BERLIN)


def _demo(actor: Any, deal: Any, **kwargs: Any) -> Activity:
    return activity_schedule(
        actor=actor,
        kind=ActivityKind.DEMO,
        subject="Product demo",
        starts_at=kwargs.pop("starts_at", BEFORE_DST_END),
        ends_at=kwargs.pop("ends_at", BEFORE_DST_END + dt.timedelta(hours=1)),
        time_zone="Europe/Berlin",
        location="https://meet.example.com/demo",
        deal=deal,
        attendee_contacts=[deal.contact],
        **kwargs,
    )


def _event(ics: bytes) -> Any:
    calendar = Calendar.from_ical(ics)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def _listed(value: Any) -> list[Any]:
    """icalendar gives one attendee as itself and several as a list."""
    return value if isinstance(value, list) else [value]


def test_a_demo_lands_on_the_deal_contact_and_organization_timelines(rep: Any, bakery_deal: Any):
    demo = _demo(rep, bakery_deal, send_invites=False)
    assert demo.owner == rep and demo.is_open
    assert demo.contact == bakery_deal.contact
    assert demo.organization == bakery_deal.organization
    assert [a.email for a in demo.attendees.all()] == ["lena@bakery.example"]


def test_the_invite_keeps_wall_clock_time_across_the_dst_change(rep: Any, bakery_deal: Any):
    demo = _demo(rep, bakery_deal, send_invites=False)
    calendar, event = _event(activity_ics(demo))
    assert str(calendar["method"]) == "REQUEST"
    start = event.decoded("dtstart")
    assert start == BEFORE_DST_END and start.utcoffset() == dt.timedelta(hours=2)
    assert event["dtstart"].params["TZID"] == "Europe/Berlin"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert str(event["organizer"]) == f"mailto:{rep.email}"
    (attendee,) = _listed(event.get("attendee"))
    assert str(attendee) == "mailto:lena@bakery.example"
    assert (attendee.params["PARTSTAT"], attendee.params["RSVP"]) == ("NEEDS-ACTION", "TRUE")

    moved = activity_reschedule(
        actor=rep, activity=demo, starts_at=AFTER_DST_END, send_invites=False
    )
    _calendar, event = _event(activity_ics(moved))
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    # 10:00 in Berlin on both days, though one is summer time (+02:00) and one is not (+01:00)
    assert (start.hour, start.utcoffset()) == (10, dt.timedelta(hours=1))
    assert end - start == dt.timedelta(hours=1), "a moved meeting keeps its length"
    assert str(event["uid"]) == demo.ics_uid and int(event["sequence"]) == 1


def test_cancelling_sends_method_cancel_with_the_same_uid_and_a_higher_sequence(
    rep: Any, bakery_deal: Any
):
    demo = _demo(rep, bakery_deal, send_invites=False)
    activity_reschedule(actor=rep, activity=demo, starts_at=AFTER_DST_END, send_invites=False)
    cancelled = activity_cancel(
        actor=rep, activity=demo, reason="Customer asked", send_invites=False
    )
    calendar, event = _event(activity_ics(cancelled, "CANCEL"))
    assert str(calendar["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == demo.ics_uid and int(event["sequence"]) == 2
    assert cancelled.outcome == ActivityOutcome.CANCELLED and not cancelled.is_open
    with pytest.raises(DomainError):
        activity_complete(actor=rep, activity=cancelled)


# db_worker closes a connection inside a transaction, which PostgreSQL does not survive
@pytest.mark.django_db(transaction=True)
def test_the_invite_arrives_with_its_ics_through_smtp(
    rep: Any, bakery_deal: Any, smtp_server: Server, django_capture_on_commit_callbacks: Any
):
    with django_capture_on_commit_callbacks(execute=True):
        demo = _demo(rep, bakery_deal)
    run_worker()
    (mail,) = smtp_server.recorder.messages()
    assert mail["To"] == "lena@bakery.example"
    assert (
        mail["Subject"]
        .strip()
        .startswith("Invitation: Product demo @ Saturday 24 October 2026, 10:00")
    )
    calendars = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    # inline (Outlook reads that one) and as invite.ics
    assert len(calendars) == 2
    assert any(p.get_filename() == "invite.ics" for p in calendars)
    assert all(p.get_param("method") == "REQUEST" for p in calendars)
    _calendar, event = _event(calendars[0].get_payload(decode=True))
    assert str(event["uid"]) == demo.ics_uid

    with django_capture_on_commit_callbacks(execute=True):
        activity_reschedule(actor=rep, activity=demo, starts_at=AFTER_DST_END)
    with django_capture_on_commit_callbacks(execute=True):
        activity_cancel(actor=rep, activity=demo)
    run_worker()
    update, cancel = smtp_server.recorder.messages()[1:]
    assert (
        update["Subject"].strip().startswith("Updated invitation: Product demo @ Monday 26 October")
    )
    assert cancel["Subject"].strip().startswith("Cancelled: Product demo")
    cancel_ics = next(p for p in cancel.walk() if p.get_filename() == "cancel.ics")
    assert cancel_ics.get_param("method") == "CANCEL"
    _calendar, event = _event(cancel_ics.get_payload(decode=True))
    assert (str(event["uid"]), int(event["sequence"])) == (demo.ics_uid, 2)


# db_worker closes a connection inside a transaction, which PostgreSQL does not survive
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_schedule_mails_nobody(rep: Any, bakery_deal: Any, smtp_server: Server):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        _demo(rep, bakery_deal)
        raise RuntimeError("the request failed after scheduling")
    run_worker()
    assert Message.objects.count() == 0 and smtp_server.recorder.messages() == []


def test_scheduling_a_demo_can_move_the_deal_forward_to_the_demo_stage(rep: Any, bakery_deal: Any):
    pipeline = Pipeline.objects.create(name="Installations")
    qualified, demo_stage, _proposal = (
        Stage.objects.create(pipeline=pipeline, name=name, position=position, slot=position)
        for position, name in enumerate(["Qualified", "Site visit / demo", "Proposal"])
    )
    deal = DealFactory(owner=rep, stage=qualified, contact=bakery_deal.contact)
    _demo(rep, deal, send_invites=False, move_deal_to_demo=True)
    deal.refresh_from_db()
    assert deal.stage == demo_stage
    assert deal.stage_changes.filter(from_stage=qualified, to_stage=demo_stage).count() == 1

    # a deal already past its demo stage is not moved back
    _demo(rep, bakery_deal, send_invites=False, move_deal_to_demo=True)
    bakery_deal.refresh_from_db()
    assert bakery_deal.stage.name == "Proposal"


def test_completing_records_the_outcome_and_notes(rep: Any, bakery_deal: Any):
    demo = _demo(rep, bakery_deal, send_invites=False)
    done = activity_complete(actor=rep, activity=demo, outcome="no_show", notes="Nobody came")
    assert done.done_at is not None and done.outcome == ActivityOutcome.NO_SHOW
    assert "Nobody came" in done.body
    log = Activity.objects.filter(deal=bakery_deal, kind=ActivityKind.CHANGE).first()
    assert log is not None and log.subject == "Done (no-show): Product demo"
    with pytest.raises(DomainError, match="held, no-show or rescheduled"):
        activity_complete(
            actor=rep, activity=_demo(rep, bakery_deal, send_invites=False), outcome="cancelled"
        )


def test_only_the_owner_their_manager_or_an_admin_may_change_it(
    rep: Any, teammate: Any, manager: Any, outsider: Any, admin: Any, bakery_deal: Any
):
    demo = _demo(rep, bakery_deal, send_invites=False)
    for stranger in (teammate, outsider):
        with pytest.raises(DomainError, match="Only its owner"):
            activity_cancel(actor=stranger, activity=demo, send_invites=False)
    activity_reschedule(actor=manager, activity=demo, starts_at=AFTER_DST_END, send_invites=False)
    activity_complete(actor=admin, activity=demo)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"ends_at": BEFORE_DST_END - dt.timedelta(minutes=1)}, "ends_at"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"starts_at": dt.datetime(2026, 10, 24, 10, 0)}, "starts_at"),
        ({"kind": ActivityKind.NOTE}, "kind"),
    ],
)
def test_bad_input_names_the_field(rep: Any, bakery_deal: Any, change: dict, field: str):
    arguments = {
        "actor": rep,
        "kind": ActivityKind.MEETING,
        "subject": "Call",
        "starts_at": BEFORE_DST_END,
        "deal": bakery_deal,
        "send_invites": False,
        **change,
    }
    with pytest.raises(DomainError) as error:
        activity_schedule(**arguments)
    assert error.value.field == field
    assert not Activity.objects.filter(due_at__isnull=False).exists()


def test_busy_intervals_cover_owned_and_attended_open_work(
    rep: Any, teammate: Any, bakery_deal: Any
):
    demo = _demo(rep, bakery_deal, send_invites=False, attendee_users=[teammate])
    task = activity_schedule(
        actor=rep,
        kind=ActivityKind.TASK,
        subject="Send the quote",
        starts_at=AFTER_DST_END,
        deal=bakery_deal,
    )
    window = (BEFORE_DST_END - dt.timedelta(days=1), AFTER_DST_END + dt.timedelta(days=1))
    assert activity_busy_intervals(user=rep, start=window[0], end=window[1]) == [
        (demo.due_at, demo.ends_at),
        (task.due_at, task.due_at + dt.timedelta(minutes=30)),
    ]
    assert activity_busy_intervals(user=teammate, start=window[0], end=window[1]) == [
        (demo.due_at, demo.ends_at)
    ]
    activity_cancel(actor=rep, activity=demo, send_invites=False)
    assert activity_busy_intervals(user=teammate, start=window[0], end=window[1]) == []
