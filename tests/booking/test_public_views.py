"""The public booking pages through HTTP: slots, the form, CSRF, limits, links, escaping."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from closeloop.activities.booking.models import Booking
from closeloop.activities.booking.services import booking_create, booking_token
from closeloop.leads.models import Lead

from .conftest import free_starts, visitor

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")


def slots_url(demo, **query: str) -> str:
    url = reverse("booking:slots", args=[demo.page.slug, demo.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def book_url(demo) -> str:
    return reverse("booking:book", args=[demo.page.slug, demo.pk])


def post_booking(client: Client, demo, start: dt.datetime, **values: str):
    data = {
        "start": start.isoformat(),
        "tz": "America/New_York",
        "name": "Vera Visitor",
        "email": "vera@visitor.example",
        "company": "Visitor GmbH",
        "question": "Does it do X?",
    } | values
    return client.post(book_url(demo), data)


def test_the_page_lists_meeting_types_without_login(client, demo):
    response = client.get(reverse("booking:page", args=["rita"]))
    assert response.status_code == 200
    assert b"Book a demo with Rita" in response.content
    assert slots_url(demo).encode() in response.content


def test_unknown_and_inactive_pages_look_the_same(client, demo):
    assert client.get(reverse("booking:page", args=["nobody"])).status_code == 404
    demo.page.active = False
    demo.page.save()
    assert client.get(reverse("booking:page", args=["rita"])).status_code == 404
    assert client.get(slots_url(demo)).status_code == 404


# The rate limit's first hit of a window (its counting statement and the prune of old windows),
# the page, its meeting type, the rep's hours, their last booking and their busy times.
SLOT_PAGE_QUERIES = 7


def test_slots_are_shown_in_the_visitors_zone(client, demo, django_assert_num_queries):
    start = free_starts(demo)[0]
    with django_assert_num_queries(SLOT_PAGE_QUERIES):
        response = client.get(slots_url(demo, tz="America/New_York"))
    assert response.status_code == 200
    local = start.astimezone(NEW_YORK)
    assert local.strftime("%H:%M").encode() in response.content
    assert b'<option value="America/New_York" selected>' in response.content
    link = "start=" + quote(local.isoformat(), safe="")  # 08:30-05:00: the visitor's own clock
    assert link.encode() in response.content


def test_the_slot_list_costs_the_same_queries_for_a_busy_week(
    client, demo, django_assert_num_queries
):
    for n, start in enumerate(free_starts(demo)[:6:2]):
        booking_create(
            meeting_type=demo, starts_at=start, visitor=visitor(email=f"v{n}@v.example")
        )  # fmt: skip
    with django_assert_num_queries(SLOT_PAGE_QUERIES):
        assert client.get(slots_url(demo, tz="Europe/Berlin")).status_code == 200


def test_a_bad_zone_falls_back_and_the_browser_is_asked(client, demo, settings):
    response = client.get(slots_url(demo, tz="../../etc/passwd"))
    assert response.status_code == 200
    assert b"data-tz-auto" in response.content  # the script will ask the browser
    assert f'<option value="{settings.TIME_ZONE}" selected>'.encode() in response.content


def test_next_and_previous_weeks(client, demo):
    response = client.get(slots_url(demo, tz="UTC"))
    assert b"Next 7 days" in response.content and b"Previous 7 days" not in response.content
    day = response.context["day"]
    later = (dt.date.fromisoformat(day) + dt.timedelta(days=7)).isoformat()
    response = client.get(slots_url(demo, tz="UTC", day=later))
    assert b"Previous 7 days" in response.content
    assert response.context["days"][0][0].isoformat() == later


def test_booking_through_the_form(client, berlin_rep, demo):
    start = free_starts(demo)[0]
    form = client.get(book_url(demo) + f"?start={start.isoformat().replace('+', '%2B')}&tz=UTC")
    assert form.status_code == 200 and b"Your email" in form.content
    response = post_booking(client, demo, start)
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("booking:manage", args=[booking_token(booking)])
    done = client.get(response["Location"])
    assert b"You are booked" in done.content
    assert start.astimezone(NEW_YORK).strftime("%H:%M").encode() in done.content


def test_a_taken_slot_sends_the_visitor_back_to_pick_another(client, demo):
    start = free_starts(demo)[0]
    post_booking(client, demo, start)
    response = post_booking(client, demo, start, email="late@visitor.example")
    assert response.status_code == 409
    assert b"This time was just taken. Please pick another slot." in response.content
    assert Booking.objects.count() == 1


def test_bad_input_is_shown_on_the_field(client, demo):
    response = post_booking(client, demo, free_starts(demo)[0], email="nope")
    assert response.status_code == 400
    assert b"valid email address" in response.content
    assert not Booking.objects.exists()


def test_the_form_needs_the_csrf_token(demo):
    strict = Client(enforce_csrf_checks=True)
    response = post_booking(strict, demo, free_starts(demo)[0])
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_visitor_text_is_escaped_everywhere_it_is_shown(client, rep_client, demo):
    script = "<script>alert(1)</script>"
    post_booking(client, demo, free_starts(demo)[0], name=f"Eve {script}", question=script)
    lead = Lead.objects.get()
    page = rep_client.get(reverse("leads:lead_detail", args=[lead.pk]))
    assert page.status_code == 200
    assert script.encode() not in page.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.content
    again = post_booking(client, demo, free_starts(demo)[0], name=script, email="bad")
    assert script.encode() not in again.content


def test_public_pages_are_rate_limited_per_address(client, demo, settings):
    settings.BOOKING_VIEW_RATE_PER_IP = 2
    settings.BOOKING_RATE_PER_IP = 1
    url = slots_url(demo, tz="UTC")
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    limited = client.get(url)
    assert limited["Retry-After"] and b"Too many requests" in limited.content
    start = free_starts(demo)[0]
    assert post_booking(client, demo, start).status_code == 302
    assert post_booking(client, demo, start, email="x@v.example").status_code == 429


def test_tampered_and_expired_links_reveal_nothing(client, demo):
    start = free_starts(demo)[0]
    booking = booking_create(meeting_type=demo, starts_at=start, visitor=visitor())
    token = booking_token(booking)
    for name in ("manage", "reschedule", "cancel"):
        response = client.get(reverse(f"booking:{name}", args=[token[:-3] + "abc"]))
        assert response.status_code == 400
        assert b"not valid" in response.content and b"Vera" not in response.content
    booking.activity.ends_at = booking.activity.due_at = start - dt.timedelta(days=1)
    booking.activity.save()
    response = client.get(reverse("booking:reschedule", args=[token]))
    assert response.status_code == 410
    assert b"expired" in response.content and b"Vera" not in response.content


def test_reschedule_and_cancel_through_the_links(client, demo):
    first, second = free_starts(demo)[:2]
    booking = booking_create(meeting_type=demo, starts_at=first, visitor=visitor())
    token = booking_token(booking)
    page = client.get(reverse("booking:reschedule", args=[token]))
    assert page.status_code == 200 and b"Pick a new time" in page.content
    response = client.post(
        reverse("booking:reschedule", args=[token]), {"start": second.isoformat()}
    )
    assert response.status_code == 302
    booking.activity.refresh_from_db()
    assert booking.activity.due_at == second
    assert b"Cancel this meeting?" in client.get(reverse("booking:cancel", args=[token])).content
    response = client.post(reverse("booking:cancel", args=[token]))
    assert b"The meeting is cancelled" in response.content
    assert client.get(reverse("booking:manage", args=[token])).status_code == 410
