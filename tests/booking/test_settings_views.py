"""Settings → Booking pages: a rep's page, meeting types and hours; managers' team pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from closeloop.activities.booking.models import AvailabilityRule, BookingPage, MeetingType
from closeloop.activities.booking.services import booking_create, booking_page_save

from .conftest import free_starts, visitor

pytestmark = pytest.mark.django_db


def test_a_rep_creates_their_page_and_sees_its_public_url(rep, rep_client):
    profile = rep_client.get(reverse("accounts:profile"))
    assert reverse("booking:settings").encode() in profile.content
    response = rep_client.get(reverse("booking:settings"))
    assert b"Create your booking page" in response.content
    assert b'href="/settings/"' not in response.content  # reps have no settings menu
    response = rep_client.post(
        reverse("booking:settings_page_new"),
        {"title": "Talk to Rita", "slug": "Rita Rep", "intro": "Hi!", "active": "on"},
    )
    page = BookingPage.objects.get()
    assert response.status_code == 302
    assert (page.owner, page.slug, page.active) == (rep, "rita-rep", True)
    overview = rep_client.get(reverse("booking:settings"))
    assert b"http://testserver/book/rita-rep/" in overview.content


def test_a_taken_address_is_named(rep_client, teammate):
    booking_page_save(actor=teammate, owner=teammate, slug="rita", title="Tom")
    response = rep_client.post(
        reverse("booking:settings_page_new"), {"title": "Rita", "slug": "rita", "active": "on"}
    )
    assert response.status_code == 200
    assert "The address “rita” is taken" in response.content.decode()


def test_meeting_types_are_added_and_checked(rep, rep_client):
    page = booking_page_save(actor=rep, owner=rep, slug="rita", title="Rita")
    url = reverse("booking:settings_type_new", args=[page.pk])
    fields = {
        "name": "Demo", "kind": "demo", "duration_minutes": "45", "location": "Zoom",
        "buffer_before_minutes": "10", "buffer_after_minutes": "5", "notice_hours": "12",
        "horizon_days": "14", "active": "on",
    }  # fmt: skip
    assert rep_client.post(url, fields | {"duration_minutes": "2"}).status_code == 200
    assert not MeetingType.objects.exists()
    assert rep_client.post(url, fields).status_code == 302
    item = MeetingType.objects.get()
    assert (item.duration_minutes, item.kind, item.notice_hours) == (45, "demo", 12)
    listing = rep_client.get(reverse("booking:settings_page", args=[page.pk]))
    assert b"Demo" in listing.content


def test_weekly_hours_are_saved_and_checked(rep, rep_client):
    url = reverse("booking:settings_hours")
    assert rep_client.get(url).status_code == 200
    response = rep_client.post(
        url, {"d0_0_start": "09:00", "d0_0_end": "12:00", "d0_1_start": "13:00",
              "d0_1_end": "17:00", "d4_0_start": "10:00", "d4_0_end": "14:00"},
    )  # fmt: skip
    assert response.status_code == 302
    assert [(r.weekday, r.start_time, r.end_time) for r in AvailabilityRule.objects.all()] == [
        (0, dt.time(9), dt.time(12)),
        (0, dt.time(13), dt.time(17)),
        (4, dt.time(10), dt.time(14)),
    ]
    response = rep_client.post(url, {"d1_0_start": "15:00", "d1_0_end": "09:00"})
    assert response.status_code == 200
    assert b"the end must be after the start" in response.content
    response = rep_client.post(url, {"d1_0_start": "15:00"})
    assert b"give both a start and an end" in response.content
    assert AvailabilityRule.objects.count() == 3


def test_a_rep_cannot_reach_another_page(rep_client, teammate, team):
    page = booking_page_save(actor=teammate, owner=teammate, slug="tom", title="Tom")
    assert rep_client.get(reverse("booking:settings_page", args=[page.pk])).status_code == 404
    url = reverse("booking:settings_type_new", args=[page.pk])
    assert rep_client.post(url, {"name": "Mine"}).status_code == 404
    url = reverse("booking:settings_page_new") + f"?team={team.pk}"
    assert rep_client.get(url).status_code == 404


def test_a_manager_creates_their_teams_page(manager_client, team, other_team):
    overview = manager_client.get(reverse("booking:settings"))
    assert b"Create a page for North" in overview.content
    assert b"South" not in overview.content
    url = reverse("booking:settings_page_new") + f"?team={team.pk}"
    response = manager_client.post(url, {"title": "Talk to North", "slug": "north", "active": "on"})
    assert response.status_code == 302
    assert BookingPage.objects.get().team == team
    other = reverse("booking:settings_page_new") + f"?team={other_team.pk}"
    assert manager_client.get(other).status_code == 404


def test_settings_need_a_login(client):
    response = client.get(reverse("booking:settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("model", ["bookingpage", "booking"])
def test_the_admin_lists_booking_records_read_only(admin_client_, model, demo):
    booking_create(meeting_type=demo, starts_at=free_starts(demo)[0], visitor=visitor())
    response = admin_client_.get(reverse(f"admin:activities_{model}_changelist"))
    assert response.status_code == 200
    assert b"Vera Visitor" in response.content or b"Book a demo with Rita" in response.content
    assert admin_client_.get(reverse(f"admin:activities_{model}_add")).status_code == 403
