"""Stored XSS in a real browser: pages full of script payloads open without running any.

Every user text field holds `alert(1)` payloads (tests/security/xss.py). Chromium opens the
busiest pages — the board with its script, a deal with its timeline, the lead inbox, a contact,
an organization, the proposal editor, a report with its charts, the audit log, the outbox — as
an admin, and the customer's proposal, survey, booking and web-form pages without logging in.
No dialog may open, and the payloads must be on the pages as text.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.route_records import fill
from tests.security.poisoned import poisoned_records

from .conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

SIGNED_IN = [
    "/deals/board/", "/deals/{deal}/", "/leads/", "/leads/{lead}/", "/people/contacts/{contact}/",
    "/people/organizations/{organization}/", "/proposals/{proposal}/", "/analytics/lost/",
    "/analytics/team/", "/settings/audit/", "/outbox/{message}/", "/customers/surveys/",
]  # fmt: skip
PUBLIC = ["/p/{proposal_token}/", "/s/{survey_token}/", "/book/{booking_slug}/",
          "/f/{webform_token}/"]  # fmt: skip


def test_pages_full_of_payloads_run_none_of_them(page: Any, live_server: Any, outsider, admin,
                                                 settings) -> None:  # fmt: skip
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    records = poisoned_records(outsider, admin)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    shown = 0
    for path in PUBLIC:
        page.goto(live_server.url + fill(path, records))
        page.wait_for_load_state("networkidle")
        shown += "alert(1)" in page.inner_text("body")
    log_in(page, live_server, admin.email, PASSWORD)
    for path in SIGNED_IN:
        page.goto(live_server.url + fill(path, records))
        page.wait_for_load_state("networkidle")
        shown += "alert(1)" in page.inner_text("body")
    assert dialogs == []
    assert shown >= len(PUBLIC + SIGNED_IN) - 2, "the payloads are on the pages, as text"
