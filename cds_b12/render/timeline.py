"""Render layer: the timeline as JSON for the timeline page; ISO dates, one unit per series."""

from __future__ import annotations

from ..clinical.timeline import Timeline


def timeline_json(t: Timeline, *, patient_id: str, profile: str) -> dict:
    return {
        "patient": patient_id,
        "asOf": t.as_of.isoformat(),
        "profile": profile,
        "series": [
            {
                "kind": s.kind.value,
                "unit": s.unit,
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
