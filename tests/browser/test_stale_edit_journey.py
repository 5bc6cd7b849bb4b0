"""Two people edit one contact: in Chromium, the second save is refused with the first person's
change named, her own input still in the form; saving again keeps both changes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from closeloop.people.models import Contact
from closeloop.people.services import PhoneInput, contact_update
from tests.factories import PASSWORD, ContactEmailFactory, ContactFactory

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_stale_contact_save_is_refused_and_can_be_applied_again(page, live_server, rep, manager):  # type: ignore[no-untyped-def]
    contact = ContactFactory(first_name="Lena", last_name="Lind", owner=rep)
    ContactEmailFactory(contact=contact, email="lena@bakery.example")
    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/people/contacts/{contact.pk}/edit/")
    page.get_by_label("Job title").fill("Owner")

    # meanwhile her manager adds a phone number
    contact_update(actor=manager, contact=contact, phones=[PhoneInput("+49 30 7654321", "mobile")])

    page.get_by_role("button", name="Save").click()
    notice = page.locator("#stale-edit")
    expect(notice).to_contain_text("was changed by someone else since you opened it")
    expect(notice).to_contain_text(
        "Mia Manager changed Phones from “—” to “+49 30 7654321 (mobile)” at"
    )
    expect(page.get_by_label("Job title")).to_have_value("Owner")  # her input is kept
    expect(page.get_by_label("Phone 1", exact=True)).to_have_value("+49 30 7654321")
    assert Contact.objects.get(pk=contact.pk).job_title == ""

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}/people/contacts/{contact.pk}/")
    expect(page.get_by_text("Contact saved.")).to_be_visible()
    contact.refresh_from_db()
    assert contact.job_title == "Owner"
    assert [p.raw for p in contact.phones.all()] == ["+49 30 7654321"]
