"""The lost reasons settings page through the HTTP client."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from closeloop.pipeline.models import LostReason
from closeloop.pipeline.selectors import lost_reason_choices
from tests.factories import lost_reason

pytestmark = pytest.mark.django_db

PAGE = reverse("settings:lost_reasons")


def _update(reason: LostReason) -> str:
    return reverse("settings:lost_reason_update", args=[reason.pk])


def test_the_page_lists_the_reasons(manager_client):
    response = manager_client.get(PAGE)
    assertContains(response, "<title>Lost reasons · Closeloop</title>")
    for name in ("Price", "Competitor", "No budget", "Timing"):
        assertContains(response, f'value="{name}"')
    assertContains(response, ">Retire</button>", count=LostReason.objects.count())


def test_the_page_says_when_there_are_no_reasons(manager_client):
    LostReason.objects.all().delete()
    assertContains(manager_client.get(PAGE), "No lost reasons yet")


def test_adding_a_reason(manager_client):
    response = manager_client.post(
        reverse("settings:lost_reason_create"), {"name": "Went in-house"}, follow=True
    )
    assertContains(response, "“Went in-house” added to the lost reasons.")
    assert lost_reason_choices().filter(name="Went in-house").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [("price", "“price” is already in the list."), ("", "This field is required.")],
)
def test_adding_a_bad_reason_shows_why(manager_client, name, message):
    count = LostReason.objects.count()
    response = manager_client.post(reverse("settings:lost_reason_create"), {"name": name})
    assertContains(response, message)
    assert LostReason.objects.count() == count


def test_renaming_a_reason(admin_client_):
    reason = lost_reason("Price")
    response = admin_client_.post(_update(reason), {"name": "Too expensive", "is_active": "true"},
                                  follow=True)  # fmt: skip
    assertContains(response, "Reason “Too expensive” saved.")
    reason.refresh_from_db()
    assert (reason.name, reason.is_active) == ("Too expensive", True)


def test_renaming_to_a_taken_name_shows_why(admin_client_):
    reason = lost_reason("Price")
    response = admin_client_.post(
        _update(reason), {"name": "Timing", "is_active": "true"}, follow=True
    )
    assertContains(response, "“Timing” is already in the list.")
    reason.refresh_from_db()
    assert reason.name == "Price"


def test_retiring_and_reactivating_a_reason(manager_client):
    reason = lost_reason("Timing")
    response = manager_client.post(
        _update(reason), {"name": "Timing", "is_active": "false"}, follow=True
    )
    assertContains(response, "“Timing” is retired: it is no longer offered.")
    assertContains(response, "Retired")
    assertContains(response, "Reactivate")
    assert reason not in lost_reason_choices()

    response = manager_client.post(
        _update(reason), {"name": "Timing", "is_active": "true"}, follow=True
    )
    assertContains(response, "“Timing” is offered again.")
    assert reason in lost_reason_choices()


def test_renaming_a_retired_reason_keeps_it_retired(manager_client):
    reason = lost_reason("Timing")
    manager_client.post(_update(reason), {"name": "Timing", "is_active": "false"})
    html = manager_client.get(PAGE).content.decode()
    # send exactly what the page's rename form for that reason sends
    form = re.search(
        rf'<form[^>]*action="{_update(reason)}" class="row-form">(.*?)</form>', html, re.S
    )
    sent = dict(re.findall(r'<input type="\w+" name="(\w+)" value="([^"]*)"', form.group(1)))
    sent["name"] = "Bad timing"
    response = manager_client.post(_update(reason), sent, follow=True)
    assertContains(response, "Reason “Bad timing” saved.")
    reason.refresh_from_db()
    assert (reason.name, reason.is_active) == ("Bad timing", False)
