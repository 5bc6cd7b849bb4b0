"""API tokens in a real browser: create one in the profile, copy it, use it, revoke it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rep_creates_a_token_uses_it_and_revokes_it(page, live_server, rep):
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()  # the lead sources (API among them) a transactional test flushed
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/accounts/profile/")
    tokens = page.get_by_role("region", name="API tokens")

    tokens.get_by_label("Token name").fill("Website form")
    tokens.get_by_label("Read and write").check()
    tokens.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    secret = page.get_by_label("New token").input_value()
    assert secret.startswith("cl_")
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret

    row = page.get_by_role("row").filter(has_text="Website form")
    expect(row).to_contain_text(secret[:10] + "…")
    expect(row).to_contain_text("Read and write")

    api = page.context.request  # no session cookie needed: the token alone
    created = api.post(f"{live_server.url}/api/v1/leads", data={"last_name": "From the shop"},
                       headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
    assert created.status == 201, created.text()
    listed = api.get(f"{live_server.url}/api/v1/leads",
                     headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
    assert [lead["last_name"] for lead in listed.json()["items"]] == ["From the shop"]

    page.goto(f"{live_server.url}/accounts/profile/")
    expect(page.get_by_label("New token")).to_have_count(0)  # shown once only
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.get_by_role("row").filter(has_text="Website form")
    row.get_by_role("button", name="Revoke Website form").click()
    expect(page.get_by_text("no longer works")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Website form")).to_contain_text("Revoked")
    refused = api.get(f"{live_server.url}/api/v1/leads",
                      headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
    assert refused.status == 401
