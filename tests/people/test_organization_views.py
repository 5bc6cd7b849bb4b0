"""Organization pages through the HTTP client: list, export, forms, detail, notes, trash."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from closeloop.activities.models import Activity
from closeloop.people.models import Organization
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

LIST = reverse("people:organization_list")


def names_in(response) -> list[str]:
    return [o.name for o in response.context["page_obj"]]


def test_list_searches_name_and_domain(rep_client, rep):
    OrganizationFactory(name="Bakery Berlin", domain="brot.example", owner=rep)
    OrganizationFactory(name="Garage", domain="cars.example", owner=rep)
    assert names_in(rep_client.get(LIST, {"q": "bakery"})) == ["Bakery Berlin"]
    assert names_in(rep_client.get(LIST, {"q": "CARS"})) == ["Garage"]


def test_list_filters_by_owner(manager_client, manager, rep, teammate):
    OrganizationFactory(name="Rita's", owner=rep)
    OrganizationFactory(name="Tom's", owner=teammate)
    response = manager_client.get(LIST, {"owner": teammate.pk})
    assert names_in(response) == ["Tom's"]
    assert f'<option value="{teammate.pk}" selected>' in response.content.decode()


def test_list_sorts_by_clicked_header_and_reverses_on_second_click(rep_client, rep):
    for name in ("Beta", "Alpha", "Gamma"):
        OrganizationFactory(name=name, owner=rep)
    assert names_in(rep_client.get(LIST)) == ["Alpha", "Beta", "Gamma"]
    response = rep_client.get(LIST, {"sort": "-name"})
    assert names_in(response) == ["Gamma", "Beta", "Alpha"]
    assert 'href="?sort=name"' in response.content.decode()  # clicking again sorts A→Z


def test_list_sorts_by_contact_count(rep_client, rep):
    big = OrganizationFactory(name="Big", owner=rep)
    OrganizationFactory(name="Small", owner=rep)
    ContactFactory.create_batch(2, organization=big, owner=rep)
    assert names_in(rep_client.get(LIST, {"sort": "-contacts"})) == ["Big", "Small"]


def test_list_paginates_by_50(rep_client, rep):
    OrganizationFactory.create_batch(51, owner=rep)
    first = rep_client.get(LIST)
    assert len(first.context["page_obj"]) == 50
    assert "Page 1 of 2" in first.content.decode()
    assert len(rep_client.get(LIST, {"page": 2}).context["page_obj"]) == 1


def test_empty_states_say_what_to_do_next(rep_client, rep):
    assert "Add your first organization" in rep_client.get(LIST).content.decode()
    OrganizationFactory(name="Acme", owner=rep)
    body = rep_client.get(LIST, {"q": "zzz"}).content.decode()
    assert "No organizations match these filters" in body
    assert "clear the filters" in body


def test_csv_export_has_id_bom_and_neutralised_cells(rep_client, rep):
    org = OrganizationFactory(name="=cmd|' /C calc'!A0", domain="evil.example", owner=rep)
    OrganizationFactory(name="Other", owner=rep)
    response = rep_client.get(LIST, {"format": "csv", "q": "cmd"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 1
    assert rows[0]["id"] == str(org.pk)
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["owner"] == rep.email


def test_create_shows_errors_and_keeps_input(rep_client):
    data = {"name": "  ", "website": "not a url", "industry": "Food"}
    response = rep_client.post(reverse("people:organization_create"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors and "website" in form.errors
    assert 'value="Food"' in response.content.decode()
    assert not Organization.objects.exists()


def test_create_redirects_to_detail_and_owner_defaults_to_creator(rep_client, rep):
    form = rep_client.get(reverse("people:organization_create")).context["form"]
    assert form["owner"].value() == rep.pk
    response = rep_client.post(reverse("people:organization_create"), {
        "name": "Acme", "domain": "https://www.acme.example/", "owner": rep.pk,
    })  # fmt: skip
    org = Organization.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("people:organization_detail", args=[org.pk])
    assert (org.domain, org.owner) == ("acme.example", rep)


def test_create_without_owner_is_shared(rep_client):
    rep_client.post(reverse("people:organization_create"), {"name": "Shared", "owner": ""})
    assert Organization.objects.get().owner is None


def test_rep_cannot_give_an_organization_to_someone_they_cannot_pick(rep_client, outsider):
    response = rep_client.post(reverse("people:organization_create"),
                               {"name": "Acme", "owner": outsider.pk})  # fmt: skip
    assert "owner" in response.context["form"].errors
    assert not Organization.objects.exists()


def test_edit_prefills_and_saves(rep_client, rep_org, rep):
    url = reverse("people:organization_edit", args=[rep_org.pk])
    assert 'value="bakery.example"' in rep_client.get(url).content.decode()
    response = rep_client.post(url, {"name": "Rita's Bakery & Café", "domain": "bakery.example",
                                     "owner": rep.pk, "notes": "Loves croissants"})  # fmt: skip
    assert response.status_code == 302
    rep_org.refresh_from_db()
    assert (rep_org.name, rep_org.notes) == ("Rita's Bakery & Café", "Loves croissants")


def test_detail_shows_fields_contacts_deals_and_timeline(rep_client, rep, rep_org):
    rep_org.industry = "Food"
    rep_org.save()
    contact = ContactFactory(first_name="Carla", last_name="Crumb", organization=rep_org, owner=rep)
    ContactEmailFactory(contact=contact, email="carla@bakery.example")
    open_deal = DealFactory(title="Bread subscription", organization=rep_org, owner=rep)
    won_deal = DealFactory(title="Oven repair", organization=rep_org, owner=rep, status="won")
    Activity.objects.create(organization=rep_org, body="Called about Easter order", actor=rep)
    body = rep_client.get(reverse("people:organization_detail", args=[rep_org.pk])).content.decode()
    assert "Food" in body
    assert "Carla Crumb" in body and "carla@bakery.example" in body
    assert f'href="/deals/{open_deal.pk}/"' in body and f'href="/deals/{won_deal.pk}/"' in body
    open_part, closed_part = body.split("<h3>Closed</h3>")
    assert "Bread subscription" in open_part.split("<h3>Open</h3>")[1]
    assert "Oven repair" in closed_part
    assert "Called about Easter order" in body
    assert reverse("people:organization_edit", args=[rep_org.pk]) in body
    assert reverse("people:organization_trash", args=[rep_org.pk]) in body


def test_user_text_is_escaped(rep_client, rep):
    org = OrganizationFactory(name="<script>alert(1)</script>", owner=rep,
                              website="javascript:alert(2)")  # fmt: skip
    detail = rep_client.get(reverse("people:organization_detail", args=[org.pk])).content.decode()
    listing = rep_client.get(LIST).content.decode()
    for body in (detail, listing):
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'href="javascript:' not in detail


def test_note_is_added_to_the_timeline(rep_client, rep_org, rep):
    url = reverse("people:organization_note", args=[rep_org.pk])
    response = rep_client.post(url, {"body": "Met at the trade fair"})
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.organization, activity.actor, activity.body) == (
        rep_org, rep, "Met at the trade fair",
    )  # fmt: skip


def test_note_via_htmx_returns_the_timeline_fragment(rep_client, rep_org):
    url = reverse("people:organization_note", args=[rep_org.pk])
    response = rep_client.post(url, {"body": "Quick note"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="timeline">') and "Quick note" in body
    empty = rep_client.post(url, {"body": "  "}, HTTP_HX_REQUEST="true").content.decode()
    assert "A note cannot be empty." in empty
    assert Activity.objects.count() == 1


def test_trash_then_restore_through_the_pages(rep_client, rep_org):
    response = rep_client.post(reverse("people:organization_trash", args=[rep_org.pk]))
    assert response["Location"] == LIST
    assert (
        rep_client.get(reverse("people:organization_detail", args=[rep_org.pk])).status_code == 404
    )
    assert "Rita&#x27;s Bakery" in rep_client.get(reverse("trash")).content.decode()

    response = rep_client.post(reverse("people:organization_restore", args=[rep_org.pk]))
    assert response["Location"] == reverse("people:organization_detail", args=[rep_org.pk])
    assert rep_client.get(response["Location"]).status_code == 200


def test_trash_needs_post(rep_client, rep_org):
    response = rep_client.get(reverse("people:organization_trash", args=[rep_org.pk]))
    assert response.status_code == 405
    assert Organization.objects.filter(pk=rep_org.pk).exists()


def test_posts_without_csrf_token_are_refused(rep, rep_org, client_for):
    client = client_for(rep)
    client.handler.enforce_csrf_checks = True
    for url in (reverse("people:organization_trash", args=[rep_org.pk]),
                reverse("people:organization_create")):  # fmt: skip
        assert client.post(url, {"name": "x"}).status_code == 403
    assert Organization.objects.filter(pk=rep_org.pk).exists()
    assert Organization.objects.count() == 1


def test_csrf_token_from_the_page_is_accepted(rep, rep_org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    client.get(reverse("people:organization_detail", args=[rep_org.pk]))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("people:organization_note", args=[rep_org.pk]),
                           {"body": "ok", "csrfmiddlewaretoken": token})  # fmt: skip
    assert response.status_code == 302
