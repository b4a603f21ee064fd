"""Clinical core: where the patient is in treatment: phase, course, interval, adherence (§6.1).

Imports only the standard library and ``cds_b12.clinical``. Pure: medications,
the injection dates, the profile and ``as_of`` in; ``CourseFindings`` out.
Administrations (doses actually given) come first, then the current order, then
oral therapy; Cyanokit is never B12 therapy (S10). Only administrations date a dose:
an order or a MedicationStatement says a regimen exists, not when doses were given
(Seed 2: keep records of injection dates), so no dose is inferred from its dates.
Oral therapy started after the last injection evidence is the regimen in force.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .builder import builder
from .cause import is_current
from .profiles import Profile
from .record import ADMINISTRATION, B12_INJECTION, ClinicalFinding, Medication, Product
from .regimens import CATALOGUE


class Phase(StrEnum):
    NONE = "NONE"
    LOADING = "LOADING"
    MAINTENANCE = "MAINTENANCE"
    ORAL = "ORAL"


# The members as plain names, for the rules' tests of the phase (see record.REQUEST): a read
# of an Enum class attribute costs some 900 instructions on Python 3.11, a global next to none.
PHASE_NONE, PHASE_LOADING, PHASE_MAINTENANCE, PHASE_ORAL = (
    Phase.NONE,
    Phase.LOADING,
    Phase.MAINTENANCE,
    Phase.ORAL,
)

GIVEN = frozenset({"completed", "in-progress", "stopped"})  # administration statuses


@dataclass(frozen=True, slots=True)
class Course:
    """The current course: the doses since the last gap long enough to start afresh, or
    since a re-load's first dose when it ends in loading again after maintenance."""

    start: date | None = None
    count: int = 0
    span_days: int = 0
    interval: float | None = None  # typical gap between doses in this course
    before_loading: float | None = None  # the maintenance interval before its last loading run


@dataclass(frozen=True, slots=True)
class CourseFindings:
    phase: Phase
    order: Medication | None  # the current B12 order or statement
    course_start: date | None
    course_doses: int
    neuro_course: bool  # the loading course is the open-ended alternate-day neuro course
    loading_complete: bool
    interrupted: bool  # a loading course (or a stray dose) with no dose for too long (R26)
    last_dose: date | None  # the last administration; orders and statements date none
    days_since_last_dose: int | None
    undated_since: date | None  # on injection maintenance since then, no dose on record
    interval_days: float | None
    # S1: loading again after maintenance (a re-load after a relapse): the interval the
    # maintenance doses were given at before it, which maintenance after it must not exceed
    reloaded_from_days: float | None
    grace_days: int | None
    adherent: bool
    neuro_recurrence: tuple[ClinicalFinding, ...]  # new neuro signs since the course began
    symptom_recurrence: tuple[ClinicalFinding, ...]  # Seed 2: tiredness, glossitis since then


_build_course_findings = builder(CourseFindings)  # a frozen record's stores, cheaply


# S2: what makes a serum B12 drawn soon after it unreadable. Cyanokit is not B12 therapy
# (S10), but 5 g of hydroxocobalamin raises serum B12 as an injection does, and more.
B12_RAISING = frozenset({B12_INJECTION, Product.CYANOKIT})


def injection_dates(
    meds: tuple[Medication, ...], as_of: date
) -> tuple[tuple[date, ...], tuple[date, ...]]:
    """Dates B12 injections were given, oldest first (Cyanokit is not B12 therapy, S10),
    and the dates of those and of Cyanokit doses (``B12_RAISING``), from one pass."""
    given = [
        m
        for m in meds
        if m.source is ADMINISTRATION
        and m.product in B12_RAISING
        and m.on is not None
        and m.on <= as_of
        and m.status in GIVEN
    ]
    doses = tuple(sorted({m.on for m in given if m.product is B12_INJECTION}))
    if len(doses) == len(given):  # no Cyanokit, no two doses on one day: the same dates
        return doses, doses
    return doses, tuple(sorted({m.on for m in given}))


def assess_course(
    meds: tuple[Medication, ...],
    doses: tuple[date, ...],
    neuro_findings: tuple[ClinicalFinding, ...],
    symptoms: tuple[ClinicalFinding, ...],
    neuro_history: bool,
    p: Profile,
    as_of: date,
    history: tuple[ClinicalFinding, ...],
) -> CourseFindings:
    """The §6.1 ``phase``, ``interval_days`` and ``days_since_last_dose`` inputs, and more;
    ``history``: every finding, resolved ones too (what was there when the course began)."""
    gaps = [(b - a).days for a, b in itertools.pairwise(doses)]  # days between doses
    course = _course(doses, gaps, p)
    phase, order = _phase(meds, doses, course, p, as_of)
    alternate_days = bool(course.interval and course.interval <= p.neuro_course_max_gap_days)
    neuro_course = alternate_days and p.neuro_course_open_ended and neuro_history
    interval = _interval(phase, order, course, p)
    grace = None
    if interval is not None:
        grace = (
            p.overdue_grace_monthly_days
            if interval <= p.monthly_interval_max_days
            else p.overdue_grace_long_days
        )
    last_dose = doses[-1] if doses else None
    undated_since = None
    if phase is PHASE_MAINTENANCE and not doses and order is not None:
        undated_since = order.start or order.on
    recurrence = symptom_recurrence = ()
    began = course.start or undated_since  # with no dose on record: since the regimen began
    if phase is PHASE_MAINTENANCE and began is not None:
        recurrence = _since(neuro_findings, began, history)
        symptom_recurrence = _since(symptoms, began, history)
    stopped = last_dose is not None and (as_of - last_dose).days > p.loading_interrupted_after_days
    # the neuro course is given on alternate days, so its doses come sooner than 3 a week's
    ended = neuro_course and stopped and _no_further_improvement(neuro_findings)
    complete = (
        phase is PHASE_LOADING
        and (not neuro_course or ended)
        and course.count >= p.loading_complete_doses
        and (ended or course.span_days >= p.loading_complete_days)
    )
    return _build_course_findings(
        phase=phase,
        order=order,
        course_start=course.start,
        course_doses=course.count,
        neuro_course=neuro_course,
        loading_complete=complete,
        interrupted=phase is PHASE_LOADING and not complete and stopped,
        last_dose=last_dose,
        days_since_last_dose=(as_of - last_dose).days if last_dose else None,
        undated_since=undated_since,
        interval_days=interval,
        reloaded_from_days=course.before_loading if phase is PHASE_LOADING else None,
        grace_days=grace,
        adherent=_adherent(doses, gaps, interval, grace, p, as_of),
        neuro_recurrence=recurrence,
        symptom_recurrence=symptom_recurrence,
    )


def _no_further_improvement(neuro_findings: tuple[ClinicalFinding, ...]) -> bool:
    """UK-2: the open-ended neuro course runs "until no further improvement", which the
    clinician documents (§1.4 UK_LOAD_NEURO) by recording the signs resolved: once it has
    stopped after at least the standard course, it is finished, not interrupted (R10,
    R26). With a sign still active nothing says improvement stopped."""
    return not any(f.active for f in neuro_findings)


def _since(
    findings: tuple[ClinicalFinding, ...], start: date, history: tuple[ClinicalFinding, ...]
) -> tuple[ClinicalFinding, ...]:
    """Active findings dated after ``start``: a recurrence on treatment. Not one that only
    writes again a symptom already there when the course began (the same finding dated
    on or before ``start``, unresolved by then), unless it is recorded as a recurrence:
    a long-standing neuropathy is not a recurrence at every visit (R11-R13, S8, S16)."""
    return tuple(
        f
        for f in findings
        if f.active
        and f.on is not None
        and f.on > start
        and (f.recurrence or not _already_there(f, start, history))
    )


def _already_there(f: ClinicalFinding, start: date, history: tuple[ClinicalFinding, ...]) -> bool:
    """The same finding was dated on or before ``start`` and had not resolved before ``f``:
    still active, or resolved only on or after ``f``'s date."""
    return any(
        g.finding is f.finding
        and g.on is not None
        and g.on <= start
        and (g.active if g.resolved_on is None else g.resolved_on >= f.on)
        for g in history
    )


def _course(doses: tuple[date, ...], gaps: list[int], p: Profile) -> Course:
    """``gaps``: the days between ``doses``; the course starts after the last one long
    enough to start afresh."""
    if not doses:
        return Course()
    limit = p.new_course_gap_days
    starts = [i for i, gap in enumerate(gaps, start=1) if gap > limit]
    start_index = starts[-1] if starts else 0
    course = doses[start_index:]
    gaps = gaps[start_index:]
    before, run = _before_loading(gaps, p)
    if before is None:
        return Course(course[0], len(course), (course[-1] - course[0]).days, _median(gaps, p))
    # a re-load is a course of its own: its doses, span and interval count from its first
    # dose (R10, R26), not from the maintenance doses before it
    reload = course[run:]
    span = (reload[-1] - reload[0]).days
    return Course(reload[0], len(reload), span, _median(gaps[run:], p), before)


def _median(gaps: list[int], p: Profile) -> float | None:
    """A run of doses' typical interval: the median of its last few gaps."""
    recent = sorted(gaps[-p.course_interval_gaps :])
    return recent[len(recent) // 2] if recent else None


def _before_loading(gaps: list[int], p: Profile) -> tuple[float | None, int]:
    """S1: when the course ends in a loading run after maintenance doses, the interval
    those maintenance doses were given at (the gap into the loading run left out: doses
    missed, or symptoms back early, are not the interval the patient was on), and the
    index of the run's first dose."""
    run = len(gaps)
    while run and gaps[run - 1] <= p.loading_gap_days:
        run -= 1
    if run == len(gaps):
        return None, run  # not loading now
    before = [g for g in gaps[: max(run - 1, 0)] if g > p.loading_gap_days]
    if not before:
        return None, run  # no maintenance gap before the gap into it
    return _median(before, p), run


def _phase(
    meds: tuple[Medication, ...], doses: tuple[date, ...], course: Course, p: Profile, as_of: date
) -> tuple[Phase, Medication | None]:
    therapy = [m for m in meds if m.source is not ADMINISTRATION and m.is_b12_therapy]
    orders = sorted(
        (m for m in therapy if m.is_injection and is_current(m, as_of)),
        key=lambda m: m.on or date.min,
    )
    order = orders[-1] if orders else None
    oral = sorted(
        (m for m in therapy if not m.is_injection and is_current(m, as_of)),
        key=lambda m: m.start or m.on or date.min,
    )
    if oral and _switched_to_oral(oral[-1], doses, order):
        return PHASE_ORAL, oral[-1]
    recent = bool(doses) and (as_of - doses[-1]).days <= p.no_therapy_lookback_days
    if order is not None and order.timing and order.timing.interval_days is not None:
        if order.timing.interval_days <= p.loading_gap_days:
            return PHASE_LOADING, order
        return PHASE_MAINTENANCE, order
    if recent:
        # one or two stray doses are a loading course begun, not maintenance (R26)
        loading_only = course.interval is None or course.interval <= p.loading_gap_days
        return (PHASE_LOADING if loading_only else PHASE_MAINTENANCE), order
    if order is not None:
        return PHASE_MAINTENANCE, order
    return PHASE_NONE, None


def _switched_to_oral(oral: Medication, doses: tuple[date, ...], order: Medication | None) -> bool:
    """Oral therapy is the regimen in force when no injection order is current, or when a
    replacement dose (not a dietary one) started after the last injection and its order."""
    if order is None and not doses:
        return True
    if oral.product is Product.B12_ORAL_LOW and order is not None:
        return False
    started = oral.start or oral.on or date.min
    injected = [d for d in (doses[-1] if doses else None, order.on if order else None) if d]
    return started >= max(injected, default=date.min)


def _interval(phase: Phase, order: Medication | None, course: Course, p: Profile) -> float | None:
    """R11: the order's longest stated interval; with no order, the interval the doses were
    actually given at when shorter than the profile's maintenance interval (monthly doses
    are not 3-monthly maintenance: R13 must not "shorten" to a longer one), else that."""
    if phase is not PHASE_MAINTENANCE:
        return None
    if order and order.timing and order.timing.interval_max_days:
        return order.timing.interval_max_days
    default = CATALOGUE[p.maintenance].steps[-1].interval_max_days
    if course.interval is not None and p.loading_gap_days < course.interval < default:
        return course.interval
    return default


def _adherent(
    doses: tuple[date, ...],
    gaps: list[int],
    interval: float | None,
    grace: int | None,
    p: Profile,
    as_of: date,
) -> bool:
    """No gap in the last year longer than the interval plus grace, including today's
    (with no dose in the last year, every gap). ``gaps``: the days between ``doses``, oldest
    first. Adherence is confirmed only by doses on record: none recorded is not adherent."""
    if interval is None or not doses:
        return False
    limit = interval + (grace or 0)
    first = bisect_left(doses, as_of - timedelta(days=p.no_therapy_lookback_days))
    if first == len(doses):
        first = 0
    return (as_of - doses[-1]).days <= limit and max(gaps[first:], default=0) <= limit
