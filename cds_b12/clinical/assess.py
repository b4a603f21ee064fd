"""Clinical core: derive cause, B12 band, anaemia, neuro, phase and adherence (§6.1).

Imports only the standard library and ``cds_b12.clinical``. Pure: the record,
the profile and ``as_of`` go in, an Assessment comes out; no clock, no I/O.
Rules read the Assessment through its fields and the ``is_*``/``has_*``
predicates below, so each derivation lives in exactly one place.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from . import profiles as k
from .codes import IRREVERSIBLE_FINDINGS
from .profiles import Profile
from .record import (
    ClinicalFinding,
    DataNote,
    Finding,
    Lab,
    LabKind,
    Medication,
    MedSource,
    PatientRecord,
    Product,
)
from .regimens import CATALOGUE


class Band(StrEnum):
    DEFICIENT = "DEFICIENT"
    INDETERMINATE = "INDETERMINATE"
    NORMAL = "NORMAL"
    NA = "NA"


class Functional(StrEnum):
    ABNORMAL = "ABNORMAL"
    NORMAL = "NORMAL"
    NA = "NA"


class Anaemia(StrEnum):
    NONE = "NONE"
    MILD = "MILD"
    MODERATE = "MODERATE"
    SEVERE = "SEVERE"
    NA = "NA"


class Neuro(StrEnum):
    NONE = "NONE"
    PRESENT = "PRESENT"
    SEVERE = "SEVERE"


class Cause(StrEnum):
    IRREVERSIBLE_MALABSORPTION = "IRREVERSIBLE_MALABSORPTION"
    POSSIBLY_REVERSIBLE_GI = "POSSIBLY_REVERSIBLE_GI"
    MEDICATION = "MEDICATION"
    DIETARY = "DIETARY"
    UNKNOWN = "UNKNOWN"


class Phase(StrEnum):
    NONE = "NONE"
    LOADING = "LOADING"
    MAINTENANCE = "MAINTENANCE"
    ORAL = "ORAL"


ACTIVE_ORDER = frozenset({"active", "on-hold"})
ACTIVE_STATEMENT = frozenset({"active", "intended", "on-hold"})


@dataclass(frozen=True, slots=True)
class Exposure:
    """How long a risk drug has been taken, for R4, R16, R17 and R18."""

    medication: Medication
    since: date | None
    days: int | None
    mg_per_day: float | None
    active: bool
    stopped_on: date | None


@dataclass(frozen=True, slots=True)
class Assessment:
    as_of: date
    profile: Profile
    record: PatientRecord
    notes: tuple[DataNote, ...]

    age_years: int | None
    pregnant: bool

    b12: Lab | None  # latest interpretable total or active B12
    b12_band: Band
    ignored_b12: tuple[Lab, ...]  # within 14 days of an injection (S2)
    last_b12_test: date | None  # any B12 result, interpretable or not
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

    neuro: Neuro
    neuro_findings: tuple[ClinicalFinding, ...]
    neuro_history: bool
    neuro_recurrence: tuple[ClinicalFinding, ...]  # new neuro signs since therapy began

    cause: Cause
    cause_findings: tuple[ClinicalFinding, ...]
    metformin: Exposure | None
    acid_suppressant: Exposure | None

    phase: Phase
    order: Medication | None  # the current B12 order or statement
    doses: tuple[date, ...]  # injections given, oldest first
    course_start: date | None
    course_doses: int
    neuro_course: bool  # the loading course is the alternate-day neuro course
    loading_complete: bool
    last_dose: date | None
    days_since_last_dose: int | None
    interval_days: float | None
    grace_days: int | None
    adherent: bool

    # ---- predicates that rules share ----
    @property
    def is_deficient(self) -> bool:
        """§6.2 R1/R2 "deficiency": low level or abnormal functional marker."""
        return self.b12_band is Band.DEFICIENT or self.functional is Functional.ABNORMAL

    @property
    def is_irreversible(self) -> bool:
        return self.cause is Cause.IRREVERSIBLE_MALABSORPTION

    @property
    def has_neuro(self) -> bool:
        return self.neuro is not Neuro.NONE

    @property
    def is_anaemic(self) -> bool:
        return self.anaemia in (Anaemia.MILD, Anaemia.MODERATE, Anaemia.SEVERE)

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
        return bool(self.findings(*wanted))

    def days_ago(self, when: date | None) -> int | None:
        return None if when is None else (self.as_of - when).days


def assess(record: PatientRecord, profile: Profile, as_of: date) -> Assessment:
    """Derive every §6.1 input from one record; never reads the clock."""
    notes: list[DataNote] = list(record.notes)
    labs = tuple(sorted((lab for lab in record.labs if lab.on <= as_of), key=lambda x: x.on))
    meds = tuple(m for m in record.medications if m.on is None or m.on <= as_of)

    doses = _injection_dates(meds, as_of)
    ignored, b12_labs = _split_post_injection_b12(labs, doses)
    for lab in ignored:
        notes.append(
            DataNote(
                lab.resource_id,
                f"B12 of {lab.on.isoformat()} ignored: taken "
                f"within {k.POST_INJECTION_B12_INVALID_DAYS} days of an injection",
            )
        )
    b12 = b12_labs[-1] if b12_labs and _current(b12_labs[-1], as_of) else None
    all_b12 = [lab for lab in labs if lab.kind in (LabKind.B12, LabKind.HOLOTC)]

    patient = record.patient
    age = _age(patient.birth_date, as_of) if patient and patient.birth_date else None
    pregnant = any(f.finding is Finding.PREGNANCY and f.active for f in record.findings)

    mma = _latest(labs, LabKind.MMA, as_of)
    hcy = _latest(labs, LabKind.HCY, as_of)
    hb = _latest(labs, LabKind.HB, as_of)
    mcv = _latest(labs, LabKind.MCV, as_of)
    # WHO (§2.6); unknown sex uses the female cut-off, so mild anaemia is not over-called.
    anaemia_below = (
        k.ANAEMIA_BELOW_PREGNANT_G_DL
        if pregnant
        else k.ANAEMIA_BELOW_MALE_G_DL
        if patient and patient.sex == "male"
        else k.ANAEMIA_BELOW_FEMALE_G_DL
    )

    neuro_findings = tuple(
        f
        for f in record.findings
        if f.active and f.finding in (Finding.NEURO, Finding.NEURO_SEVERE)
    )
    neuro = (
        Neuro.SEVERE
        if any(f.finding is Finding.NEURO_SEVERE for f in neuro_findings)
        else Neuro.PRESENT
        if neuro_findings
        else Neuro.NONE
    )

    metformin = _exposure(meds, Product.METFORMIN, as_of)
    acid = _exposure(meds, Product.ACID_SUPPRESSANT, as_of)
    cause, cause_findings = _cause(record.findings, metformin, acid)

    phase, order, course = _phase(meds, doses, as_of)
    alternate_days = bool(course.interval and course.interval <= k.NEURO_COURSE_MAX_GAP_DAYS)
    neuro_course = (
        alternate_days
        and profile.name == "UK"
        and bool(neuro_findings or _any_neuro(record.findings))
    )
    interval = _interval(phase, order, course, profile)
    grace = None
    if interval is not None:
        grace = (
            profile.overdue_grace_monthly_days
            if interval <= k.MONTHLY_INTERVAL_DAYS
            else profile.overdue_grace_long_days
        )
    last_dose = doses[-1] if doses else (order.on if order and order.is_injection else None)
    days_since = (as_of - last_dose).days if last_dose else None

    loading_complete = (
        phase is Phase.LOADING
        and not neuro_course
        and course.count >= profile.loading_complete_doses
        and course.span_days >= profile.loading_complete_days
    )
    adherent = _adherent(doses, interval, grace, as_of)
    recurrence = (
        tuple(
            f
            for f in neuro_findings
            if course.start is not None and f.on is not None and f.on > course.start
        )
        if phase is Phase.MAINTENANCE
        else ()
    )

    return Assessment(
        as_of=as_of,
        profile=profile,
        record=record,
        notes=tuple(notes),
        age_years=age,
        pregnant=pregnant,
        b12=b12,
        b12_band=_b12_band(b12, profile),
        ignored_b12=ignored,
        last_b12_test=all_b12[-1].on if all_b12 else None,
        mma=mma,
        hcy=hcy,
        functional=_functional(mma, hcy, profile),
        functional_rising=_functional_rising(labs, profile),
        hb=hb,
        anaemia=_anaemia(hb, anaemia_below),
        hb_falling=_hb_falling(labs, anaemia_below),
        mcv=mcv,
        macrocytosis=bool(mcv and mcv.value > profile.macrocytosis_above_fl),
        mcv_rising=_mcv_rising(labs, profile),
        neuro=neuro,
        neuro_findings=neuro_findings,
        neuro_history=neuro_course or _any_neuro(record.findings),
        neuro_recurrence=recurrence,
        cause=cause,
        cause_findings=cause_findings,
        metformin=metformin,
        acid_suppressant=acid,
        phase=phase,
        order=order,
        doses=doses,
        course_start=course.start,
        course_doses=course.count,
        neuro_course=neuro_course,
        loading_complete=loading_complete,
        last_dose=last_dose,
        days_since_last_dose=days_since,
        interval_days=interval,
        grace_days=grace,
        adherent=adherent,
    )


# ---- labs ----


def _current(lab: Lab, as_of: date) -> bool:
    return (as_of - lab.on).days <= k.CURRENT_LAB_DAYS


def _latest(labs: tuple[Lab, ...], kind: LabKind, as_of: date) -> Lab | None:
    """The newest result of ``kind``, if recent enough to describe the patient now."""
    found = [lab for lab in labs if lab.kind is kind]
    return found[-1] if found and _current(found[-1], as_of) else None


def _split_post_injection_b12(
    labs: tuple[Lab, ...], doses: tuple[date, ...]
) -> tuple[tuple[Lab, ...], list[Lab]]:
    """S2 / §2.8: a B12 within 14 days after an injection does not reflect stores."""
    ignored, kept = [], []
    for lab in labs:
        if lab.kind not in (LabKind.B12, LabKind.HOLOTC):
            continue
        recent = any(0 <= (lab.on - d).days <= k.POST_INJECTION_B12_INVALID_DAYS for d in doses)
        (ignored if recent else kept).append(lab)
    return tuple(ignored), kept


def _b12_band(lab: Lab | None, p: Profile) -> Band:
    """§2.2: the lab's own lower limit wins; the profile's bands otherwise."""
    if lab is None:
        return Band.NA
    if lab.kind is LabKind.HOLOTC:
        low, upper = p.holotc_deficient_below_pmol_l, p.holotc_indeterminate_below_pmol_l
    else:
        low, upper = p.b12_deficient_below_ng_l, p.b12_indeterminate_below_ng_l
    if lab.ref_low is not None:
        low = lab.ref_low
        upper = max(upper, low)
    elif lab.interpretation in ("L", "LL", "LU"):
        return Band.DEFICIENT
    if lab.value < low:
        return Band.DEFICIENT
    if lab.value <= upper:
        return Band.INDETERMINATE
    return Band.NORMAL


def _upper(lab: Lab, default: float) -> float:
    return lab.ref_high if lab.ref_high is not None else default


def _functional(mma: Lab | None, hcy: Lab | None, p: Profile) -> Functional:
    """§6.1: MMA above the reference, or Hcy above 15 umol/L."""
    if mma is None and hcy is None:
        return Functional.NA
    if mma and mma.value > _upper(mma, p.mma_upper_umol_l):
        return Functional.ABNORMAL
    if hcy and hcy.value > _upper(hcy, p.hcy_upper_umol_l):
        return Functional.ABNORMAL
    return Functional.NORMAL


def _pair(labs: tuple[Lab, ...], kind: LabKind) -> tuple[Lab, Lab] | None:
    found = [lab for lab in labs if lab.kind is kind]
    return (found[-2], found[-1]) if len(found) >= 2 else None


def _functional_rising(labs: tuple[Lab, ...], p: Profile) -> bool:
    pair = _pair(labs, LabKind.MMA)
    if not pair:
        return False
    before, now = pair
    limit = _upper(now, p.mma_upper_umol_l)
    return now.value > limit >= before.value


def _anaemia(hb: Lab | None, below: float) -> Anaemia:
    """WHO 2011 (§2.6): severe < 8, moderate 8-10.9, mild up to the sex cut-off."""
    if hb is None:
        return Anaemia.NA
    if hb.value < k.SEVERE_ANAEMIA_BELOW_G_DL:
        return Anaemia.SEVERE
    if hb.value < k.MODERATE_ANAEMIA_BELOW_G_DL:
        return Anaemia.MODERATE
    return Anaemia.MILD if hb.value < below else Anaemia.NONE


def _hb_falling(labs: tuple[Lab, ...], below: float) -> bool:
    pair = _pair(labs, LabKind.HB)
    return bool(pair and pair[1].value < below <= pair[0].value)


def _mcv_rising(labs: tuple[Lab, ...], p: Profile) -> bool:
    pair = _pair(labs, LabKind.MCV)
    return bool(pair and pair[1].value > p.macrocytosis_above_fl >= pair[0].value)


def _age(born: date, as_of: date) -> int:
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


# ---- cause ----

_GI_REVERSIBLE = (Finding.COELIAC, Finding.CROHNS, Finding.MALABSORPTION)


def _cause(
    findings: tuple[ClinicalFinding, ...], metformin: Exposure | None, acid: Exposure | None
) -> tuple[Cause, tuple[ClinicalFinding, ...]]:
    """§6.1 cause; the most severe wins. Irreversible causes count even if coded inactive."""
    irreversible = set(IRREVERSIBLE_FINDINGS)
    if k.SLEEVE_IS_IRREVERSIBLE:
        irreversible.add(Finding.SLEEVE_GASTRECTOMY)
    found = tuple(f for f in findings if f.finding in irreversible)
    if found:
        return Cause.IRREVERSIBLE_MALABSORPTION, found
    found = tuple(f for f in findings if f.active and f.finding in _GI_REVERSIBLE)
    if not k.SLEEVE_IS_IRREVERSIBLE:
        found += tuple(f for f in findings if f.finding is Finding.SLEEVE_GASTRECTOMY)
    if found:
        return Cause.POSSIBLY_REVERSIBLE_GI, found
    drug_risk = (
        metformin and metformin.active and (metformin.days or 0) >= k.METFORMIN_CAUSE_DAYS
    ) or (acid and acid.active and (acid.days or 0) >= k.ACID_SUPPRESSANT_RISK_DAYS)
    n2o = tuple(f for f in findings if f.active and f.finding is Finding.NITROUS_OXIDE)
    if drug_risk or n2o:
        return Cause.MEDICATION, n2o
    found = tuple(f for f in findings if f.active and f.finding is Finding.DIETARY_DEFICIENCY)
    if found:
        return Cause.DIETARY, found
    return Cause.UNKNOWN, ()


def _exposure(meds: tuple[Medication, ...], product: Product, as_of: date) -> Exposure | None:
    """Continuous use of a risk drug, from its earliest record (SP-4, SP-6, US-5)."""
    found = [m for m in meds if m.product is product and m.source is not MedSource.ADMINISTRATION]
    if not found:
        return None
    active = [m for m in found if is_current(m, as_of)]
    starts = [d for m in found for d in (m.start, m.on) if d is not None]
    since = min(starts) if starts else None
    current = active[-1] if active else found[-1]
    mg_day = None
    if current.dose_mg is not None and current.timing and current.timing.interval_days:
        mg_day = current.dose_mg / current.timing.interval_days
    stopped_on = None
    if not active:
        ends = [m.end or m.on for m in found if (m.end or m.on) is not None]
        stopped_on = max(ends) if ends else None
    return Exposure(
        medication=current,
        since=since,
        days=(as_of - since).days if since else None,
        mg_per_day=mg_day,
        active=bool(active),
        stopped_on=stopped_on,
    )


def is_current(m: Medication, as_of: date) -> bool:
    """An order or statement still in force on ``as_of`` (status and end date)."""
    if m.end is not None and m.end < as_of:
        return False
    statuses = ACTIVE_STATEMENT if m.source is MedSource.STATEMENT else ACTIVE_ORDER
    return m.status in statuses


def _any_neuro(findings: tuple[ClinicalFinding, ...]) -> bool:
    return any(f.finding in (Finding.NEURO, Finding.NEURO_SEVERE) for f in findings)


# ---- phase ----


@dataclass(frozen=True, slots=True)
class _Course:
    start: date | None = None
    count: int = 0
    span_days: int = 0
    interval: float | None = None  # typical gap between doses in this course


def _injection_dates(meds: tuple[Medication, ...], as_of: date) -> tuple[date, ...]:
    """Dates injections were given; Cyanokit is not B12 therapy (S10)."""
    return tuple(
        sorted(
            {
                m.on
                for m in meds
                if m.source is MedSource.ADMINISTRATION
                and m.is_injection
                and m.on is not None
                and m.on <= as_of
                and m.status in ("completed", "in-progress", "stopped")
            }
        )
    )


def _course(doses: tuple[date, ...]) -> _Course:
    """The current course: doses since the last gap long enough to start afresh."""
    if not doses:
        return _Course()
    start_index = 0
    for i in range(1, len(doses)):
        if (doses[i] - doses[i - 1]).days > k.NEW_COURSE_GAP_DAYS:
            start_index = i
    course = doses[start_index:]
    gaps = [(b - a).days for a, b in itertools.pairwise(course)]
    recent_gaps = gaps[-3:]
    interval = sorted(recent_gaps)[len(recent_gaps) // 2] if recent_gaps else None
    return _Course(course[0], len(course), (course[-1] - course[0]).days, interval)


def _phase(
    meds: tuple[Medication, ...], doses: tuple[date, ...], as_of: date
) -> tuple[Phase, Medication | None, _Course]:
    """§6.1 phase: administrations first, then the current order, then oral therapy."""
    course = _course(doses)
    therapy = [m for m in meds if m.is_b12_therapy and m.source is not MedSource.ADMINISTRATION]
    orders = sorted(
        (m for m in therapy if m.is_injection and is_current(m, as_of)),
        key=lambda m: m.on or date.min,
    )
    order = orders[-1] if orders else None
    recent = bool(doses) and (as_of - doses[-1]).days <= k.NO_THERAPY_LOOKBACK_DAYS
    if order is not None and order.timing and order.timing.interval_days is not None:
        if order.timing.interval_days <= k.LOADING_GAP_DAYS:
            return Phase.LOADING, order, course
        return Phase.MAINTENANCE, order, course
    if recent:
        loading_only = course.interval is not None and course.interval <= k.LOADING_GAP_DAYS
        return (Phase.LOADING if loading_only else Phase.MAINTENANCE), order, course
    if order is not None:
        return Phase.MAINTENANCE, order, course
    oral = [m for m in therapy if not m.is_injection and is_current(m, as_of)]
    if oral:
        return Phase.ORAL, oral[-1], course
    return Phase.NONE, None, course


def _interval(phase: Phase, order: Medication | None, course: _Course, p: Profile) -> float | None:
    """R11: the order's longest stated interval, else the profile's maintenance interval."""
    if phase is not Phase.MAINTENANCE:
        return None
    if order and order.timing and order.timing.interval_max_days:
        return order.timing.interval_max_days
    return CATALOGUE[p.maintenance].steps[-1].interval_max_days


def _adherent(
    doses: tuple[date, ...], interval: float | None, grace: int | None, as_of: date
) -> bool:
    """No gap in the last year longer than the interval plus grace, including today's."""
    if interval is None:
        return False
    limit = interval + (grace or 0)
    window = [d for d in doses if (as_of - d).days <= k.NO_THERAPY_LOOKBACK_DAYS] or list(doses)
    points = [*window, as_of]
    return all((b - a).days <= limit for a, b in itertools.pairwise(points))
