"""The three outputs, and the calendars beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.task import Task
from icalendar import Calendar

from cds_b12.cli import main

from .support import AS_OF, fixture_resources, read_csv, recall, write_export


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    return write_export(tmp_path_factory.mktemp("export"), fixture_resources())


@pytest.fixture(scope="module")
def rows(export, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("csv") / "recall.csv"

    assert (
        main(["recall", "--ndjson", str(export), "--out", str(out), "--as-of", AS_OF.isoformat()])
        == 0
    )
    return read_csv(out)


def test_csv_header(rows):
    assert list(rows[0]) == [
        "patient",
        "identifier",
        "name",
        "birth_date",
        "indicator",
        "urgency",
        "rule",
        "summary",
        "due",
        "overdue",
        "due_by",
    ]


def test_tasks_are_valid_r4_tasks_one_per_row(export, rows, tmp_path, capsys):
    out = tmp_path / "tasks.ndjson"
    code, err = recall(export, out, "--format", "tasks", capsys=capsys)
    assert code == 0, err
    tasks = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(tasks) == len(rows)
    priority = {"info": "routine", "warning": "urgent", "critical": "asap"}
    for task, row in zip(tasks, rows, strict=True):
        Task.model_validate(task)
        assert task["status"] == "requested" and task["intent"] == "plan"
        assert task["priority"] == priority[row["indicator"]]
        assert task["for"]["reference"] == f"Patient/{row['patient']}"
        assert task["description"] == row["summary"] == task["code"]["text"]
        assert task["reasonCode"]["coding"][0]["code"] == row["rule"]
        assert task["authoredOn"] == AS_OF.isoformat()
        if row["due"]:
            assert task["restriction"]["period"]["start"] == row["due"]
            assert task["restriction"]["period"].get("end", "") == row["due_by"]
        else:
            assert "restriction" not in task
    assert len({t["id"] for t in tasks}) == len(tasks)
    again = tmp_path / "again.ndjson"
    assert recall(export, again, "--format", "tasks", capsys=capsys)[0] == 0
    assert again.read_text() == out.read_text(), "a rerun on the same day gives the same Tasks"


def test_calendars_beside_the_worklist(export, rows, tmp_path, capsys):
    out = tmp_path / "recall.csv"
    code, err = recall(export, out, "--calendars", str(tmp_path / "calendars"), capsys=capsys)
    assert code == 0, err
    linked = read_csv(out)
    assert [{k: v for k, v in r.items() if k != "schedule"} for r in linked] == rows
    assert all(r["schedule"] == f"calendars/{r['patient']}.ics" for r in linked)
    for patient in {r["patient"] for r in linked}:
        cal = Calendar.from_ical((tmp_path / "calendars" / f"{patient}.ics").read_bytes())
        assert cal.get("prodid")
    helen = Calendar.from_ical((tmp_path / "calendars" / "r11-monthly-overdue.ics").read_bytes())
    (dose,) = helen.events
    assert dose.start == AS_OF, "the overdue injection is on today"
    assert "overdue" in str(dose.get("summary"))
    tasks = tmp_path / "tasks.ndjson"
    assert (
        recall(
            export,
            tasks,
            "--format",
            "tasks",
            "--calendars",
            str(tmp_path / "calendars"),
            capsys=capsys,
        )[0]
        == 0
    )
    task = json.loads(tasks.read_text().splitlines()[0])
    Task.model_validate(task)
    assert task["input"][0]["valueAttachment"]["contentType"] == "text/calendar"


def test_html_is_one_self_contained_page(export, rows, tmp_path, capsys):
    out = tmp_path / "recall.html"
    code, err = recall(export, out, "--format", "html", capsys=capsys)
    assert code == 0, err
    html = out.read_text()
    assert (
        html.count("<script") == 3 and "src=" not in html and '<link rel="stylesheet"' not in html
    )
    assert "Chart.js v" in html or "chart.js" in html.lower()
    for row in rows:
        assert json.dumps(row["summary"], ensure_ascii=False) in html
