"""Clinical core: follow-up lab timing after treatment starts (``b12-clinical.md`` §2.7).

Imports only the standard library and ``cds_b12.clinical``. Test keys are
those of ``codes.ORDERABLE_LABS``; every interval is a profile value.
"""

from __future__ import annotations

from datetime import date, timedelta

from .assess import Assessment, Cause
from .profiles import Profile
from .recommendation import LabNote, LabOrder, Urgency


def on(day: date, test: str, note: LabNote | None = None) -> LabOrder:
    return LabOrder(test, day, note=note)


def window(start: date, days: tuple[int, int], test: str, note: LabNote | None = None) -> LabOrder:
    return LabOrder(test, start + timedelta(days=days[0]), start + timedelta(days=days[1]), note)


def after(start: date, days: int, test: str, note: LabNote | None = None) -> LabOrder:
    return on(start + timedelta(days=days), test, note)


def baseline_labs(a: Assessment, *, antibodies: bool, pca: bool = False) -> tuple[LabOrder, ...]:
    """S13: draw before dose 1; treatment invalidates later B12 and IF-antibody results.
    No antibody tests when the cause is already known (irreversible, or nitrous oxide: S12)."""
    tests = ["CBC", "RETIC", "FOLATE", "FERRITIN"]
    if a.b12 is None:
        tests.append("B12")
    known = a.cause is Cause.IRREVERSIBLE_MALABSORPTION or a.nitrous_oxide_cause
    if antibodies and not known:
        tests.append("IF_AB")
        if pca:
            tests.append("PCA")
    return tuple(on(a.as_of, t, LabNote.BASELINE) for t in tests)


def potassium_labs(start: date, p: Profile, *, baseline: bool = True) -> tuple[LabOrder, ...]:
    """S6: K+ at baseline and within 48 hours when Hb is below the profile's cut-off;
    ``baseline`` False when a (low) baseline is already on file: the 48-hour recheck only."""
    recheck = window(start, p.potassium_recheck_days, "POTASSIUM", LabNote.AT_48_HOURS)
    return (on(start, "POTASSIUM", LabNote.BASELINE), recheck) if baseline else (recheck,)


def response_labs(start: date, p: Profile) -> tuple[LabOrder, ...]:
    """Retic at the response window and CBC with retic once the count normalises (§2.7)."""
    return (
        window(start, p.retic_response_days, "RETIC", LabNote.RESPONSE),
        after(start, p.cbc_response_days, "CBC", LabNote.EIGHT_WEEKS),
        after(start, p.cbc_response_days, "RETIC", LabNote.EIGHT_WEEKS),
    )


def merge(*groups: tuple[LabOrder, ...]) -> tuple[LabOrder, ...]:
    """Concatenate lab orders, keeping the first of any (test, date) duplicate."""
    seen: set[tuple[str, date]] = set()
    out: list[LabOrder] = []
    for group in groups:
        for lab in group:
            if (lab.test, lab.due_from) not in seen:
                seen.add((lab.test, lab.due_from))
                out.append(lab)
    return tuple(out)


def lab_priority(lab: LabOrder, urgency: Urgency, as_of: date, p: Profile) -> Urgency:
    """The one priority rule for every card's tests (issue 11 §4): the baseline and 48-hour
    potassium checks are always urgent (S6: hypokalaemia early in severe-anaemia loading);
    any other test due within that 48-hour window is as urgent as its card, and a test
    scheduled later is routine, whatever the card."""
    if lab.test == "POTASSIUM" and lab.note in (LabNote.BASELINE, LabNote.AT_48_HOURS):
        return max(urgency, Urgency.URGENT, key=_URGENCY_RANK.index)
    if lab.due_from > as_of + timedelta(days=p.potassium_recheck_days[1]):
        return Urgency.ROUTINE
    return urgency


_URGENCY_RANK = (Urgency.ROUTINE, Urgency.URGENT, Urgency.STAT)
