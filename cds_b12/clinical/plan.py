"""Clinical core: what is planned next for one patient, dated, for the timeline and reminders.

Imports only the standard library and ``cds_b12.clinical``. The plan is read off
the assessment and the recommendations the cards show, never worked out again:
the next dose on the current schedule, the first dose of each suggested regimen,
and each follow-up lab window. The timeline draws it and the calendar lists it,
so the picture, the calendar and the cards cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .assess import PHASE_LOADING, PHASE_MAINTENANCE
from .evaluate import Evaluation
from .recommendation import Kind, LabNote
from .regimens import Regimen


@dataclass(frozen=True, slots=True)
class PlannedDose:
    on: date  # the day to give it: today when it is overdue
    due: date  # the day it was due
    regimen: Regimen | None  # the regimen a card suggests; None: the current order's next dose
    rule: str | None  # the recommendation that plans it, if any
    interval_days: float | None = None  # the current schedule's interval, for the next dose

    @property
    def overdue(self) -> bool:
        return self.due < self.on


@dataclass(frozen=True, slots=True)
class PlannedLab:
    test: str  # a key of codes.ORDERABLE_LABS
    due_from: date
    due_to: date | None
    note: LabNote | None
    rule: str

    def overdue(self, as_of: date) -> bool:
        return (self.due_to or self.due_from) < as_of


@dataclass(frozen=True, slots=True)
class Plan:
    as_of: date
    doses: tuple[PlannedDose, ...]  # one per day, soonest first
    labs: tuple[PlannedLab, ...]  # in the cards' order

    @property
    def next_dose(self) -> PlannedDose | None:
        """The soonest planned dose (today when one is overdue)."""
        return self.doses[0] if self.doses else None


def plan(evaluation: Evaluation, as_of: date) -> Plan:
    """The dated plan behind the cards of ``evaluation``."""
    if evaluation.assessment.is_deceased:  # nothing is planned for a patient who has died
        return Plan(as_of, (), ())
    by_day: dict[date, PlannedDose] = {}
    suggested = _suggested(evaluation, as_of)
    # A card that changes the schedule (a shorter interval, another product, maintenance
    # after loading) replaces its next dose; a missed dose (R11, R12) is the same injection.
    replaced = any(
        rec.regimen is not None and rec.kind is not Kind.GIVE_DOSE
        for rec in evaluation.recommendations
    )
    current = () if replaced else _next_on_schedule(evaluation, as_of)
    for dose in (*current, *suggested):
        kept = by_day.get(dose.on)
        by_day[dose.on] = dose if kept is None else _merge(kept, dose)
    labs = tuple(
        PlannedLab(lab.test, lab.due_from, lab.due_to, lab.note, rec.rule)
        for rec in evaluation.recommendations
        for lab in rec.labs
    )
    return Plan(as_of, tuple(by_day[day] for day in sorted(by_day)), labs)


def _next_on_schedule(evaluation: Evaluation, as_of: date) -> tuple[PlannedDose, ...]:
    """The next dose on the current schedule (today if it is overdue)."""
    a = evaluation.assessment
    if a.phase not in (PHASE_LOADING, PHASE_MAINTENANCE) or a.last_dose is None:
        return ()
    if a.interval_days is None:
        return ()
    due = a.last_dose + timedelta(days=round(a.interval_days))
    # the card about the missed dose (R11, R12) is the reason it is on the plan
    rule = next((r.rule for r in evaluation.recommendations if r.overdue_since), None)
    return (PlannedDose(max(due, as_of), due, None, rule, a.interval_days),)


def _suggested(evaluation: Evaluation, as_of: date) -> tuple[PlannedDose, ...]:
    """The first dose of each regimen a card suggests; a single dose given now (R11, R12)
    is the next dose on the current schedule, already planned."""
    doses = []
    for rec in evaluation.recommendations:
        if rec.regimen is not None and not rec.regimen.is_single_dose:
            on = rec.start_on or as_of
            doses.append(PlannedDose(on, min(on, rec.overdue_since or on), rec.regimen, rec.rule))
    return tuple(doses)


def _merge(kept: PlannedDose, other: PlannedDose) -> PlannedDose:
    """Two plans for one day are one injection: the suggested regimen names what to give."""
    swap = kept.regimen is None and other.regimen is not None
    lead, second = (other, kept) if swap else (kept, other)
    return PlannedDose(
        lead.on,
        min(lead.due, second.due),
        lead.regimen,
        lead.rule or second.rule,
        lead.interval_days or second.interval_days,
    )
