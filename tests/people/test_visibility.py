"""Who sees which organizations and contacts; guessed URLs answer 404, anonymous users log in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from closeloop.activities.models import Activity
from closeloop.people.models import Contact, Organization
from closeloop.people.services import contact_trash, organization_trash
from tests.factories import ContactFactory, DealFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(rep, teammate, outsider):
    """One organization and one contact per owner, plus an unowned (shared) pair."""
    records = {}
    for key, owner in (("rep", rep), ("teammate", teammate), ("outsider", outsider),
                       ("shared", None)):  # fmt: skip
        org = OrganizationFactory(name=f"Org of {key}", owner=owner)
        ContactFactory(first_name="Contact", last_name=f"of {key}", organization=org, owner=owner)
        records[key] = org
    return records


def org_names(client) -> set[str]:
    return {o.name for o in client.get(reverse("people:organization_list")).context["page_obj"]}


def contact_names(client) -> set[str]:
    return {c.last_name for c in client.get(reverse("people:contact_list")).context["page_obj"]}


def test_rep_sees_own_and_unowned_only(rep_client, owned):
    assert org_names(rep_client) == {"Org of rep", "Org of shared"}
    assert contact_names(rep_client) == {"of rep", "of shared"}


def test_manager_sees_their_team(manager_client, owned):
    assert org_names(manager_client) == {"Org of rep", "Org of teammate", "Org of shared"}
    assert contact_names(manager_client) == {"of rep", "of teammate", "of shared"}


def test_admin_sees_everything(admin_client_, owned):
    assert org_names(admin_client_) == {f"Org of {k}" for k in owned}
    assert contact_names(admin_client_) == {f"of {k}" for k in owned}


def test_csv_export_applies_visibility(rep_client, owned):
    response = rep_client.get(reverse("people:contact_list"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode()
    assert "of rep" in text and "of shared" in text
    assert "of outsider" not in text and "of teammate" not in text


def test_owner_filter_only_offers_users_the_rep_can_pick(rep_client, rep, outsider):
    owners = list(rep_client.get(reverse("people:organization_list")).context["owners"])
    assert owners == [rep]


def test_org_detail_only_lists_visible_contacts_and_deals(rep_client, rep, outsider, owned):
    shared = owned["shared"]
    ContactFactory(first_name="Hidden", last_name="Person", organization=shared, owner=outsider)
    DealFactory(title="Outsider's secret deal", organization=shared, owner=outsider)
    DealFactory(title="Rita's deal", organization=shared, owner=rep)
    body = rep_client.get(reverse("people:organization_detail", args=[shared.pk])).content.decode()
    assert "Contact of shared" in body and "Rita&#x27;s deal" in body
    assert "Hidden Person" not in body and "secret deal" not in body


def test_timeline_leaves_out_notes_of_deals_the_user_cannot_see(rep_client, outsider, owned):
    shared = owned["shared"]
    deal = DealFactory(title="Hidden deal", organization=shared, owner=outsider)
    Activity.objects.create(deal=deal, organization=shared, body="Discount of 40% agreed")
    Activity.objects.create(organization=shared, body="Public note on the organization")
    body = rep_client.get(reverse("people:organization_detail", args=[shared.pk])).content.decode()
    assert "Public note on the organization" in body
    assert "Discount of 40% agreed" not in body


def _guessable_urls(org: Organization, contact: Contact) -> list[tuple[str, str]]:
    return [
        ("get", reverse("people:organization_detail", args=[org.pk])),
        ("get", reverse("people:organization_edit", args=[org.pk])),
        ("post", reverse("people:organization_edit", args=[org.pk])),
        ("post", reverse("people:organization_trash", args=[org.pk])),
        ("post", reverse("people:organization_note", args=[org.pk])),
        ("get", reverse("people:contact_detail", args=[contact.pk])),
        ("get", reverse("people:contact_edit", args=[contact.pk])),
        ("post", reverse("people:contact_edit", args=[contact.pk])),
        ("post", reverse("people:contact_trash", args=[contact.pk])),
        ("post", reverse("people:contact_note", args=[contact.pk])),
    ]


def test_guessed_urls_of_another_reps_records_are_404(rep_client, outsider_org, outsider_contact):
    for method, url in _guessable_urls(outsider_org, outsider_contact):
        response = getattr(rep_client, method)(
            url, {"body": "hi", "name": "Taken", "first_name": "X"}
        )
        assert response.status_code == 404, (method, url)
    outsider_org.refresh_from_db()
    outsider_contact.refresh_from_db()
    assert outsider_org.name == "Otto's Garage" and not outsider_org.is_trashed
    assert outsider_contact.first_name == "Olga" and not outsider_contact.is_trashed
    assert not Activity.objects.exists()


def test_restore_of_another_reps_trashed_records_is_404(rep_client, outsider, outsider_org,
                                                          outsider_contact):  # fmt: skip
    organization_trash(actor=outsider, organization=outsider_org)
    contact_trash(actor=outsider, contact=outsider_contact)
    for name, pk in (("organization_restore", outsider_org.pk),
                     ("contact_restore", outsider_contact.pk)):  # fmt: skip
        assert rep_client.post(reverse(f"people:{name}", args=[pk])).status_code == 404
    assert not Organization.objects.filter(pk=outsider_org.pk).exists()
    assert not Contact.objects.filter(pk=outsider_contact.pk).exists()


def test_nonexistent_records_are_404_too(rep_client):
    assert rep_client.get(reverse("people:organization_detail", args=[99999])).status_code == 404
    assert rep_client.get(reverse("people:contact_detail", args=[99999])).status_code == 404


def test_anonymous_users_are_sent_to_login(client, outsider_org, outsider_contact):
    urls = [("get", reverse("people:organization_list")), ("get", reverse("people:contact_list")),
            ("get", reverse("people:organization_create")),
            ("get", reverse("people:contact_create")),
            ("post", reverse("people:organization_restore", args=[outsider_org.pk])),
            ("post", reverse("people:contact_restore", args=[outsider_contact.pk]))]  # fmt: skip
    urls += _guessable_urls(outsider_org, outsider_contact)
    login = reverse("accounts:login")
    for method, url in urls:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(f"{login}?next="), url


def test_deactivated_user_is_sent_to_login(client_for, rep, owned):
    client = client_for(rep)
    rep.is_active = False
    rep.save()
    response = client.get(reverse("people:organization_list"))
    assert response.status_code == 302
