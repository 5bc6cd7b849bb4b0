"""The duplicates page and the merge pages, through the HTTP client."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closeloop.activities.models import Activity
from closeloop.leads.choices import DuplicateScanState, DuplicateState
from closeloop.leads.duplicate_scan import duplicates_scan
from closeloop.leads.models import DuplicatePair, DuplicateScan, Lead
from closeloop.people.models import Contact
from closeloop.people.services import EmailInput, contact_create, contact_update
from tests.factories import ContactEmailFactory, ContactFactory, OrganizationFactory

from .conftest import LeadFactory, PairFactory

pytestmark = pytest.mark.django_db

LIST = reverse("duplicates:list")
# session, user, workspace setting, unread notifications; lead pairs: count, page, their
# contacts' emails; contact pairs: the pairs, both sides' emails; the last scan
LIST_QUERIES = 10


def test_empty_state(rep_client):
    response = rep_client.get(LIST)
    assert "No likely duplicates — Closeloop checks every new lead as it arrives" in (
        response.content.decode()
    )


def test_lists_only_pairs_whose_both_records_are_visible(rep_client, rep, outsider, jon, john):
    mine = PairFactory(lead=john, other_lead=jon, evidence="similar name: Jon Smith, Acme")
    hidden = LeadFactory(first_name="Jon", last_name="Smyth", owner=outsider)
    PairFactory(lead=hidden, other_lead=jon, evidence="one side hidden")
    PairFactory(lead=LeadFactory(owner=outsider), other_lead=LeadFactory(owner=outsider),
                evidence="both hidden")  # fmt: skip
    trashed = LeadFactory(owner=rep)
    PairFactory(lead=trashed, other_lead=jon, evidence="one side trashed")
    Lead.objects.filter(pk=trashed.pk).update(deleted_at=jon.created_at)
    response = rep_client.get(LIST)
    assert list(response.context["page_obj"]) == [mine]
    body = response.content.decode()
    assert "similar name: Jon Smith, Acme" in body and "Smyth" not in body
    assert reverse("duplicates:lead_merge", args=[mine.pk]) in body


def test_most_similar_first(rep_client, rep):
    low = PairFactory(lead__owner=rep, other_lead__owner=rep, score=89)
    high = PairFactory(lead__owner=rep, other_lead__owner=rep, score=99)
    assert list(rep_client.get(LIST).context["page_obj"]) == [high, low]


def test_dismiss_hides_the_pair(rep_client, rep, jon, john):
    pair = PairFactory(lead=john, other_lead=jon)
    response = rep_client.post(reverse("duplicates:dismiss", args=[pair.pk]))
    assert response.status_code == 302
    pair.refresh_from_db()
    assert (pair.state, pair.resolved_by) == (DuplicateState.DISMISSED, rep)
    assert list(rep_client.get(LIST).context["page_obj"]) == []


def test_dismiss_with_htmx_removes_the_row(rep_client, jon, john):
    pair = PairFactory(lead=john, other_lead=jon)
    response = rep_client.post(
        reverse("duplicates:dismiss", args=[pair.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and response.content == b""


def test_dismiss_and_merge_404_for_invisible_pairs(rep_client, outsider, jon):
    pair = PairFactory(lead=LeadFactory(owner=outsider), other_lead=jon)
    assert rep_client.post(reverse("duplicates:dismiss", args=[pair.pk])).status_code == 404
    assert rep_client.get(reverse("duplicates:lead_merge", args=[pair.pk])).status_code == 404
    assert rep_client.post(reverse("duplicates:lead_merge", args=[pair.pk]),
                           {"keep": "a"}).status_code == 404  # fmt: skip
    pair.refresh_from_db()
    assert pair.state == DuplicateState.OPEN


def test_merge_page_shows_differing_fields_with_defaults(rep_client, jon, john):
    pair = PairFactory(lead=john, other_lead=jon)
    response = rep_client.get(reverse("duplicates:lead_merge", args=[pair.pk]))
    assert response.status_code == 200
    assert (response.context["a"], response.context["b"]) == (jon, john)  # the older first
    picked = {row.name: choice for row, choice in response.context["picked"]}
    assert picked["first_name"] == "a"  # the older record's value
    assert picked["email"] == "b"  # jon has none: non-empty beats empty
    assert "last_name" not in picked  # the same in both


def test_merge_through_the_page(rep_client, jon, john):
    pair = PairFactory(lead=john, other_lead=jon)
    Activity.objects.create(lead=john, body="Called")
    response = rep_client.post(
        reverse("duplicates:lead_merge", args=[pair.pk]),
        {"keep": "a", "first_name": "b", "company_name": "a", "email": "b"},
    )
    assert response.status_code == 302
    assert response.url == reverse("leads:lead_detail", args=[jon.pk])
    jon.refresh_from_db()
    assert (jon.first_name, jon.email) == ("John", "john@acme.example")
    assert Activity.objects.filter(lead=jon, body="Called").exists()
    assert Lead.with_trashed.get(pk=john.pk).is_trashed


def test_keeping_the_newer_record(rep_client, jon, john):
    pair = PairFactory(lead=john, other_lead=jon)
    rep_client.post(reverse("duplicates:lead_merge", args=[pair.pk]),
                    {"keep": "b", "first_name": "a"})  # fmt: skip
    john.refresh_from_db()
    assert john.first_name == "Jon" and not john.is_trashed
    assert Lead.with_trashed.get(pk=jon.pk).is_trashed


def test_merge_without_a_choice_of_record_is_refused(rep_client, jon, john):
    pair = PairFactory(lead=john, other_lead=jon)
    response = rep_client.post(reverse("duplicates:lead_merge", args=[pair.pk]), {})
    assert (
        response.status_code == 200 and "Choose which record to keep" in response.content.decode()
    )
    assert Lead.objects.filter(pk__in=[jon.pk, john.pk]).count() == 2


def test_posts_need_the_csrf_token(rep, jon, john):
    pair = PairFactory(lead=john, other_lead=jon)
    client = Client(enforce_csrf_checks=True)
    client.force_login(rep)
    for url, data in [
        (reverse("duplicates:dismiss", args=[pair.pk]), {}),
        (reverse("duplicates:lead_merge", args=[pair.pk]), {"keep": "a"}),
        (reverse("duplicates:scan"), {}),
    ]:
        assert client.post(url, data).status_code == 403
    pair.refresh_from_db()
    assert pair.state == DuplicateState.OPEN
    assert Lead.objects.filter(pk__in=[jon.pk, john.pk]).count() == 2


def test_scan_button_for_managers_not_reps(manager_client, rep_client, rep, jon, john):
    assert "Scan now" not in rep_client.get(LIST).content.decode()
    assert rep_client.post(reverse("duplicates:scan")).status_code == 403
    assert not DuplicatePair.objects.exists() and not DuplicateScan.objects.exists()
    assert "Scan now" in manager_client.get(LIST).content.decode()
    response = manager_client.post(reverse("duplicates:scan"), follow=True)
    body = response.content.decode()
    assert "Scan queued: it runs in the background" in body
    # the test task backend runs it at once, as the worker would later
    assert "Last full scan" in body and "2 leads and 0 contacts compared, 1 new pair." in body
    assert DuplicatePair.objects.filter(lead=john, other_lead=jon).exists()


def test_page_shows_a_running_scan_and_refuses_a_second(manager_client, manager):
    DuplicateScan.objects.create(
        state=DuplicateScanState.RUNNING, started_at=timezone.now(), requested_by=manager
    )
    body = manager_client.get(LIST).content.decode()
    assert "A full scan is running since" in body
    response = manager_client.post(reverse("duplicates:scan"), follow=True)
    assert "already queued or running" in response.content.decode()
    assert DuplicateScan.objects.count() == 1


def test_page_says_when_no_scan_ran(rep_client):
    assert "No full scan has run yet" in rep_client.get(LIST).content.decode()


def _contact_twins(owner, other_owner=None):
    org = OrganizationFactory(name="Acme", owner=owner)
    jon = contact_create(actor=owner, first_name="Jon", last_name="Smith", organization=org)
    john = contact_create(
        actor=other_owner or owner, first_name="John", last_name="Smith", organization=org,
        emails=[EmailInput("john@acme.example")],
    )  # fmt: skip
    return jon, john


def test_contact_pairs_flagged_on_save_listed_and_merged(rep_client, rep):
    jon, john = _contact_twins(rep)
    contact_create(actor=rep, first_name="Maria", last_name="Garcia", organization=jon.organization)
    pair = DuplicatePair.objects.get(contact=jon, other_contact=john)
    pairs = rep_client.get(LIST).context["contact_pairs"]
    assert [(p.contact, p.other_contact) for p in pairs] == [(jon, john)]
    body = rep_client.get(LIST).content.decode()
    assert "similar name at Acme: Jon Smith" in body
    url = reverse("duplicates:contact_merge", args=[jon.pk, john.pk])
    assert url in body
    assert rep_client.get(url).status_code == 200
    response = rep_client.post(url, {"keep": "a", "first_name": "a"})
    assert response.url == reverse("people:contact_detail", args=[jon.pk])
    assert list(jon.emails.values_list("email", flat=True)) == ["john@acme.example"]
    assert Contact.with_trashed.get(pk=john.pk).is_trashed
    pair.refresh_from_db()
    assert pair.state == DuplicateState.MERGED
    assert rep_client.get(LIST).context["contact_pairs"] == []


def test_contact_updated_to_share_an_email_is_flagged(rep):
    a = contact_create(actor=rep, first_name="Ann", last_name="Lee",
                       emails=[EmailInput("ann@example.com")])  # fmt: skip
    b = contact_create(actor=rep, first_name="Bob", last_name="Ray")
    contact_update(actor=rep, contact=b, emails=[EmailInput("ANN@example.com")])
    pair = DuplicatePair.objects.get(contact=a, other_contact=b)
    assert (pair.score, pair.evidence) == (100, "same email ann@example.com")


def test_dismissed_contact_pair_never_comes_back(rep_client, rep, admin):
    jon, john = _contact_twins(rep)
    pair = DuplicatePair.objects.get(contact=jon, other_contact=john)
    response = rep_client.post(reverse("duplicates:dismiss", args=[pair.pk]))
    assert response.status_code == 302
    pair.refresh_from_db()
    assert (pair.state, pair.resolved_by) == (DuplicateState.DISMISSED, rep)
    contact_update(actor=rep, contact=john, first_name="Johnny")
    duplicates_scan(actor=admin)
    assert rep_client.get(LIST).context["contact_pairs"] == []
    assert DuplicatePair.objects.count() == 1


def test_contact_pair_with_a_hidden_contact_is_not_shown(rep_client, rep, outsider):
    jon, john = _contact_twins(rep, other_owner=outsider)
    john.owner = outsider
    john.save()
    pair = DuplicatePair.objects.get(contact=jon, other_contact=john)
    body = rep_client.get(LIST).content.decode()
    assert rep_client.get(LIST).context["contact_pairs"] == []
    assert "John" not in body
    assert rep_client.post(reverse("duplicates:dismiss", args=[pair.pk])).status_code == 404
    pair.refresh_from_db()
    assert pair.state == DuplicateState.OPEN


def test_contact_merge_404_for_invisible(rep_client, rep, outsider):
    mine = ContactFactory(owner=rep)
    hidden = ContactFactory(owner=outsider)
    url = reverse("duplicates:contact_merge", args=[mine.pk, hidden.pk])
    assert rep_client.get(url).status_code == 404
    assert rep_client.post(url, {"keep": "a"}).status_code == 404
    assert not Contact.with_trashed.get(pk=hidden.pk).is_trashed


@pytest.mark.parametrize("count", [5, 20])
def test_list_queries_do_not_grow_with_pairs(rep_client, rep, django_assert_max_num_queries, count):
    org = OrganizationFactory(owner=rep)
    DuplicateScan.objects.create(requested_by=rep)
    for i in range(count):
        PairFactory(lead__owner=rep, other_lead__owner=rep)
        contact = ContactFactory(owner=rep, organization=org, last_name=f"{chr(65 + i)}person")
        ContactEmailFactory(contact=contact)
        PairFactory(lead__owner=rep, other_lead=None, other_contact=contact)
        twin = ContactFactory(owner=rep, first_name=contact.first_name, organization=org,
                              last_name=contact.last_name)  # fmt: skip
        ContactEmailFactory(contact=twin)
        PairFactory(lead=None, other_lead=None, contact=contact, other_contact=twin)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = rep_client.get(LIST)
    assert len(response.context["page_obj"]) == 2 * count
    assert len(response.context["contact_pairs"]) == count
