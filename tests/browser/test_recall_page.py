"""The recall worklist page in Chromium: counts, the weekly chart and the table agree with the
CSV of the same run, and the table sorts, filters and pages."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from benchmarks.population import write_population
from cds_b12.cli import main

from ..recall.support import AS_OF, fixture_resources, read_csv, write_export


@pytest.fixture(scope="module")
def worklist(tmp_path_factory) -> tuple[str, list[dict]]:
    """(the page, the CSV rows) of one population: the fixtures and 400 synthetic patients."""
    folder = tmp_path_factory.mktemp("export")
    write_population(folder, 400, AS_OF)
    write_export(folder / "f", fixture_resources())
    for path in (folder / "f").iterdir():
        path.rename(folder / f"fixture-{path.name}")
    out = tmp_path_factory.mktemp("out")
    for fmt, name in (("html", "recall.html"), ("csv", "recall.csv")):
        args = ["recall", "--ndjson", str(folder), "--out", str(out / name), "--format", fmt]
        assert main([*args, "--as-of", AS_OF.isoformat()]) == 0
    return (out / "recall.html").read_text(), read_csv(out / "recall.csv")


def open_worklist(open_page, service, html: str):
    opened = open_page()
    url = f"{service.base}/recall-worklist.html"  # the file, served as it is
    opened.page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    opened.page.goto(url)
    expect(opened.page.locator("body")).to_have_attribute("data-ready", "true")
    return opened.page


def test_counts_chart_and_table_match_the_csv(open_page, service, artifacts, worklist):
    html, rows = worklist
    page = open_worklist(open_page, service, html)
    for level in ("critical", "warning", "info"):
        total = page.get_by_test_id(f"total-{level}").locator("b").inner_text()
        assert int(total) == sum(r["indicator"] == level for r in rows)
    by_rule = Counter(r["rule"] for r in rows)
    for rule, count in by_rule.items():
        cells = page.locator(f'[data-testid="counts"] tr[data-rule="{rule}"] td').all_inner_texts()
        assert sum(int(c) for c in cells[:3]) == count
        assert int(cells[3]) == len({r["patient"] for r in rows if r["rule"] == rule})

    chart = page.evaluate(
        "() => ({labels: window.recallChart.data.labels,"
        " sets: window.recallChart.data.datasets.map((d) => [d.label, d.data])})"
    )
    weeks: Counter[tuple[str, str]] = Counter()
    for r in rows:
        if r["due"]:
            due = date.fromisoformat(r["due"])
            weeks[((due - timedelta(days=due.weekday())).isoformat(), r["indicator"])] += 1
    drawn = {
        (week, level): n
        for level, data in chart["sets"]
        for week, n in zip(chart["labels"], data, strict=True)
        if n
    }
    assert drawn == dict(weeks)
    assert all(date.fromisoformat(w).weekday() == 0 for w in chart["labels"])

    table = page.get_by_test_id("rows")
    assert int(table.get_attribute("data-total")) == len(rows)
    first = page.locator("#body tr").first
    assert first.get_attribute("data-patient") == rows[0]["patient"]
    assert page.locator("#body tr").count() == min(200, len(rows))
    page.screenshot(path=str(artifacts / "recall.png"), full_page=False)


def test_the_table_filters_sorts_and_pages(open_page, service, worklist):
    html, rows = worklist
    page = open_worklist(open_page, service, html)
    table = page.get_by_test_id("rows")

    rule = "R11-maintenance-overdue"
    page.get_by_test_id("rule-filter").select_option(rule)
    expect(table).to_have_attribute("data-shown", str(sum(r["rule"] == rule for r in rows)))
    assert set(
        page.locator("#body tr").evaluate_all("(trs) => trs.map((t) => t.dataset.rule)")
    ) == {rule}
    page.get_by_test_id("rule-filter").select_option("")

    page.get_by_test_id("overdue-filter").check()
    expect(table).to_have_attribute("data-shown", str(sum(r["overdue"] == "yes" for r in rows)))
    page.get_by_test_id("overdue-filter").uncheck()

    helen = next(r for r in rows if r["patient"] == "r11-monthly-overdue")
    page.get_by_test_id("search").fill(helen["identifier"])
    expect(table).to_have_attribute("data-shown", "1")
    expect(page.locator("#body tr")).to_have_attribute("data-patient", "r11-monthly-overdue")
    page.get_by_test_id("search").fill("")

    page.get_by_test_id("sort-due").click()
    dated = sorted(r["due"] for r in rows if r["due"])
    first_due = page.locator("#body tr td").nth(1).inner_text()
    assert first_due.startswith(dated[0])
    page.get_by_test_id("sort-due").click()
    assert page.locator("#body tr").first.get_attribute("data-patient") in {
        r["patient"] for r in rows if not r["due"]
    } or page.locator("#body tr td").nth(1).inner_text().startswith(dated[-1])

    if len(rows) > 200:
        page.get_by_test_id("next").click()
        expect(page.get_by_test_id("page")).to_contain_text("page 2 of")
        assert page.locator("#body tr").count() == min(200, len(rows) - 200)


def test_the_timeline_offers_its_calendar(open_page, service, tmp_path: Path):
    page = open_page().page
    page.goto(f"{service.base}/timeline?patient=r11-monthly-overdue")
    expect(page.get_by_test_id("timeline")).to_have_attribute("data-ready", "true")
    link = page.get_by_test_id("calendar-link")
    expect(link).to_be_visible()
    assert link.get_attribute("data-events") == "1"
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "plan.ics"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "b12-plan-r11-monthly-overdue.ics"
    served = requests.get(
        f"{service.base}/timeline/calendar.ics",
        params={"patient": "r11-monthly-overdue"},
        timeout=10,
    )
    assert saved.read_bytes() == served.content
