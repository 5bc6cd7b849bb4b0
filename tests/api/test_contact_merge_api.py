"""POST /api/v1/contacts/{id}/merge: the duplicates page's merge, over the API."""

from __future__ import annotations

import pytest

from closeloop.activities.models import Activity
from closeloop.leads.choices import DuplicateState
from closeloop.leads.models import DuplicatePair
from closeloop.people.models import Contact
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory

from .tokens import ApiClient

pytestmark = pytest.mark.django_db
URL = "/api/v1/contacts"


@pytest.fixture
def kept(rep):
    contact = ContactFactory(first_name="Jon", last_name="Smith", job_title="", owner=rep,
                             organization=OrganizationFactory(name="Acme", owner=rep))  # fmt: skip
    ContactEmailFactory(contact=contact, email="jon@acme.example")
    return contact


@pytest.fixture
def other(rep, kept):
    contact = ContactFactory(first_name="John", last_name="Smith", job_title="Buyer",
                             notes="Prefers email.", owner=rep,
                             organization=kept.organization)  # fmt: skip
    ContactEmailFactory(contact=contact, email="jon@acme.example")
    ContactEmailFactory(contact=contact, email="john.smith@acme.example", is_primary=False)
    return contact


def _merge(api: ApiClient, contact: Contact, payload: dict):
    return api.post_json(f"{URL}/{contact.pk}/merge", payload)


def test_merge_moves_everything_and_records_it(rep, kept, other):
    deal = DealFactory(owner=rep, contact=other, organization=other.organization)
    Activity.objects.create(contact=other, body="Asked for a quote")
    pair = DuplicatePair.objects.create(contact=kept, other_contact=other, score=95,
                                        evidence="same email jon@acme.example")  # fmt: skip
    response = _merge(ApiClient(rep), kept, {"other_id": other.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == kept.pk
    assert [e["email"] for e in body["emails"]] == ["jon@acme.example", "john.smith@acme.example"]
    # by default a field this contact leaves empty takes the other's value; the rest stay
    assert (body["first_name"], body["job_title"], body["notes"]) == (
        "Jon",
        "Buyer",
        "Prefers email.",
    )
    deal.refresh_from_db()
    assert deal.contact == kept and deal.version == 2
    assert Activity.objects.filter(contact=kept, body="Asked for a quote").exists()
    record = Activity.objects.get(contact=kept, subject=f"Merged John Smith (#{other.pk})")
    assert record.actor == rep and "Fields taken from" in record.body and "1 deal" in record.body
    assert Contact.with_trashed.get(pk=other.pk).is_trashed
    pair.refresh_from_db()
    assert (pair.state, pair.resolved_by) == (DuplicateState.MERGED, rep)


def test_take_picks_the_fields_that_come_from_the_other_contact(rep, kept, other):
    response = _merge(ApiClient(rep), kept, {"other_id": other.pk, "take": ["first_name"]})
    assert response.status_code == 200, response.content
    assert (response.json()["first_name"], response.json()["job_title"]) == ("John", "")


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"other_id": "x"}, 422, "other_id"),
        ({}, 422, "other_id"),
        ({"other_id": 0, "take": ["password"]}, 400, "take"),
    ],
)
def test_bad_input_is_named(rep, kept, other, payload, status, field):
    if payload.get("other_id") == 0:
        payload["other_id"] = other.pk
    response = _merge(ApiClient(rep), kept, payload)
    assert response.status_code == status, response.content
    assert field in response.json()["fields"]
    assert not Contact.with_trashed.filter(deleted_at__isnull=False).exists()


def test_a_contact_cannot_be_merged_with_itself(rep, kept):
    response = _merge(ApiClient(rep), kept, {"other_id": kept.pk})
    assert response.status_code == 400 and "other_id" in response.json()["fields"]


def test_a_contact_the_rep_may_not_see_answers_404_on_either_side(rep, outsider, kept):
    hidden = ContactFactory(last_name="Smith", owner=outsider)
    deal = DealFactory(owner=outsider, contact=hidden)
    api = ApiClient(rep)
    as_other = _merge(api, kept, {"other_id": hidden.pk})
    assert as_other.status_code == 404 and "other_id" in as_other.json()["fields"]
    assert _merge(api, hidden, {"other_id": kept.pk}).status_code == 404
    assert _merge(api, kept, {"other_id": 999_999}).status_code == 404
    deal.refresh_from_db()
    hidden.refresh_from_db()
    assert deal.contact == hidden and not hidden.is_trashed and not kept.emails.count() > 1


def test_a_manager_merges_the_teams_contacts_an_admin_anyones(manager, admin, rep, outsider):
    mine = ContactFactory(last_name="Smith", owner=rep)
    teammates = ContactFactory(last_name="Smith", owner=rep)
    outsiders = ContactFactory(last_name="Smith", owner=outsider)
    assert _merge(ApiClient(manager), mine, {"other_id": outsiders.pk}).status_code == 404
    assert _merge(ApiClient(manager), mine, {"other_id": teammates.pk}).status_code == 200
    assert _merge(ApiClient(admin), mine, {"other_id": outsiders.pk}).status_code == 200
    assert Contact.objects.filter(last_name="Smith").count() == 1
