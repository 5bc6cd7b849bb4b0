"""A server process remembers the workspace settings for a second: saving them forgets them at
once, a change made by another process shows within the second, and no request can change
another's copy."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from closeloop.accounts import selectors
from closeloop.accounts.choices import RepVisibility
from closeloop.accounts.models import WorkspaceSettings
from closeloop.accounts.selectors import workspace_settings

pytestmark = pytest.mark.django_db


def _reads() -> tuple[str, int]:
    with CaptureQueriesContext(connection) as seen:
        visibility = workspace_settings().rep_visibility
    return visibility, sum(
        '"accounts_workspacesettings"' in q["sql"] for q in seen.captured_queries
    )


def test_settings_are_read_once_a_second_and_forgotten_when_saved(monkeypatch):
    clock = [500.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(selectors, "WORKSPACE_MEMO_SECONDS", 1.0)  # the suite sets it to 0
    workspace_settings()  # the row is made on first use
    selectors.workspace_settings_forget()
    assert _reads() == (RepVisibility.OWN, 1)
    assert _reads() == (RepVisibility.OWN, 0)  # remembered
    # saved in this process: forgotten at once
    ws = workspace_settings()
    ws.rep_visibility = RepVisibility.TEAM
    ws.save()
    assert _reads() == (RepVisibility.TEAM, 1)
    # changed by another process (no signal here): seen once the second is up
    WorkspaceSettings.objects.filter(pk=1).update(rep_visibility=RepVisibility.ALL)
    assert _reads() == (RepVisibility.TEAM, 0)
    clock[0] += selectors.WORKSPACE_MEMO_SECONDS
    assert _reads() == (RepVisibility.ALL, 1)


def test_each_read_gets_its_own_copy():
    first = workspace_settings()
    first.name = "Changed by a form that was never saved"
    assert workspace_settings().name != first.name
