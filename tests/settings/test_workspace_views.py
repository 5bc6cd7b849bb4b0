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


def test_two_processes_making_the_settings_row_at_once_both_get_it(db, monkeypatch):
    """Seen in the API benchmark: two server processes' first requests both found no settings
    row and both inserted it; the second failed with a duplicate key (a 500)."""
    from closeloop.accounts import selectors
    from closeloop.accounts.models import WorkspaceSettings

    WorkspaceSettings.objects.all().delete()
    WorkspaceSettings(name="Made by the other process").save()  # it won the race
    real_filter = WorkspaceSettings.objects.filter

    class LateLookup:
        """The lookup as this process saw it: before the other one's insert."""

        def __init__(self, *args, **kwargs):
            self.query = real_filter(*args, **kwargs)

        def first(self):
            return None

    monkeypatch.setattr(WorkspaceSettings.objects, "filter", LateLookup)
    assert selectors._load_workspace_settings().name == "Made by the other process"
