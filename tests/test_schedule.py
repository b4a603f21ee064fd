"""``cds-b12 schedule``: a patient's reminder calendar from a bundle, and what goes in it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from icalendar import Calendar

from cds_b12 import reminders
from cds_b12.cli import main
from cds_b12.clinical import get_profile
from cds_b12.clinical.plan import Plan, PlannedLab
from cds_b12.clinical.recommendation import LabNote
from cds_b12.hooks.fixtures import find_fixture
from cds_b12.hooks.response import respond

AS_OF = date(2026, 11, 21)
R11 = find_fixture("r11-monthly-overdue")


def test_schedule_writes_the_calendar(tmp_path, capsys):
    out = tmp_path / "plan.ics"
    code = main(
        ["schedule", "--bundle", str(R11.path), "--ics", str(out), "--as-of", AS_OF.isoformat()]
    )
    assert code == 0
    assert capsys.readouterr().err == f"wrote 1 events to {out}\n"
    (event,) = Calendar.from_ical(out.read_bytes()).events
    assert event.start == AS_OF and "overdue" in str(event["summary"])
    resources, _ = R11.data(AS_OF)
    same = reminders.calendar(
        respond(resources, profile=get_profile("us"), as_of=AS_OF),
        get_profile("us"),
        AS_OF,
        patient_id="r11-monthly-overdue",
    )
    assert out.read_bytes() == same.to_ical(), "the same file as the timeline's"


def test_schedule_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys):
    not_json = tmp_path / "x.json"
    not_json.write_text("{nope")
    out = tmp_path / "plan.ics"
    assert main(["schedule", "--bundle", str(not_json), "--ics", str(out)]) == 2
    assert capsys.readouterr().err.startswith(f"cds-b12: error: {not_json} is not JSON")
    assert (
        main(["schedule", "--bundle", str(R11.path), "--ics", str(tmp_path / "no" / "p.ics")]) == 2
    )
    assert "cannot write" in capsys.readouterr().err
    assert not out.exists()


def test_an_overdue_lab_window_is_on_today(monkeypatch):
    resources, _ = find_fixture("r2-pa-low-b12").data(AS_OF)
    result = respond(resources, profile=get_profile("us"), as_of=AS_OF)
    missed = PlannedLab(
        "CBC",
        AS_OF - timedelta(days=30),
        AS_OF - timedelta(days=20),
        LabNote.REPEAT,
        "R2-start-standard-loading",
    )
    monkeypatch.setattr(reminders, "plan", lambda evaluation, as_of: Plan(as_of, (), (missed,)))
    (event,) = reminders.calendar(result, get_profile("us"), AS_OF, patient_id="p").events
    assert event.start == AS_OF
    assert str(event["summary"]) == "CBC: overdue"
    assert f"Was due {missed.due_from.isoformat()} to {missed.due_to.isoformat()}" in str(
        event["description"]
    )


def test_a_lab_events_note_states_the_profile_value(monkeypatch):
    """The potassium recheck reads the profile's hours, as the card does."""
    profile = replace(get_profile("us"), potassium_recheck_days=(1, 3))
    resources, _ = find_fixture("r2-pa-low-b12").data(AS_OF)
    result = respond(resources, profile=profile, as_of=AS_OF)
    recheck = PlannedLab(
        "POTASSIUM",
        AS_OF + timedelta(days=1),
        AS_OF + timedelta(days=3),
        LabNote.AT_48_HOURS,
        "R1-start-neuro-loading",
    )
    monkeypatch.setattr(reminders, "plan", lambda evaluation, as_of: Plan(as_of, (), (recheck,)))
    (event,) = reminders.calendar(result, profile, AS_OF, patient_id="p").events
    assert "72 hours after the first dose: hypokalemia risk" in str(event["description"])


def test_the_calendar_says_for_life_only_for_an_irreversible_cause():
    """Issue 11 §4, as on the card: pernicious anaemia is for life, an unknown cause is not."""
    texts = {}
    for patient in ("r2-pa-low-b12", "r2-unknown-cause-pmol"):
        resources, _ = find_fixture(patient).data(AS_OF)
        profile = get_profile("uk")
        cal = reminders.calendar(
            respond(resources, profile=profile, as_of=AS_OF), profile, AS_OF, patient_id=patient
        )
        texts[patient] = " ".join(str(e.get("description")) for e in cal.events)
    assert "for life" in texts["r2-pa-low-b12"]
    assert "then every 2–3 months" in texts["r2-unknown-cause-pmol"]
    assert "for life" not in texts["r2-unknown-cause-pmol"]
