"""Each user picks their time zone; every page then shows times in it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from closeloop.accounts.services import user_time_zone_update
from closeloop.core.exceptions import DomainError

pytestmark = pytest.mark.django_db


def test_a_user_sets_their_time_zone_on_the_profile_page(rep: Any, rep_client: Any):
    page = rep_client.get(reverse("accounts:profile"))
    assert b'<option value="Europe/Berlin">' in page.content
    response = rep_client.post(
        reverse("accounts:profile"), {"section": "time_zone", "time_zone": "Europe/Berlin"}
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.time_zone == "Europe/Berlin" and rep.zone.key == "Europe/Berlin"


def test_an_unknown_zone_is_refused_by_name(rep: Any, rep_client: Any):
    response = rep_client.post(
        reverse("accounts:profile"), {"section": "time_zone", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200 and "Mars/Olympus" in response.content.decode()
    with pytest.raises(DomainError) as error:
        user_time_zone_update(actor=rep, user=rep, time_zone="Mars/Olympus")
    assert error.value.field == "time_zone"
    rep.refresh_from_db()
    assert rep.time_zone == ""


def test_pages_show_times_in_the_users_zone(rep: Any, rep_client: Any, bakery_deal: Any):
    from closeloop.activities.services import activity_create

    note = activity_create(actor=rep, body="Called Lena", deal=bakery_deal)
    note.created_at = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)
    note.save(update_fields=["created_at"])
    url = reverse("pipeline:deal_detail", args=[bakery_deal.pk])
    assert "22:30" in rep_client.get(url).content.decode()
    user_time_zone_update(actor=rep, user=rep, time_zone="Asia/Tokyo")
    # 22:30 UTC is 07:30 the next morning in Tokyo
    assert "07:30" in rep_client.get(url).content.decode()


def test_only_admins_set_someone_elses_zone(rep: Any, teammate: Any, admin: Any):
    with pytest.raises(DomainError):
        user_time_zone_update(actor=teammate, user=rep, time_zone="Europe/Paris")
    user_time_zone_update(actor=admin, user=rep, time_zone="Europe/Paris")
    rep.refresh_from_db()
    assert rep.time_zone == "Europe/Paris"
