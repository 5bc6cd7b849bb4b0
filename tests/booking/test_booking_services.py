"""Booking a rep's time: the visitor's record, the meeting, the race, turns, links."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.utils import timezone

from closeloop.activities.booking.models import Booking
from closeloop.activities.booking.services import (
    MeetingTypeInput,
    SlotTaken,
    TokenExpired,
    TokenInvalid,
    availability_set,
    booking_cancel,
    booking_create,
    booking_for_token,
    booking_page_save,
    booking_reschedule,
    booking_token,
    meeting_type_save,
)
from closeloop.activities.booking.slots import WeeklyWindow
from closeloop.activities.models import Notification
from closeloop.activities.services import activity_cancel, activity_schedule
from closeloop.core.exceptions import DomainError
from closeloop.leads.models import Lead
from closeloop.pipeline.models import Pipeline, Stage
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, UserFactory

from .conftest import free_starts, hours, visitor


@pytest.fixture(autouse=True)
def _monday_morning():
    """The tests pick the n-th free slot from now and look an hour around it: from a fixed
    Monday morning that hour is always inside the working day (late in the evening the slot
    could be the day's last, and the tests failed depending on when they ran)."""
    import time_machine

    with time_machine.travel(dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC), tick=True):
        yield


pytestmark = pytest.mark.django_db


def book(meeting_type, start, **kwargs):
    return booking_create(meeting_type=meeting_type, starts_at=start, visitor=visitor(**kwargs))


def test_a_new_visitor_becomes_a_lead_of_the_rep_with_a_demo_on_their_calendar(berlin_rep, demo):
    start = free_starts(demo)[0]
    booking = book(demo, start)

    lead = Lead.objects.get(email="vera@visitor.example")
    assert (lead.first_name, lead.last_name, lead.company_name) == (
        "Vera",
        "Visitor",
        "Visitor GmbH",
    )
    assert lead.owner == berlin_rep
    assert lead.source.name == "Booking page"
    activity = booking.activity
    assert activity.kind == "demo"
    assert activity.owner == berlin_rep
    assert activity.lead == lead
    assert activity.due_at == start
    assert activity.ends_at == start + dt.timedelta(minutes=30)
    assert activity.location == "https://meet.example/rita"
    assert [a.lead for a in activity.attendees.all()] == [lead]
    assert booking.assigned_to == berlin_rep
    assert booking.visitor_time_zone == "America/New_York"
    assert start not in free_starts(demo)  # the time is taken now
    [note] = Notification.objects.filter(recipient=berlin_rep)
    assert note.title == "New booking: Product demo: Vera Visitor with Rita Rep"
    assert note.url == f"/leads/{lead.pk}/"


def test_a_known_contact_is_the_attendee_and_the_meeting_goes_on_their_open_deal(berlin_rep, demo):
    contact = ContactFactory(first_name="Vera", last_name="Known", owner=berlin_rep)
    ContactEmailFactory(contact=contact, email="vera@visitor.example")
    deal = DealFactory(title="Visitor rollout", owner=berlin_rep, contact=contact)
    booking = book(demo, free_starts(demo)[0], email="VERA@visitor.example")

    assert not Lead.objects.exists()  # nobody new: the duplicate rules found her
    activity = booking.activity
    assert activity.contact == contact and activity.deal == deal
    assert [a.contact for a in activity.attendees.all()] == [contact]


def test_a_booked_demo_moves_the_open_deal_forward_to_the_demo_stage(berlin_rep, demo):
    pipeline = Pipeline.objects.create(name="Installations")
    qualified, demo_stage = (
        Stage.objects.create(pipeline=pipeline, name=name, position=position, slot=position)
        for position, name in enumerate(["Qualified", "Demo"])
    )
    contact = ContactFactory(first_name="Vera", last_name="Known", owner=berlin_rep)
    ContactEmailFactory(contact=contact, email="vera@visitor.example")
    deal = DealFactory(owner=berlin_rep, contact=contact, stage=qualified)
    book(demo, free_starts(demo)[0])
    deal.refresh_from_db()
    assert deal.stage == demo_stage
    assert deal.stage_changes.filter(from_stage=qualified, to_stage=demo_stage).exists()


def test_the_invite_goes_to_the_address_the_visitor_typed(berlin_rep, demo):
    contact = ContactFactory(first_name="Vera", last_name="Known", owner=berlin_rep)
    ContactEmailFactory(contact=contact, email="vera@work.example", is_primary=True)
    ContactEmailFactory(contact=contact, email="vera@visitor.example", is_primary=False)
    booking = book(demo, free_starts(demo)[0])
    assert [(a.contact, a.email) for a in booking.activity.attendees.all()] == [
        (contact, "vera@visitor.example")
    ]


def test_a_known_lead_is_the_attendee(berlin_rep, demo):
    lead = Lead.objects.create(first_name="Vera", last_name="Lead", email="vera@visitor.example")
    booking = book(demo, free_starts(demo)[0])
    assert Lead.objects.count() == 1
    assert booking.activity.lead == lead
    assert [a.lead for a in booking.activity.attendees.all()] == [lead]


def test_the_second_booking_of_a_slot_is_told_to_pick_another(berlin_rep, demo):
    start = free_starts(demo)[0]
    book(demo, start)
    with pytest.raises(SlotTaken) as caught:
        book(demo, start, email="other@visitor.example")
    assert caught.value.message == "This time was just taken. Please pick another slot."
    assert Booking.objects.count() == 1
    assert not Lead.objects.filter(email="other@visitor.example").exists()


def test_a_time_that_was_never_offered_cannot_be_booked(berlin_rep, demo):
    start = free_starts(demo)[0] + dt.timedelta(minutes=7)  # off the grid
    with pytest.raises(SlotTaken):
        book(demo, start)
    too_soon = timezone.now() + dt.timedelta(minutes=10)  # inside the hour of notice
    with pytest.raises(SlotTaken):
        book(demo, too_soon.replace(second=0, microsecond=0))


def test_the_reps_own_meetings_are_not_offered(berlin_rep, demo):
    start = free_starts(demo)[5]
    activity_schedule(
        actor=berlin_rep, kind="meeting", subject="Board meeting", starts_at=start,
        ends_at=start + dt.timedelta(hours=1), owner=berlin_rep, deal=DealFactory(owner=berlin_rep),
        send_invites=False,
    )  # fmt: skip
    left = free_starts(demo)
    assert start not in left and start + dt.timedelta(minutes=30) not in left
    assert start + dt.timedelta(hours=1) in left
    with pytest.raises(SlotTaken):
        book(demo, start)


def test_buffers_keep_time_around_existing_meetings(berlin_rep, demo):
    meeting_type_save(
        actor=None, page=demo.page, meeting_type=demo,
        data=MeetingTypeInput(name="Product demo", kind="demo", duration_minutes=30,
                              buffer_before_minutes=30, buffer_after_minutes=30, notice_hours=1),
    )  # fmt: skip
    start = free_starts(demo)[8]
    book(demo, start)
    left = free_starts(demo)
    # Each new meeting keeps 30 free minutes on both sides of the booked one.
    for blocked in (-30, 0, 30):
        assert start + dt.timedelta(minutes=blocked) not in left, blocked
    assert start - dt.timedelta(minutes=60) in left and start + dt.timedelta(minutes=60) in left


def test_team_pages_take_turns_among_members_free_at_the_time(team, manager, berlin_rep):
    ann = UserFactory(full_name="Ann", teams=[team], time_zone="Europe/Berlin")
    bob = UserFactory(full_name="Bob", teams=[team], time_zone="America/New_York")
    for user in (ann, bob):
        hours(user)
    # The manager and the rep fixture are members too; give them no hours: never free.
    availability_set(actor=None, user=berlin_rep, windows=[])
    page = booking_page_save(actor=manager, team=team, slug="north", title="Talk to North")
    call = meeting_type_save(
        actor=manager, page=page,
        data=MeetingTypeInput(name="Intro call", duration_minutes=30, notice_hours=1),
    )  # fmt: skip
    first, second = free_starts(call)[:2]
    assigned = [
        book(call, first, email="a@v.example").assigned_to,
        book(call, first, email="b@v.example").assigned_to,  # the same time: the other one
        book(call, second, email="c@v.example").assigned_to,  # Ann was booked first: her turn
    ]
    assert assigned == [ann, bob, ann]
    with pytest.raises(SlotTaken):  # both busy at `first` now
        book(call, first, email="d@v.example")


def test_bad_visitor_details_name_the_field(berlin_rep, demo):
    start = free_starts(demo)[0]
    cases = {
        "name": {"name": "  "},
        "email": {"email": "not-an-email"},
        "tz": {"time_zone": "Mars/Olympus"},
        "company": {"company": "x" * 201},
    }
    for field, bad in cases.items():
        with pytest.raises(DomainError) as caught:
            book(demo, start, **bad)
        assert caught.value.field == field
    assert not Booking.objects.exists()


def test_manage_tokens_are_signed_and_die_with_the_meeting(berlin_rep, demo):
    start = free_starts(demo)[0]
    booking = book(demo, start)
    token = booking_token(booking)
    assert booking_for_token(token=token) == booking
    for forged in [token[:-2] + "xx", signing.dumps({"b": booking.pk}, salt="other"), "", "abc"]:
        with pytest.raises(TokenInvalid):
            booking_for_token(token=forged)
    with pytest.raises(TokenInvalid):  # signed, but no such booking
        booking_for_token(token=signing.dumps({"b": 999_999}, salt="closeloop.booking.manage"))
    with pytest.raises(TokenExpired):
        booking_for_token(token=token, now=start + dt.timedelta(minutes=30))
    booking_cancel(booking=booking)
    with pytest.raises(TokenExpired):
        booking_for_token(token=token)


def test_a_meeting_the_rep_cancels_in_the_crm_ends_its_links(berlin_rep, demo):
    booking = book(demo, free_starts(demo)[0])
    activity_cancel(actor=berlin_rep, activity=booking.activity)
    with pytest.raises(TokenExpired):
        booking_for_token(token=booking_token(booking))


def test_reschedule_moves_the_meeting_and_keeps_its_uid(berlin_rep, demo):
    first, *_, later = free_starts(demo)[:10]
    booking = book(demo, first)
    uid, sequence = booking.activity.ics_uid, booking.activity.ics_sequence
    booking_reschedule(booking=booking, starts_at=later)
    booking.activity.refresh_from_db()
    assert booking.activity.due_at == later
    assert booking.activity.ends_at == later + dt.timedelta(minutes=30)
    assert booking.activity.ics_uid == uid and booking.activity.ics_sequence == sequence + 1
    assert first in free_starts(demo) and later not in free_starts(demo)


def test_reschedule_to_a_neighbouring_time_ignores_the_meeting_itself(berlin_rep, demo):
    first = free_starts(demo)[0]
    booking = book(demo, first)
    booking_reschedule(booking=booking, starts_at=first + dt.timedelta(minutes=30))
    booking.activity.refresh_from_db()
    assert booking.activity.due_at == first + dt.timedelta(minutes=30)


def test_reschedule_into_a_taken_time_is_refused(berlin_rep, demo):
    first, second = free_starts(demo)[:2]
    booking = book(demo, first)
    book(demo, second, email="other@visitor.example")
    with pytest.raises(SlotTaken):
        booking_reschedule(booking=booking, starts_at=second)


def test_cancel_cancels_the_meeting_and_frees_the_time(berlin_rep, demo):
    start = free_starts(demo)[0]
    booking = book(demo, start)
    booking_cancel(booking=booking)
    booking.activity.refresh_from_db()
    assert booking.cancelled_at is not None
    assert booking.activity.outcome == "cancelled"
    assert start in free_starts(demo)


def test_an_inactive_page_or_type_takes_no_bookings(berlin_rep, demo):
    start = free_starts(demo)[0]
    page = demo.page
    booking_page_save(actor=berlin_rep, page=page, slug=page.slug, title=page.title, active=False)
    demo.refresh_from_db()
    with pytest.raises(DomainError, match="can no longer be booked"):
        book(demo, start)


def test_weekly_hours_are_checked(berlin_rep):
    with pytest.raises(DomainError) as caught:
        availability_set(
            actor=berlin_rep, user=berlin_rep,
            windows=[WeeklyWindow(0, dt.time(9), dt.time(12)),
                     WeeklyWindow(0, dt.time(11), dt.time(14))],
        )  # fmt: skip
    assert "overlap" in caught.value.message
    with pytest.raises(DomainError) as caught:
        availability_set(
            actor=berlin_rep, user=berlin_rep, windows=[WeeklyWindow(1, dt.time(12), dt.time(9))]
        )
    assert caught.value.field == "end_time"


def test_only_the_owner_or_a_manager_of_the_team_edits_a_page(berlin_rep, teammate, outsider, team):
    page = booking_page_save(actor=berlin_rep, owner=berlin_rep, slug="rita", title="Rita")
    with pytest.raises(DomainError):
        booking_page_save(actor=teammate, page=page, slug="mine", title="Mine")
    with pytest.raises(DomainError):
        booking_page_save(actor=berlin_rep, team=team, slug="north", title="North")
    with pytest.raises(DomainError) as caught:
        booking_page_save(actor=outsider, owner=outsider, slug="Rita", title="Otto")
    assert caught.value.field == "slug"
