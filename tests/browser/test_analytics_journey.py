"""Every report page in Chromium: the charts are drawn (coloured marks on screen), the filter bar
works, and a screenshot of each page is kept in test-artifacts/ for review."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect

from closeloop.analytics.results import report_kinds
from tests.analytics.conftest import history, run_import  # noqa: F401  (the known history)
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

SERIES_0 = (0x3B, 0x6F, 0xD8)  # the first series' colour in closeloop.css


def coloured_pixels(png: bytes, rgb: tuple[int, int, int]) -> int:
    from PIL import Image

    data = Image.open(io.BytesIO(png)).convert("RGB").tobytes()
    return sum(
        1 for i in range(0, len(data), 3) if all(abs(data[i + j] - rgb[j]) <= 12 for j in range(3))
    )


@pytest.mark.parametrize("key", [kind.key for kind in report_kinds()])
def test_each_report_page_draws_its_charts(page, live_server, admin, history, key):  # noqa: F811
    log_in(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/analytics/{key}/?period=all")
    expect(page.locator("h1")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"analytics-{key}.png"), full_page=True)
    charts = page.locator("figure.chart svg")
    drawn = 0
    for i in range(charts.count()):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 40
        drawn += coloured_pixels(chart.screenshot(), SERIES_0) > 0
    if charts.count():
        assert drawn, f"no chart of {key} shows any bar or point"
    assert page.locator("table.report-table").count() >= 1


def test_the_filter_bar_narrows_the_funnel(page, live_server, admin, rep, history):  # noqa: F811
    log_in(page, live_server, admin.email, PASSWORD)
    page.goto(f"{live_server.url}/analytics/funnel/?period=all")
    opened = page.locator('table[data-table="funnel"] tr', has_text="Deals opened")
    expect(opened.locator("td").nth(1)).to_have_text("8")
    page.get_by_label("Owner").select_option(str(rep.pk))
    page.get_by_role("button", name="Show").click()
    expect(opened.locator("td").nth(1)).to_have_text("5")
    assert f"owner={rep.pk}" in page.url
