"""A rep's day with leads in a real browser, then a manager cleaning up a duplicate.

Create a lead, find it in the inbox by search and filter, note on it (escaped, never run), be
refused a second lead with the same email, and as a manager merge a likely pair from the
duplicates page, the loser landing in the trash.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from closeloop.leads.choices import DuplicateState
from closeloop.leads.models import DuplicatePair, Lead
from tests.factories import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

XSS = "<script>alert(1)</script>"


def _create_lead(page, live_server, **fields: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/leads/new/")
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Create lead").click()


def test_rep_works_a_lead_and_a_manager_merges_its_duplicate(page, live_server, rep, manager):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server, rep.email, PASSWORD)

    # create a lead from the UI
    _create_lead(page, live_server, **{"First name": "Jon", "Last name": "Smith",
                 "Email": "jon.smith@acme.example", "Company": "Acme"})  # fmt: skip
    expect(page.get_by_role("heading", name="Jon Smith")).to_be_visible()
    jon = Lead.objects.get(email="jon.smith@acme.example")
    assert jon.owner == rep

    # see it in the inbox, then search and filter for it
    page.goto(f"{live_server.url}/leads/")
    rows = page.locator("table.list tbody tr")
    expect(rows.filter(has_text="Jon Smith")).to_have_count(1)
    page.get_by_label("Search", exact=True).fill("acme")
    page.get_by_label("Status", exact=True).select_option("new")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"q=acme.*status=new"))
    expect(rows.filter(has_text="Jon Smith")).to_have_count(1)
    page.get_by_label("Search", exact=True).fill("nobody-by-this-name")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Jon Smith")).to_have_count(0)

    # open it and add a note that tries to run a script: shown as text, never run
    page.goto(f"{live_server.url}/leads/")
    page.get_by_role("link", name="Jon Smith").first.click()
    expect(page).to_have_url(f"{live_server.url}/leads/{jon.pk}/")
    page.get_by_label("Add a note").fill(f"Called. {XSS}")
    page.get_by_role("button", name="Add note").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Called. {XSS}")
    assert timeline.locator("script").count() == 0
    assert dialogs == []

    # a second lead with the same email is refused with the duplicate message
    _create_lead(page, live_server, **{"First name": "Jonathan", "Last name": "Smith",
                 "Email": "JON.SMITH@acme.example"})  # fmt: skip
    expect(page.get_by_text(f"A duplicate: lead #{jon.pk} has the email")).to_be_visible()
    assert Lead.objects.filter(email="jon.smith@acme.example").count() == 1

    # a similar name at a similar company is created, and flagged as a likely duplicate
    _create_lead(page, live_server, **{"First name": "John", "Last name": "Smith",
                 "Email": "john@acme-ltd.example", "Company": "ACME Ltd"})  # fmt: skip
    expect(page.get_by_role("heading", name="John Smith")).to_be_visible()
    john = Lead.objects.get(email="john@acme-ltd.example")
    pair = DuplicatePair.objects.get(lead=john, other_lead=jon)

    # as a manager: the duplicates page lists the pair with its evidence; merge it
    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server, manager.email, PASSWORD)
    page.goto(f"{live_server.url}/duplicates/")
    row = page.locator(f"#pair-{pair.pk}")
    expect(row).to_contain_text("similar name and company: Jon Smith, Acme")
    row.get_by_role("link", name="Merge…").click()
    expect(page.get_by_label(f"Keep #{jon.pk}")).to_be_checked()  # the older record by default
    page.get_by_role("button", name="Merge").click()
    expect(page).to_have_url(f"{live_server.url}/leads/{jon.pk}/")
    expect(page.get_by_text("Merged into “Jon Smith”")).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text(f"Merged John Smith (#{john.pk})")

    # the loser is in the trash, the pair is closed
    page.goto(f"{live_server.url}/trash/")
    expect(page.locator("table").filter(has_text="John Smith")).to_have_count(1)
    assert Lead.with_trashed.get(pk=john.pk).is_trashed
    pair.refresh_from_db()
    assert pair.state == DuplicateState.MERGED
    assert dialogs == []
