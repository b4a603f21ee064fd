"""Render layer: the timeline as JSON for the timeline page; ISO dates, one unit per series,
named as the profile's cards name it (US B12 in pg/mL)."""

from __future__ import annotations

from ..clinical.timeline import Timeline
from .facts import FactWords
from .wording import CardLibrary, load_card_library


def timeline_json(
    t: Timeline, *, patient_id: str, profile: str, library: CardLibrary | None = None
) -> dict:
    words = FactWords(library or load_card_library(), profile)
    return {
        "patient": patient_id,
        "asOf": t.as_of.isoformat(),
        "profile": profile,
        "series": [
            {
                "kind": s.kind.value,
                "unit": str(words.unit(s.kind)),  # the same number in the profile's words
                "points": [[on.isoformat(), value] for on, value in s.points],
                "normalLow": s.normal_low,
                "normalHigh": s.normal_high,
            }
            for s in t.series
        ],
        "doses": [d.isoformat() for d in t.doses],
        "plannedDoses": [d.isoformat() for d in t.planned_doses],
        # the card's own plan: when to give the next dose, and since when it is overdue
        "nextDose": None
        if t.next_dose is None
        else {
            "on": t.next_dose.on.isoformat(),
            "due": t.next_dose.due.isoformat(),
            "overdue": t.next_dose.overdue,
        },
        "dueLabs": [
            {
                "test": lab.test,
                "from": lab.due_from.isoformat(),
                "to": lab.due_to.isoformat() if lab.due_to else None,
            }
            for lab in t.due_labs
        ],
        "phases": [
            {"phase": b.phase.value, "start": b.start.isoformat(), "end": b.end.isoformat()}
            for b in t.phases
        ],
    }
