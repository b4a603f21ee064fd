"""Clinical core: one patient's §6.1 inputs, as the ``Assessment`` every rule reads.

Imports only the standard library and ``cds_b12.clinical``. Pure: the record,
the profile and ``as_of`` go in, an Assessment comes out; no clock, no I/O.
``assess`` is the one entry point; each concern is derived in its own module
(``bands``: the lab results, ``cause``: cause and nerves, ``course``: phase,
interval and adherence) and the rules read the Assessment through its fields and
the predicates below, so each derivation lives in exactly one place.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from operator import attrgetter

from .bands import (
    Anaemia,
    Band,
    Functional,
    LabFindings,
    assess_labs,
    baseline_hypokalaemia,
    by_kind,
    early_hypokalaemia,
)
from .builder import builder
from .cause import Cause, CauseFindings, Exposure, Neuro, any_neuro, assess_cause, is_current
from .codes import SYMPTOM_FINDINGS
from .course import (
    PHASE_LOADING,
    PHASE_MAINTENANCE,
    PHASE_NONE,
    PHASE_ORAL,
    CourseFindings,
    Phase,
    assess_course,
    injection_dates,
)
from .markers import Confounded, confounded_markers, raised
from .plausible import set_aside
from .profiles import Profile
from .record import (
    ClinicalFinding,
    Finding,
    IgnoredResult,
    Lab,
    LabKind,
    Medication,
    Note,
    PatientRecord,
    UndecidedResult,
    UnreadableResult,
)

__all__ = [
    "PHASE_LOADING",
    "PHASE_MAINTENANCE",
    "PHASE_NONE",
    "PHASE_ORAL",
    "Anaemia",
    "Assessment",
    "Band",
    "Cause",
    "Exposure",
    "Functional",
    "Neuro",
    "Phase",
    "assess",
    "is_current",
]


@dataclass(frozen=True, slots=True)
class Assessment:
    # Each concern's findings in its own order, one block each: ``assess`` builds the
    # record positionally, from the blocks (``_values``).
    as_of: date
    profile: Profile
    record: PatientRecord
    notes: tuple[Note, ...]  # the reader's, then the results the assessment set aside
    labs: tuple[Lab, ...]  # the record's plausible results up to as_of, oldest first
    # the reader's unreadable results, then those outside the profile's plausible_limits
    unreadable: tuple[UnreadableResult, ...]
    by_kind: Mapping[LabKind, tuple[Lab, ...]]  # the same, each kind's (``bands.by_kind``)

    age_years: int | None
    pregnant: bool
    breastfeeding: bool  # NG239 (UK-8): the pregnancy review interval applies
    active_findings: frozenset[Finding]  # what ``has`` asks of, indexed once

    # bands.LabFindings
    b12: Lab | None
    b12_band: Band
    ignored_b12: tuple[Lab, ...]
    last_b12_test: date | None
    mma: Lab | None
    hcy: Lab | None
    functional: Functional
    functional_rising: bool
    hb: Lab | None
    anaemia: Anaemia
    hb_falling: bool
    mcv: Lab | None
    macrocytosis: bool
    mcv_rising: bool
    wbc: Lab | None
    neutrophils: Lab | None
    platelets: Lab | None
    pancytopenia: bool
    undecided: tuple[Lab, ...]

    # cause.CauseFindings
    neuro: Neuro
    neuro_findings: tuple[ClinicalFinding, ...]
    cause: Cause
    cause_findings: tuple[ClinicalFinding, ...]
    metformin: Exposure | None
    acid_suppressant: Exposure | None
    nitrous_oxide: tuple[ClinicalFinding, ...]
    neuro_history: bool
    confounded: tuple[Confounded, ...]  # raised MMA/Hcy another cause can explain (R24)

    # course.CourseFindings
    doses: tuple[date, ...]  # injections given, oldest first
    phase: Phase
    order: Medication | None
    course_start: date | None
    course_doses: int
    neuro_course: bool
    loading_complete: bool
    interrupted: bool
    last_dose: date | None
    days_since_last_dose: int | None
    undated_since: date | None
    interval_days: float | None
    reloaded_from_days: float | None
    grace_days: int | None
    adherent: bool
    neuro_recurrence: tuple[ClinicalFinding, ...]
    symptom_recurrence: tuple[ClinicalFinding, ...]

    # S6: a low potassium in the first days of a course begun with severe anaemia
    early_hypokalaemia: Lab | None
    # S6: a low potassium before the first dose of such a course (or before one starts)
    baseline_hypokalaemia: Lab | None

    # ---- predicates that rules share ----
    @property
    def is_deficient(self) -> bool:
        """§6.2 R1/R2 "deficiency": low level or abnormal functional marker, unless the
        marker is explained by another cause with a normal B12 (R24)."""
        if self.b12_band is Band.DEFICIENT:
            return True
        return self.functional is Functional.ABNORMAL and not self.markers_explained

    @property
    def markers_explained(self) -> bool:
        """R24: a normal B12 whose every raised MMA/Hcy has another cause on file (§2.4,
        §2.5). Never with neurological signs or nitrous oxide: R1/R6 still treat (S8, S12)."""
        if self.b12_band is not Band.NORMAL or self.functional is not Functional.ABNORMAL:
            return False
        if self.has_neuro or self.nitrous_oxide:
            return False
        explained = {c.marker for c in self.confounded}
        markers = (self.mma, self.hcy)
        return all(m in explained for m in markers if m is not None and raised(m, self.profile))

    @property
    def is_adult(self) -> bool:
        """The adult guidance applies: at or over the profile's adult age, or no birth date
        (treated as an adult; the reader notes the missing date)."""
        return _adult(self.age_years, self.profile)

    @property
    def treatment_start(self) -> date | None:
        """The first dose of the current course, or a later loading order's start."""
        return _treatment_start(self)

    @property
    def is_deceased(self) -> bool:
        """Dead by ``as_of`` (a death dated later, in an evaluation of the past, is not yet)."""
        p = self.record.patient
        return bool(p and p.deceased and (p.deceased_on is None or p.deceased_on <= self.as_of))

    @property
    def b12_not_excluded(self) -> bool:
        """R5/R6: an indeterminate B12, or a normal one that nitrous oxide exposure leaves
        open (SP-9, S12: B12 is inactivated, so total B12 may be normal) until a
        functional marker is back normal."""
        if self.b12_band is Band.INDETERMINATE:
            return True
        return (
            self.b12_band is Band.NORMAL
            and bool(self.nitrous_oxide)
            and self.functional is not Functional.NORMAL
        )

    @property
    def nitrous_oxide_cause(self) -> bool:
        """S12: nitrous oxide is the recorded cause (a known, reversible one)."""
        return self.cause is Cause.MEDICATION and any(
            f.finding is Finding.NITROUS_OXIDE for f in self.cause_findings
        )

    @property
    def is_irreversible(self) -> bool:
        return self.cause is _IRREVERSIBLE

    @property
    def has_neuro(self) -> bool:
        return self.neuro is not Neuro.NONE

    @property
    def is_anaemic(self) -> bool:
        return self.anaemia in (Anaemia.MILD, Anaemia.MODERATE, Anaemia.SEVERE)

    @property
    def needs_injections(self) -> bool:
        """Moderate or severe anaemia, or pancytopenia: IM loading, never tablets first
        (US-4: severe haematological disease is treated urgently; US-5: oral only if not
        severe; R3's mild-anaemia limit)."""
        return self.anaemia in (Anaemia.MODERATE, Anaemia.SEVERE) or self.pancytopenia

    @property
    def days_late(self) -> int:
        """Days since the next dose fell due; 0 when not yet due or not on maintenance."""
        if self.days_since_last_dose is None or self.interval_days is None:
            return 0
        return max(0, int(self.days_since_last_dose - self.interval_days))

    @property
    def is_overdue(self) -> bool:
        """R11: later than the interval plus the grace period."""
        return self.days_late > (self.grace_days or 0)

    @property
    def missed_doses(self) -> int:
        """Doses that fell due since the last one given (R12)."""
        if self.days_since_last_dose is None or not self.interval_days:
            return 0
        return int(self.days_since_last_dose // self.interval_days)

    @property
    def has_lab_drift(self) -> bool:
        """R14: Hb falling into anaemia, MCV rising above 100, or MMA/Hcy rising."""
        return self.hb_falling or self.mcv_rising or self.functional_rising

    def findings(self, *wanted: Finding, active_only: bool = True) -> tuple[ClinicalFinding, ...]:
        return tuple(
            f for f in self.record.findings if f.finding in wanted and (f.active or not active_only)
        )

    def has(self, *wanted: Finding) -> bool:
        """Any of ``wanted`` is recorded active."""
        return not self.active_findings.isdisjoint(wanted)

    def days_ago(self, when: date | None) -> int | None:
        return None if when is None else (self.as_of - when).days


def assess(record: PatientRecord, profile: Profile, as_of: date) -> Assessment:
    """Derive every §6.1 input from one record; never reads the clock."""
    labs = _up_to(record.labs, as_of)
    meds = tuple(m for m in record.medications if m.on is None or m.on <= as_of)
    patient = record.patient
    active = frozenset(f.finding for f in record.findings if f.active)
    pregnant = Finding.PREGNANCY in active
    doses, raised_by = injection_dates(meds, as_of)  # raised_by: S2, with Cyanokit (S10)
    age = _age(patient.birth_date, as_of) if patient and patient.birth_date else None
    of = {kind: tuple(results) for kind, results in by_kind(labs).items()}
    labs, of, implausible = set_aside(labs, of, profile)  # no patient's values: R25
    lab_findings = assess_labs(
        labs, of, raised_by, patient, pregnant, profile, as_of, adult=_adult(age, profile)
    )
    cause = assess_cause(record.findings, meds, profile, as_of)
    neuro_history = any_neuro(record.findings)
    symptoms = tuple(f for f in record.findings if f.finding in SYMPTOM_FINDINGS)
    course = assess_course(
        meds, doses, cause.neuro_findings, symptoms, neuro_history, profile, as_of, record.findings
    )
    ignored = tuple(
        IgnoredResult(lab.resource_id, lab.on, profile.post_injection_b12_invalid_days)
        for lab in lab_findings.ignored_b12
    )
    undecided = tuple(
        UndecidedResult(lab.resource_id, lab.on, lab.kind) for lab in lab_findings.undecided
    )
    return _build_assessment(
        as_of,
        profile,
        record,
        (*record.notes, *implausible, *ignored, *undecided),
        labs,
        (*record.unreadable, *implausible),
        of,
        age,
        pregnant,
        Finding.BREASTFEEDING in active,
        active,
        *_LAB_VALUES(lab_findings),
        *_CAUSE_VALUES(cause),
        neuro_history,
        confounded_markers(
            of, record.findings, (lab_findings.mma, lab_findings.hcy), profile, as_of
        ),
        doses,
        *_COURSE_VALUES(course),
        *_hypokalaemia(of, lab_findings, course, profile, as_of),
    )


def _hypokalaemia(
    of: Mapping[LabKind, tuple[Lab, ...]],
    found: LabFindings,
    course: CourseFindings,
    p: Profile,
    as_of: date,
) -> tuple[Lab | None, Lab | None]:
    """S6: a low potassium in a severe-anaemia course's first days, or before its first
    dose (before any course: an old one does not count): ``early_hypokalaemia`` and
    ``baseline_hypokalaemia``."""
    severe = found.anaemia is Anaemia.SEVERE or found.pancytopenia
    start = _treatment_start(course)
    untreated = course.phase is PHASE_NONE
    baseline = None
    if untreated or start is not None:
        baseline = baseline_hypokalaemia(of, None if untreated else start, severe, p, as_of)
    return early_hypokalaemia(of, start, severe, p, as_of), baseline


_build_assessment = builder(Assessment)  # 55 fields: a frozen record's stores, cheaply
_IRREVERSIBLE = Cause.IRREVERSIBLE_MALABSORPTION  # bound once (see course.PHASE_NONE)
_ON = attrgetter("on")  # the sort key of results, as a C function


def _up_to(labs: tuple[Lab, ...], as_of: date) -> tuple[Lab, ...]:
    """The results up to ``as_of``, oldest first: all sorted, then cut at ``as_of``. The
    sort is stable, so this is the sort of those up to ``as_of``, with no Python-level
    pass over every result."""
    ordered = sorted(labs, key=_ON)
    return tuple(ordered[: bisect_right(ordered, as_of, key=_ON)])


def _values(concern: type) -> attrgetter:
    """A C getter of a concern's field values, in its order: an Assessment block."""
    return attrgetter(*(f.name for f in fields(concern)))


_LAB_VALUES = _values(LabFindings)
_CAUSE_VALUES = _values(CauseFindings)
_COURSE_VALUES = _values(CourseFindings)


def _treatment_start(c: Assessment | CourseFindings) -> date | None:
    """When the current course began: its first dose, or a later loading order's start
    (a course ordered but with no dose recorded yet)."""
    starts = [c.course_start]
    if c.phase is PHASE_LOADING and c.order is not None:
        starts.append(c.order.start or c.order.on)
    return max((d for d in starts if d is not None), default=None)


def _adult(age: int | None, p: Profile) -> bool:
    return age is None or age >= p.adult_age_years


def _age(born: date, as_of: date) -> int:
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
