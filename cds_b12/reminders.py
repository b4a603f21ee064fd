"""Reminders: one patient's plan as an iCalendar file a person can put in a calendar.

May import every layer below the API, and ``icalendar`` (RFC 5545). The events
come from ``clinical.plan``, which the timeline draws too, and from the cards of
the same evaluation: one all-day event per planned injection (the regimen in its
description) and one per follow-up lab window, each with an alarm a day ahead.
Anything overdue is put on today and says so. Event UIDs are stable (patient,
kind, day, test), so importing a newer file updates the events instead of adding
a second copy, and the file is the same bytes for the same data and date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from icalendar import Alarm, Calendar, Event

from .clinical import Profile
from .clinical.plan import PlannedDose, PlannedLab, plan
from .clinical.recommendation import LabNote
from .hooks.response import HookResult, respond
from .render import CardLibrary, load_card_library, schedule_text
from .render.escape import Markup
from .render.facts import FactWords
from .render.suggestions import for_life
from .render.thresholds import ProfileValues

PRODID = "-//cds-b12//B12 reminders//EN"
ALARM_BEFORE = timedelta(days=1)
DAY = timedelta(days=1)


def calendar(
    result: HookResult,
    profile: Profile,
    as_of: date,
    *,
    patient_id: str,
    library: CardLibrary | None = None,
) -> Calendar:
    """The reminder calendar of one hook answer (its evaluation and its cards)."""
    words = _Words(library or load_card_library(), profile)
    summaries = _summaries(result)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", words("name", patient=patient_id))
    stamp = datetime.combine(as_of, time.min, UTC)  # the data's date, not the clock: stable bytes
    planned = plan(result.evaluation, as_of)
    # "for life" as the card says it: only for an irreversible cause (render.suggestions.for_life)
    lifelong = {rec.rule: for_life(rec) for rec in result.evaluation.recommendations}
    for dose in planned.doses:
        life = lifelong.get(dose.rule or "", False)
        cal.add_component(_dose_event(dose, words, summaries, patient_id, stamp, life))
    for group in _same_window(planned.labs):
        cal.add_component(_lab_event(group, words, summaries, patient_id, stamp, as_of))
    return cal


def write_calendar(resources: list[dict], path: Path, profile: Profile, as_of: date) -> int:
    """``cds-b12 schedule``: the calendar of a patient-view call on ``resources``, written
    to ``path`` only once complete; returns the number of events."""
    result = respond(resources, profile=profile, as_of=as_of)
    patient = next((r.get("id") for r in resources if r.get("resourceType") == "Patient"), None)
    cal = calendar(result, profile, as_of, patient_id=str(patient or "unknown"))
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(cal.to_ical())
    partial.replace(path)
    return len(cal.events)


def calendar_bytes(result: HookResult, profile: Profile, as_of: date, *, patient_id: str) -> bytes:
    return calendar(result, profile, as_of, patient_id=patient_id).to_ical()


class _Words:
    """The calendar's words. An iCalendar file is plain text (``icalendar`` escapes it for
    RFC 5545), not Markdown, so values go in as they are rather than Markdown-escaped."""

    def __init__(self, library: CardLibrary, profile: Profile) -> None:
        self.library, self.profile = library, profile.name
        self.facts = FactWords(library, profile.name)
        self.values = ProfileValues(profile, self.facts)

    def __call__(self, key: str, **values: object) -> str:
        return self.library.text("calendar", key, self.profile, _plain(values))

    def section(self, key: str, **values: object) -> str:
        return self.library.text("sections", key, self.profile, _plain(values))

    def note(self, note: LabNote) -> str:
        """Why a lab is due, the profile's numbers in it as the card states them."""
        return self.library.lab_note(note, self.profile, self.values)


def _plain(values: dict[str, object]) -> dict[str, Markup]:
    return {key: Markup(str(value)) for key, value in values.items()}


def _summaries(result: HookResult) -> Mapping[str, str]:
    """Each rule's card summary, the reason an event is on the calendar."""
    recs = result.evaluation.recommendations
    return {rec.rule: card["summary"] for rec, card in zip(recs, result.body["cards"], strict=True)}


def _event(uid: str, start: date, end: date, title: str, lines: list[str], stamp: datetime):
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)  # all-day: DTEND is the day after the last day (RFC 5545 3.6.1)
    event.add("summary", title)
    event.add("description", "\n".join(line for line in lines if line))
    event.add("transp", "TRANSPARENT")  # a reminder, not a busy block
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -ALARM_BEFORE)
    alarm.add("description", title)
    event.add_component(alarm)
    return event


def _reason(rule: str | None, words: _Words, summaries: Mapping[str, str]) -> str:
    return words("reason", summary=summaries[rule]) if rule in summaries else ""


def _dose_event(
    dose: PlannedDose,
    words: _Words,
    summaries: Mapping[str, str],
    patient_id: str,
    stamp: datetime,
    lifelong: bool,
) -> Event:
    title = words("dose_overdue", due=dose.due.isoformat()) if dose.overdue else words("dose")
    if dose.regimen is not None:
        how = words("dose_plan", schedule=schedule_text(dose.regimen, for_life=lifelong))
    else:
        interval = words.facts.interval(dose.interval_days) if dose.interval_days else ""
        how = words("dose_current", interval=interval)
    lines = [how, _reason(dose.rule, words, summaries)]
    uid = f"{patient_id}-dose-{dose.on.isoformat()}@cds-b12"
    event = _event(uid, dose.on, dose.on + DAY, title, lines, stamp)
    event.add("categories", ["B12 injection"])
    return event


def _same_window(labs: tuple[PlannedLab, ...]) -> list[list[PlannedLab]]:
    """Tests due in the same window for the same reason are one event, as on the card."""
    groups: dict[tuple[object, ...], list[PlannedLab]] = {}
    for lab in labs:
        groups.setdefault((lab.rule, lab.due_from, lab.due_to, lab.note), []).append(lab)
    return list(groups.values())


def _lab_event(
    group: list[PlannedLab],
    words: _Words,
    summaries: Mapping[str, str],
    patient_id: str,
    stamp: datetime,
    as_of: date,
) -> Event:
    lab = group[0]
    name = ", ".join(words.library.lab_name(g.test, words.profile) for g in group)
    if lab.due_to is None:
        window = words.section("lab_date", date=lab.due_from.isoformat())
    else:
        window = words.section(
            "lab_window", start=lab.due_from.isoformat(), end=lab.due_to.isoformat()
        )
    note = words.note(lab.note) if lab.note else ""
    if lab.overdue(as_of):
        title, start, end = words("lab_overdue", lab=name), as_of, as_of + DAY
        when = words("lab_was_due", window=window)
    else:
        title, start, end = words("lab", lab=name), lab.due_from, (lab.due_to or lab.due_from) + DAY
        when = words("lab_due", window=window)
    lines = [when, note[:1].upper() + note[1:], _reason(lab.rule, words, summaries)]
    tests = "-".join(g.test for g in group)
    uid = f"{patient_id}-lab-{tests}-{lab.due_from.isoformat()}@cds-b12"
    event = _event(uid, start, end, title, lines, stamp)
    event.add("categories", ["B12 lab"])
    return event


__all__ = ["calendar", "calendar_bytes", "write_calendar"]
