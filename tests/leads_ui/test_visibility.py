"""Who sees which leads: rep own + unowned, manager their team, admin all; others get 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from closeloop.leads.models import Lead

pytestmark = pytest.mark.django_db

LIST = reverse("leads:lead_list")


def listed(client) -> set[str]:
    return {lead.last_name for lead in client.get(LIST).context["page_obj"]}


def test_rep_sees_own_and_unowned(rep_client, leads):
    assert listed(rep_client) == {"Own", "Nowner"}


def test_manager_sees_their_team(manager_client, leads):
    assert listed(manager_client) == {"Own", "Nowner", "Mate"}


def test_admin_sees_all(admin_client_, leads):
    assert listed(admin_client_) == {"Own", "Nowner", "Mate", "Secret"}


@pytest.mark.parametrize(
    "url_name",
    ["leads:lead_list", "leads:lead_create", "leads:campaign_list", "leads:source_list"],
)
def test_anonymous_is_sent_to_login(url_name):
    response = Client().get(reverse(url_name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_anonymous_cannot_post(leads):
    lead = leads["unowned"]
    response = Client().post(reverse("leads:lead_note", args=[lead.pk]), {"body": "x"})
    assert response.status_code == 302 and "login" in response.url
    assert not lead.activities.exists()


@pytest.mark.parametrize("url_name", ["leads:lead_detail", "leads:lead_edit"])
def test_another_reps_lead_is_404(rep_client, leads, url_name):
    assert rep_client.get(reverse(url_name, args=[leads["outsider"].pk])).status_code == 404
    assert rep_client.get(reverse(url_name, args=[999_999])).status_code == 404
    assert rep_client.get(reverse(url_name, args=[leads["unowned"].pk])).status_code == 200


@pytest.mark.parametrize(
    ("url_name", "data"),
    [("leads:lead_note", {"body": "sneaky"}), ("leads:lead_trash", {}),
     ("leads:lead_edit", {"last_name": "Hijacked", "status": "new"}),
     ("leads:lead_restore", {})],
)  # fmt: skip
def test_posts_to_another_reps_lead_are_404(rep_client, leads, url_name, data):
    outsider_lead = leads["outsider"]
    response = rep_client.post(reverse(url_name, args=[outsider_lead.pk]), data)
    assert response.status_code == 404
    outsider_lead.refresh_from_db()
    assert outsider_lead.last_name == "Secret"
    assert outsider_lead.deleted_at is None
    assert not outsider_lead.activities.exists()


def test_restore_of_another_reps_trashed_lead_is_404(rep_client, outsider_client, leads):
    outsider_client.post(reverse("leads:lead_trash", args=[leads["outsider"].pk]))
    assert Lead.with_trashed.get(pk=leads["outsider"].pk).deleted_at is not None
    response = rep_client.post(reverse("leads:lead_restore", args=[leads["outsider"].pk]))
    assert response.status_code == 404
    assert "Secret" not in rep_client.get(reverse("trash")).content.decode()


def test_owner_choices_are_the_users_the_rep_may_pick(rep_client, rep, teammate):
    form = rep_client.get(reverse("leads:lead_create")).context["form"]
    assert list(form.fields["owner"].queryset) == [rep]
