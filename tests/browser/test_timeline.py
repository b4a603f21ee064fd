"""The timeline page in Chromium: what the charts were given is exactly the patient's data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

# every chart's datasets as ISO dates and values (x is a day number since 1970-01-01)
DRAWN = """() => window.timelineCharts.map((chart) => chart.data.datasets.map((set) =>
    set.data.map((p) => [new Date(p.x * 86400000).toISOString().slice(0, 10), p.y])))"""


def drawn_dates(page: Page) -> tuple[list[str], list[str]]:
    """(injection dates, planned dose dates) as given to the treatment chart."""
    treatment = page.evaluate(DRAWN)[0]
    return [d for d, _ in treatment[0]], [d for d, _ in treatment[1]]


def open_timeline(open_page, service, patient: str, width: int = 1200) -> Page:
    page = open_page(width=width).page
    page.goto(f"{service.base}/timeline?patient={patient}")
    expect(page.get_by_test_id("timeline")).to_have_attribute("data-ready", "true")
    return page


def assert_fits(page: Page) -> None:
    """No horizontal scrolling, and every chart drawn within the viewport."""
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    boxes = page.evaluate("window.timelineCharts.map((c) => [c.width, c.height])")
    assert boxes and all(0 < w <= width and h > 0 for w, h in boxes)


@pytest.mark.parametrize("patient", ["r11-monthly-overdue", "r14-hb-falling"])
def test_the_charts_draw_every_injection_and_result(open_page, service, artifacts, patient):
    data = requests.get(
        f"{service.base}/timeline/data", params={"patient": patient}, timeout=10
    ).json()
    page = open_timeline(open_page, service, patient)
    timeline = page.get_by_test_id("timeline")
    assert page.evaluate("window.timelineCharts.length") >= 1
    assert int(timeline.get_attribute("data-injections") or -1) == len(data["doses"])
    lab_points = sum(len(s["points"]) for s in data["series"])
    assert int(timeline.get_attribute("data-lab-points") or -1) == lab_points
    assert data["doses"], "a maintenance patient has injections to draw"

    # the counts are what the charts hold: the same dates, and the same results
    doses, planned = drawn_dates(page)
    assert doses == data["doses"]
    assert planned == data["plannedDoses"]
    drawn_results = sorted(tuple(p) for chart in page.evaluate(DRAWN)[1:] for p in chart[0])
    given = sorted((d, v) for s in data["series"] for d, v in s["points"])
    assert drawn_results == given
    assert page.evaluate("window.timelineCharts.length") == 1 + sum(
        1 for s in data["series"] if s["points"]
    )

    expect(page.get_by_test_id("timeline-subtitle")).to_contain_text(f"Patient {patient}")
    # the next dose is the card's: an overdue one says since when (issue 11 §5)
    if patient == "r11-monthly-overdue":
        assert data["nextDose"]["overdue"] is True
        expect(page.locator("#facts")).to_contain_text("(today): overdue since ")
    expect(page.get_by_test_id("legend")).to_contain_text("Maintenance phase")
    today = date.fromisoformat(data["asOf"])
    assert today - timedelta(days=1) <= date.today() <= today + timedelta(days=1)
    assert_fits(page)
    name = "timeline.png" if patient == "r11-monthly-overdue" else f"timeline-{patient}.png"
    page.screenshot(path=str(artifacts / name), full_page=True)

    # at phone width the same page still draws, without sideways scrolling
    page.set_viewport_size({"width": 400, "height": 900})
    page.reload()
    expect(timeline).to_have_attribute("data-ready", "true")
    assert int(timeline.get_attribute("data-injections") or -1) == len(data["doses"])
    assert_fits(page)


def test_an_unknown_patient_says_why(open_page, service):
    opened = open_page()
    opened.watch.expect_console_error(r"status of 400")
    opened.page.goto(f"{service.base}/timeline?patient=nobody-here")
    expect(opened.page.get_by_test_id("error")).to_contain_text("no bundled patient 'nobody-here'")
    assert opened.page.evaluate("window.timelineCharts === undefined")
