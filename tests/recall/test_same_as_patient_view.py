"""Recall says what the chart says: every fixture patient's rows are its patient-view cards."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from cds_b12.cli import main
from cds_b12.clinical import evaluate, get_profile
from cds_b12.fhir.read import read_record
from cds_b12.hooks.fixtures import fixture_patients
from cds_b12.hooks.response import respond

from .support import AS_OF, fixture_resources, read_csv, recall, write_export

PATIENTS = fixture_patients()


def patient_view(fixture, profile: str, capsys) -> list[dict]:
    """The cards ``cds-b12 evaluate --hook patient-view --json`` prints for the fixture."""
    code = main(
        [
            "evaluate",
            "--bundle",
            str(fixture.path),
            "--hook",
            "patient-view",
            "--profile",
            profile,
            "--as-of",
            AS_OF.isoformat(),
            "--json",
        ]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)["cards"]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return write_export(tmp_path_factory.mktemp("fixtures-export"), fixture_resources())


@pytest.mark.parametrize("profile", ["us", "uk"])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_every_fixture_patient_gets_its_patient_view_cards(
    export, tmp_path, capsys, profile, workers
):
    out = tmp_path / "recall.csv"
    code, err = recall(export, out, "--profile", profile, "--workers", workers, capsys=capsys)
    assert code == 0, err
    rows = read_csv(out)
    by_patient: dict[str, list[dict]] = {}
    for row in rows:
        by_patient.setdefault(row["patient"], []).append(row)
    fired = 0
    for fixture in PATIENTS:
        cards = patient_view(fixture, profile, capsys)
        mine = by_patient.pop(fixture.patient_id, [])
        assert sorted((r["summary"], r["indicator"]) for r in mine) == sorted(
            (c["summary"], c["indicator"]) for c in cards
        ), fixture.path
        fired += bool(cards)
    assert not by_patient, f"rows for patients that are not in the export: {list(by_patient)}"
    assert fired >= 20, "most fixtures fire a card: the comparison is not vacuous"
    assert f"{len(PATIENTS)} patients evaluated" in err


@pytest.mark.parametrize("profile", ["us", "uk"])
def test_recall_renders_the_same_cards_less_their_suggestions(profile):
    """Recall skips building suggestions (a row shows none); every other field of every
    card, the detail a Task's note carries included, is what patient-view renders."""
    suggested = 0
    for fixture in PATIENTS:
        resources, drafts = fixture.data(AS_OF)
        kwargs = {"profile": get_profile(profile), "as_of": AS_OF, "new_id": lambda: "id"}
        full = respond([*resources, *drafts], **kwargs).body["cards"]
        bare = respond([*resources, *drafts], suggestions=False, **kwargs).body["cards"]
        less = [
            {k: v for k, v in c.items() if k not in ("suggestions", "selectionBehavior")}
            for c in full
        ]
        assert bare == less, fixture.path
        suggested += sum("suggestions" in c for c in full)
    assert suggested >= 10, "the comparison is not vacuous"


def test_the_due_date_is_the_recommendations_typed_date(export, tmp_path, capsys):
    """``due`` is ``Recommendation.due``: overdue since the missed dose, else the first
    dated action; and the rule column is the recommendation's rule."""
    out = tmp_path / "recall.csv"
    assert recall(export, out, capsys=capsys)[0] == 0
    rows = {(r["patient"], r["rule"]): r for r in read_csv(out)}
    profile = get_profile("us")
    checked = 0
    for fixture in PATIENTS:
        resources, drafts = fixture.data(AS_OF)
        evaluation = evaluate(read_record([*resources, *drafts]), profile, AS_OF)
        for rec in evaluation.recommendations:
            row = rows[(fixture.patient_id, rec.rule)]
            assert row["due"] == (rec.due.isoformat() if rec.due else "")
            assert row["overdue"] == ("yes" if rec.due and rec.due < AS_OF else "no")
            assert row["urgency"] == rec.urgency.value
            checked += 1
    overdue = rows[("r11-monthly-overdue", "R11-maintenance-overdue")]
    assert overdue["overdue"] == "yes"
    assert date.fromisoformat(overdue["due"]) < AS_OF - timedelta(days=7)
    assert checked >= 20


def test_rows_are_sorted_by_urgency_then_due(export, tmp_path, capsys):
    """Critical first; within an indicator the urgent ones, then the longest overdue."""
    out = tmp_path / "recall.csv"
    assert recall(export, out, capsys=capsys)[0] == 0
    rows = read_csv(out)
    indicator = {"critical": 0, "warning": 1, "info": 2}
    urgency = {"stat": 0, "urgent": 1, "routine": 2}
    keys = [
        (indicator[r["indicator"]], urgency[r["urgency"]], r["due"] or "9999", r["patient"])
        for r in rows
    ]
    assert keys == sorted(keys)
    assert {r["indicator"] for r in rows} == set(indicator)
    helen = next(r for r in rows if r["patient"] == "r11-monthly-overdue")
    assert (helen["identifier"], helen["name"]) == ("MRN100013", "Kowalski, Helen")
