"""The governance report in Chromium: ``GET /report`` and the file ``cds-b12 report --html``
writes, each with a drawn trend chart per rule and site, the highest override rate first,
and nothing loaded from another host (the file loads nothing at all)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest
import requests
from playwright.sync_api import Page, expect

from ..api.support import scenario_named, scenario_request
from ..serving import CDS_B12, ServeProcess
from ..store.support import now_iso, overridden


@pytest.fixture(scope="module")
def answered(service: ServeProcess) -> ServeProcess:
    """Two patients' cards, one overridden: the report has rows with and without feedback."""
    for name in (
        "R17-metformin-screening/metformin-no-b12-fires",
        "R11-maintenance-overdue/monthly-overdue-fires",
    ):
        path, body = scenario_request(scenario_named(name), as_of=datetime.now(UTC).date())
        response = requests.post(f"{service.base}/cds-services/{path}", json=body, timeout=30)
        assert response.status_code == 200
    card = response.json()["cards"][0]
    entry = overridden(card["uuid"], code="clinical-judgement", when=now_iso())
    feedback = requests.post(
        f"{service.base}/cds-services/{path}/feedback", json={"feedback": [entry]}, timeout=30
    )
    assert feedback.status_code == 200
    return service


def assert_drawn(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    trends = page.get_by_test_id("trend")
    count = trends.count()
    assert count >= 2 and count == page.get_by_test_id("row").count()
    assert page.evaluate("window.reportCharts.length") == count
    assert page.evaluate("window.reportCharts.every(c => c.data.datasets.length === 4)")
    box = trends.first.locator("canvas").bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    first = page.get_by_test_id("row").first
    expect(first.get_by_test_id("rate")).to_have_text("100%")  # the only overridden rule


def test_the_report_page_draws_a_chart_per_rule_and_site(open_page, answered, artifacts):
    service = answered
    opened = open_page()
    opened.page.goto(f"{service.base}/report")
    assert_drawn(opened.page)
    opened.page.screenshot(path=str(artifacts / "report.png"), full_page=True)


def test_the_written_file_opens_on_its_own(browser, answered, tmp_path):
    service = answered
    path = tmp_path / "governance.html"
    done = subprocess.run(
        [CDS_B12, "report", "--html", str(path)],
        env=service.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    loaded: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: loaded.append(r.url))
    try:
        page.goto(path.as_uri())
        assert_drawn(page)
    finally:
        context.close()
    assert not errors
    assert [u for u in loaded if not u.startswith(("file:", "data:"))] == []
