"""Clinical core: one patient's B12 story over time, for the timeline picture.

Pure, like the rest of the core: it lays out what the assessment already knows
(results in one unit each, injections, treatment phases) and what the
recommendations plan (``plan.py``: the next dose, labs due), with the reference
bands the rules themselves use.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from .assess import PHASE_LOADING, PHASE_MAINTENANCE, Assessment, Phase
from .bands import anaemia_below
from .evaluate import Evaluation
from .plan import PlannedDose, plan
from .plausible import plausible
from .profiles import Profile
from .record import LabKind, PatientRecord

SHOWN = (LabKind.B12, LabKind.MMA, LabKind.HB, LabKind.MCV)


@dataclass(frozen=True, slots=True)
class Series:
    kind: LabKind
    unit: str
    points: tuple[tuple[date, float], ...]  # oldest first
    normal_low: float | None  # the reference band the rules use
    normal_high: float | None


@dataclass(frozen=True, slots=True)
class Band:
    phase: Phase  # LOADING or MAINTENANCE
    start: date
    end: date


@dataclass(frozen=True, slots=True)
class DueLab:
    test: str
    due_from: date
    due_to: date | None


@dataclass(frozen=True, slots=True)
class Timeline:
    as_of: date
    series: tuple[Series, ...]
    doses: tuple[date, ...]
    planned_doses: tuple[date, ...]  # the schedule's next dose, and the start of a suggested one
    next_dose: PlannedDose | None  # the soonest of them, with the day it was due
    due_labs: tuple[DueLab, ...]
    phases: tuple[Band, ...]


def timeline(
    record: PatientRecord, evaluation: Evaluation, profile: Profile, as_of: date
) -> Timeline:
    a = evaluation.assessment
    planned = plan(evaluation, as_of)
    return Timeline(
        as_of=as_of,
        series=tuple(_series(record, a, profile, kind) for kind in SHOWN),
        doses=a.doses,
        planned_doses=tuple(dose.on for dose in planned.doses),
        next_dose=planned.next_dose,
        due_labs=tuple(DueLab(lab.test, lab.due_from, lab.due_to) for lab in planned.labs),
        phases=_phases(a, profile, as_of),
    )


def _series(record: PatientRecord, a: Assessment, profile: Profile, kind: LabKind) -> Series:
    points = tuple(
        sorted(
            {
                (lab.on, lab.value)
                for lab in record.labs
                if lab.kind is kind and plausible(lab, profile)  # R25's: never drawn
            }
        )
    )
    low, high = {
        LabKind.B12: (profile.b12_indeterminate_below_ng_l, None),
        LabKind.MMA: (None, profile.mma_upper_umol_l),
        LabKind.HB: (_hb_lower(record, profile) if a.is_adult else None, None),
        LabKind.MCV: (profile.mcv_normal_from_fl, profile.macrocytosis_above_fl),
    }[kind]
    return Series(kind, kind.unit, points, low, high)


def _hb_lower(record: PatientRecord, profile: Profile) -> float:
    """The non-pregnant WHO cut-off for the patient's sex: the picture spans years. An
    adult one: none is drawn below the adult age, where the rules apply none (``bands``)."""
    return anaemia_below(profile, record.patient.sex if record.patient else None, pregnant=False)


def _phases(a: Assessment, p: Profile, as_of: date) -> tuple[Band, ...]:
    """Loading where doses come within the loading gap (two weeks) of each other,
    maintenance where they are further apart, nothing across a gap long enough to start a
    new course: the same profile values as the phase the rules read."""
    bands: list[Band] = []
    for first, second in itertools.pairwise(a.doses):
        gap = (second - first).days
        if gap > p.new_course_gap_days:
            continue
        phase = PHASE_LOADING if gap <= p.loading_gap_days else PHASE_MAINTENANCE
        if bands and bands[-1].phase is phase and bands[-1].end == first:
            bands[-1] = Band(phase, bands[-1].start, second)
        else:
            bands.append(Band(phase, first, second))
    if bands and a.phase in (PHASE_LOADING, PHASE_MAINTENANCE) and a.last_dose == bands[-1].end:
        last = bands[-1]
        if last.phase is a.phase:
            bands[-1] = Band(last.phase, last.start, as_of)
        else:
            bands.append(Band(a.phase, last.end, as_of))
    return tuple(bands)
