"""List pages and exports run a fixed number of queries, however many rows they show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from closeloop.accounts.selectors import workspace_settings
from closeloop.activities.models import Activity
from tests.factories import ContactEmailFactory, ContactFactory, DealFactory, OrganizationFactory

from .conftest import ContactPhoneFactory

pytestmark = pytest.mark.django_db

# session, user, workspace setting (rep visibility), unread notifications, count, page,
# 2 prefetches, 2 filter choices
LIST_QUERIES = 10
# session, user, workspace, unread notifications, organization, contacts with 2 prefetches,
# deals, timeline, follow-up plans, the coupon panel (its coupons, redemptions and deals) and
# the history (and, the first time in a process, the content type it is filed under)
DETAIL_QUERIES = 11 + 3 + 2


@pytest.fixture(autouse=True)
def _workspace(db: None) -> None:
    """The settings row exists in every running install; its first-use creation is not counted."""
    workspace_settings()


def make_people(owner, n: int) -> None:
    for i in range(n):
        org = OrganizationFactory(name=f"Org {i:03}", owner=owner)
        contact = ContactFactory(organization=org, owner=owner)
        ContactEmailFactory(contact=contact)
        ContactEmailFactory(contact=contact, is_primary=False)
        ContactPhoneFactory(contact=contact)


@pytest.mark.parametrize("rows", [5, 30])
@pytest.mark.parametrize("url_name", ["people:organization_list", "people:contact_list"])
def test_list_query_count_does_not_grow_with_rows(
    rep_client, rep, django_assert_max_num_queries, rows, url_name
):
    make_people(rep, rows)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = rep_client.get(reverse(url_name), {"sort": "-name"})
    assert len(response.context["page_obj"]) == rows


@pytest.mark.parametrize("url_name", ["people:organization_list", "people:contact_list"])
def test_list_and_export_queries_are_the_same_for_5_and_30_rows(rep_client, rep, url_name):
    def count(params: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = rep_client.get(reverse(url_name), params)
            if params.get("format") == "csv":
                b"".join(response.streaming_content)
        return len(ctx.captured_queries)

    search = {"q": "org" if "organization" in url_name else "acme"}  # matches every row
    make_people(rep, 5)
    few = (count({}), count({"format": "csv"}), count(search))
    make_people(rep, 25)
    assert (count({}), count({"format": "csv"}), count(search)) == few


@pytest.mark.parametrize("rows", [5, 30])
def test_organization_detail_query_count_is_fixed(
    rep_client, rep, django_assert_max_num_queries, rows
):
    org = OrganizationFactory(owner=rep)
    for _ in range(rows):
        contact = ContactFactory(organization=org, owner=rep)
        ContactEmailFactory(contact=contact)
        ContactPhoneFactory(contact=contact)
        DealFactory(organization=org, contact=contact, owner=rep)
        Activity.objects.create(organization=org, contact=contact, body="hello", actor=rep)
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = rep_client.get(reverse("people:organization_detail", args=[org.pk]))
    assert response.content.decode().count("hello") == rows
