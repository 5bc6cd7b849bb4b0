"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against the live server.

Browser tests skip with a clear message where no Chromium exists; with
CLOSELOOP_REQUIRE_BROWSER=1 (as in CI) a missing browser fails them instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CSP_REPORT = "Content Security Policy"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium package"
        if os.environ.get("CLOSELOOP_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls in the test
    # body are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def workspace_defaults(transactional_db: None) -> None:
    """Live-server tests empty the database after each test; put the defaults back first."""
    from closeloop.pipeline.services import workspace_defaults_ensure

    workspace_defaults_ensure()


@pytest.fixture
def page(browser, request):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    # Chromium reports every Content-Security-Policy refusal (an inline script, an onclick=, a
    # style or a frame the policy blocks) on the console: a journey that causes one fails.
    violations: list[str] = []
    request.node.csp_violations = violations
    tab.on("console", lambda m: violations.append(m.text) if CSP_REPORT in m.text else None)
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    if violations and not (failed is not None and failed.failed):
        pytest.fail("The Content-Security-Policy refused something:\n" + "\n".join(violations))


@pytest.fixture
def csp_violations(page, request) -> list[str]:  # type: ignore[no-untyped-def]
    """What the policy refused so far; a test expecting a refusal checks it and clears it."""
    return request.node.csp_violations  # type: ignore[no-any-return]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def log_in(page, live_server, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")  # the home page (the seven-stage strip)
    page.goto(f"{live_server.url}/deals/board/")  # callers start on the board
