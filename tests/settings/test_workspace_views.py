"""The workspace settings page through the HTTP client (admins only)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains

from closeloop.accounts.selectors import workspace_settings

pytestmark = pytest.mark.django_db

PAGE = reverse("settings:workspace")


def test_the_page_shows_the_current_settings(admin_client_):
    response = admin_client_.get(PAGE)
    assertContains(response, "<title>Workspace · Closeloop</title>")
    assertContains(response, 'value="My company"')
    assertContains(response, '<option value="EUR" selected>EUR</option>', html=True)
    assertContains(response, "Own records only")


def test_saving_the_settings(admin_client_):
    response = admin_client_.post(
        PAGE, {"name": "Acme Sales", "base_currency": "USD", "rep_visibility": "team"}, follow=True
    )
    assertContains(response, "Workspace settings saved.")
    ws = workspace_settings()
    assert (ws.name, ws.base_currency, ws.rep_visibility) == ("Acme Sales", "USD", "team")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required."),
        (
            {"base_currency": "XYZ"},
            "Select a valid choice. XYZ is not one of the available choices.",
        ),
        ({"rep_visibility": "nobody"}, "Select a valid choice."),
    ],
)
def test_bad_values_are_shown_and_not_saved(admin_client_, data, message):
    fields = {"name": "Acme Sales", "base_currency": "USD", "rep_visibility": "all", **data}
    response = admin_client_.post(PAGE, fields)
    assertContains(response, message)
    assert workspace_settings().name == "My company"
