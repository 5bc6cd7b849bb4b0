"""/api/v1/contacts: list with filters, create with emails and phones, read, change, trash."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from closeloop.accounts.selectors import workspace_settings
from closeloop.messaging.models import ConsentChange
from closeloop.people.models import Contact
from closeloop.people.services import EmailInput, PhoneInput, contact_create
from tests.factories import ContactEmailFactory, ContactFactory, OrganizationFactory

from .tokens import ROLE_SEES, ApiClient, ids

pytestmark = pytest.mark.django_db
URL = "/api/v1/contacts"


def _contact(owner, last_name: str, *emails: str, phones: tuple[str, ...] = (), **fields):
    return contact_create(
        actor=None,
        last_name=last_name,
        owner=owner,
        emails=[EmailInput(email=e) for e in emails],
        phones=[PhoneInput(number=p) for p in phones],
        **fields,
    )


@pytest.fixture
def owned(rep, teammate, outsider) -> dict[str, Contact]:
    """One contact per owner, plus an unowned (shared) one."""
    return {
        key: _contact(owner, f"of {key}", f"{key}@example.com")
        for key, owner in (
            ("rep", rep),
            ("teammate", teammate),
            ("outsider", outsider),
            ("shared", None),
        )
    }


def test_create_a_contact_with_emails_phones_and_consent(rep):
    org = OrganizationFactory(name="Acme", owner=rep)
    api = ApiClient(rep)
    response = api.post_json(
        URL,
        {
            "first_name": "Ana",
            "last_name": "Lima",
            "job_title": "Buyer",
            "organization_id": org.pk,
            "emails": [
                {"email": "Ana@Acme.example"},
                {"email": "ana@home.example", "label": "home"},
            ],
            "phones": [{"number": "+49 30 1234567"}, {"number": "0171 555", "label": "mobile"}],
            "marketing_consent": True,
            "consent_method": "Shop checkout",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["full_name"] == "Ana Lima" and body["organization_name"] == "Acme"
    assert body["owner_id"] == rep.pk
    assert body["emails"] == [
        {"email": "ana@acme.example", "label": "work", "is_primary": True},
        {"email": "ana@home.example", "label": "home", "is_primary": False},
    ]
    assert body["phones"] == [
        {"number": "+49 30 1234567", "e164": "+49301234567", "label": "work", "is_primary": True},
        {"number": "0171 555", "e164": body["phones"][1]["e164"], "label": "mobile",
         "is_primary": False},
    ]  # fmt: skip
    assert body["marketing_consent"] and body["consent_method"] == "Shop checkout"
    change = ConsentChange.objects.get(contact_id=body["id"])
    assert change.granted and change.actor == rep and change.email == "ana@acme.example"
    assert api.get(f"{URL}/{body['id']}").json() == body


def test_an_email_or_phone_another_contact_has_answers_409(rep, outsider, settings):
    settings.PHONE_REGION = "DE"
    mine = _contact(rep, "Mine", "taken@example.com")
    _contact(outsider, "Theirs", "hidden@example.com", phones=("+49 30 999999",))
    api = ApiClient(rep)
    email = api.post_json(URL, {"last_name": "New", "emails": [{"email": "TAKEN@example.com"}]})
    assert email.status_code == 409 and "emails" in email.json()["fields"]
    assert f"contact #{mine.pk}" in email.json()["message"]
    # the same number written another way is the same number
    phone = api.post_json(URL, {"last_name": "New", "phones": [{"number": "030 999999"}]})
    assert phone.status_code == 409 and "phones" in phone.json()["fields"]
    assert "a contact you cannot see" in phone.json()["message"]
    assert "#" not in phone.json()["message"]
    assert not Contact.objects.filter(last_name="New").exists()


def test_a_contact_needs_a_name_or_an_email(rep):
    response = ApiClient(rep).post_json(URL, {"job_title": "CEO"})
    assert response.status_code == 400 and "first_name" in response.json()["fields"]


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"last_name": "x" * 101}, 422, "last_name"),
        ({"last_name": "Ok", "emails": [{"email": "not-an-email"}]}, 422, "emails.0.email"),
        ({"last_name": "Ok", "phones": [{"number": "1" * 61}]}, 422, "phones.0.number"),
        ({"last_name": "Ok", "emails": [{"email": f"a{i}@x.example"} for i in range(31)]}, 422,
         "emails"),
        ({"last_name": "Ok", "organization_id": 999_999}, 400, "organization_id"),
        ({"last_name": "Ok", "owner_id": 999_999}, 400, "owner_id"),
    ],
)  # fmt: skip
def test_bad_input_is_named(rep, payload, status, field):
    response = ApiClient(rep).post_json(URL, payload)
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert not Contact.objects.exists()


def test_an_organization_the_rep_may_not_see_is_refused(rep, outsider):
    hidden = OrganizationFactory(owner=outsider)
    response = ApiClient(rep).post_json(URL, {"last_name": "X", "organization_id": hidden.pk})
    assert response.status_code == 400 and "organization_id" in response.json()["fields"]


def test_patch_changes_only_the_fields_sent_and_replaces_lists_sent(rep):
    contact = _contact(rep, "Lima", "ana@acme.example", phones=("+49 30 1234567",),
                       first_name="Ana", job_title="Buyer")  # fmt: skip
    api = ApiClient(rep)
    response = api.patch_json(f"{URL}/{contact.pk}", {"job_title": "Head of buying"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["first_name"], body["job_title"]) == ("Ana", "Head of buying")
    assert [e["email"] for e in body["emails"]] == ["ana@acme.example"]
    assert [p["e164"] for p in body["phones"]] == ["+49301234567"]
    body = api.patch_json(
        f"{URL}/{contact.pk}",
        {"emails": [{"email": "new@acme.example"}, {"email": "ana@acme.example"}], "phones": []},
    ).json()
    assert [(e["email"], e["is_primary"]) for e in body["emails"]] == [
        ("new@acme.example", True),
        ("ana@acme.example", False),
    ]
    assert body["phones"] == []


def test_patch_refuses_another_contacts_email_but_keeps_a_shared_one(rep):
    other = _contact(rep, "Other", "other@example.com")
    contact = _contact(rep, "Lima", "ana@example.com")
    # the pages let two contacts share an address; saving one of them must still work
    ContactEmailFactory(contact=other, email="ana@example.com", is_primary=False)
    api = ApiClient(rep)
    taken = api.patch_json(f"{URL}/{contact.pk}", {"emails": [{"email": "other@example.com"}]})
    assert taken.status_code == 409 and f"contact #{other.pk}" in taken.json()["message"]
    kept = api.patch_json(f"{URL}/{contact.pk}", {"emails": [{"email": "ana@example.com"}]})
    assert kept.status_code == 200, kept.content


def test_patch_records_a_withdrawn_consent(rep):
    contact = _contact(rep, "Lima", "ana@example.com")
    api = ApiClient(rep)
    api.patch_json(f"{URL}/{contact.pk}", {"marketing_consent": True})
    body = api.patch_json(
        f"{URL}/{contact.pk}", {"marketing_consent": False, "consent_method": "Phone call"}
    ).json()
    assert body["marketing_consent"] is False and body["consent_method"] == "Phone call"
    changes = list(ConsentChange.objects.filter(contact=contact).order_by("pk"))
    assert [(c.granted, c.source) for c in changes] == [(True, "API"), (False, "Phone call")]
    # sending the same value again records nothing
    api.patch_json(f"{URL}/{contact.pk}", {"marketing_consent": False})
    assert ConsentChange.objects.filter(contact=contact).count() == 2


def test_patch_organization_and_owner(rep, outsider):
    org = OrganizationFactory(owner=rep)
    hidden_org = OrganizationFactory(owner=outsider)
    contact = _contact(rep, "Lima", organization=hidden_org)
    api = ApiClient(rep)
    # the current link to an organization the rep may not see is kept when it is sent back
    same = api.patch_json(f"{URL}/{contact.pk}", {"organization_id": hidden_org.pk})
    assert same.status_code == 200 and same.json()["organization_id"] == hidden_org.pk
    moved = api.patch_json(f"{URL}/{contact.pk}", {"organization_id": org.pk, "owner_id": None})
    assert moved.json()["organization_id"] == org.pk and moved.json()["owner_id"] is None
    cleared = api.patch_json(f"{URL}/{contact.pk}", {"organization_id": None})
    assert cleared.json()["organization_id"] is None
    refused = api.patch_json(f"{URL}/{contact.pk}", {"owner_id": outsider.pk})
    assert refused.status_code == 400 and "owner_id" in refused.json()["fields"]


def test_delete_trashes_the_contact(rep):
    contact = _contact(rep, "Lima")
    api = ApiClient(rep)
    assert api.delete(f"{URL}/{contact.pk}").status_code == 204
    assert Contact.with_trashed.get(pk=contact.pk).is_trashed
    assert api.get(f"{URL}/{contact.pk}").status_code == 404


@pytest.mark.parametrize(("who", "sees"), ROLE_SEES)
def test_visibility_by_role(request, owned, who, sees):
    api = ApiClient(request.getfixturevalue(who))
    assert set(ids(api.get(URL))) == {owned[key].pk for key in sees}
    assert set(ids(api.get(f"{URL}?q=example.com"))) == {owned[key].pk for key in sees}
    for key, contact in owned.items():
        expected = 200 if key in sees else 404
        assert api.get(f"{URL}/{contact.pk}").status_code == expected
        assert api.patch_json(f"{URL}/{contact.pk}", {"notes": "x"}).status_code == expected
        if key not in sees:
            assert api.delete(f"{URL}/{contact.pk}").status_code == 404
            assert Contact.objects.filter(pk=contact.pk).exists()


def test_filters_and_orderings(admin, rep, teammate, settings):
    settings.PHONE_REGION = "DE"
    acme = OrganizationFactory(name="Acme")
    with time_machine.travel(dt.datetime(2026, 1, 10, 9, tzinfo=dt.UTC), tick=False):
        young = _contact(rep, "Young", "y@acme.example", phones=("+49 30 1234567",),
                         organization=acme)  # fmt: skip
    with time_machine.travel(dt.datetime(2026, 2, 10, 9, tzinfo=dt.UTC), tick=False):
        adams = _contact(teammate, "Adams", "adams@other.example")
        miller = _contact(rep, "Miller", "m@acme.example", organization=acme)
    api = ApiClient(admin)
    api.patch_json(f"{URL}/{miller.pk}", {"marketing_consent": True})
    assert ids(api.get(URL)) == [adams.pk, miller.pk, young.pk]
    assert ids(api.get(f"{URL}?ordering=-last_name")) == [young.pk, miller.pk, adams.pk]
    assert ids(api.get(f"{URL}?ordering=created_at")) == [young.pk, adams.pk, miller.pk]
    assert ids(api.get(f"{URL}?q=acme.example")) == [miller.pk, young.pk]
    assert ids(api.get(f"{URL}?q=030%201234567")) == [young.pk]
    assert ids(api.get(f"{URL}?q=mill")) == [miller.pk]
    assert ids(api.get(f"{URL}?organization_id={acme.pk}")) == [miller.pk, young.pk]
    assert ids(api.get(f"{URL}?owner_id={teammate.pk}")) == [adams.pk]
    assert ids(api.get(f"{URL}?marketing_consent=true")) == [miller.pk]
    assert ids(api.get(f"{URL}?marketing_consent=false")) == [adams.pk, young.pk]
    assert ids(api.get(f"{URL}?created_from=2026-02-01&created_to=2026-02-28")) == [
        adams.pk,
        miller.pk,
    ]
    bad = api.get(f"{URL}?marketing_consent=maybe")
    assert bad.status_code == 422 and "marketing_consent" in bad.json()["fields"]


def test_a_search_matching_two_emails_lists_the_contact_once_across_pages(rep):
    contacts = [_contact(rep, f"Person {i}", f"p{i}@acme.example", f"p{i}@home.acme.example")
                for i in range(3)]  # fmt: skip
    api = ApiClient(rep)
    first = api.get(f"{URL}?q=acme&limit=2").json()
    rest = api.get(f"{URL}?q=acme&limit=2&cursor={first['next_cursor']}").json()
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in rest["items"]]
    assert seen == [c.pk for c in contacts]


@pytest.mark.parametrize("rows", [3, 30])
def test_list_query_count_does_not_grow_with_rows(rep, rows, django_assert_max_num_queries):
    workspace_settings()
    api = ApiClient(rep)
    org = OrganizationFactory(owner=rep)
    for i in range(rows):
        contact = ContactFactory(last_name=f"Person {i:02}", organization=org, owner=rep)
        ContactEmailFactory(contact=contact)
        ContactEmailFactory(contact=contact, is_primary=False)
    # token, its last use, the workspace setting, the page, its emails, its phones
    with django_assert_max_num_queries(8):
        response = api.get(f"{URL}?limit=50")
    assert len(response.json()["items"]) == rows
    assert all(len(item["emails"]) == 2 for item in response.json()["items"])
