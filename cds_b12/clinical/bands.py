"""Clinical core: what the lab results say now: B12 band, functional markers, anaemia,
cytopenias (§2, §6.1, S9).

Imports only the standard library and ``cds_b12.clinical``. Pure: results, the
injection dates, the profile and ``as_of`` in; ``LabFindings`` out. The lab's own
reference range wins over the profile's defaults (§2.2). The profile's Hb and
blood-count cut-offs are adult ones: below the adult age only the lab's own
range or low flag is used (the guidance is adult guidance), and an Hb is severe only
when the lab flags it critically low.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .builder import builder
from .codes import CRITICAL_LOW_INTERPRETATIONS, LOW_INTERPRETATIONS
from .profiles import Profile
from .record import Lab, LabKind, Patient


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


B12_KINDS = (LabKind.B12, LabKind.HOLOTC)


@dataclass(frozen=True, slots=True)
class LabFindings:
    b12: Lab | None  # latest interpretable total or active B12
    b12_band: Band
    ignored_b12: tuple[Lab, ...]  # within the post-injection window (S2)
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
    wbc: Lab | None
    neutrophils: Lab | None
    platelets: Lab | None
    pancytopenia: bool  # Hb, white cells (or neutrophils) and platelets all low (S9)
    undecided: tuple[Lab, ...]  # censored B12/MMA/Hcy whose range spans more than one band


_build_lab_findings = builder(LabFindings)  # a frozen record's stores, cheaply

# The kinds as plain names (see course.PHASE_NONE): assess_labs reads a dozen every call.
_B12, _HOLOTC, _MMA, _HCY = LabKind.B12, LabKind.HOLOTC, LabKind.MMA, LabKind.HCY
_HB, _MCV, _WBC = LabKind.HB, LabKind.MCV, LabKind.WBC
_NEUTROPHILS, _PLATELETS = LabKind.NEUTROPHILS, LabKind.PLATELETS


def assess_labs(
    labs: tuple[Lab, ...],
    of: Mapping[LabKind, Sequence[Lab]],
    doses: tuple[date, ...],
    patient: Patient | None,
    pregnant: bool,
    p: Profile,
    as_of: date,
    *,
    adult: bool = True,
) -> LabFindings:
    """The §6.1 lab inputs from results up to ``as_of``, oldest first (``of``: the same
    by kind, ``by_kind``); ``adult`` False applies no adult cut-off (WHO Hb, blood counts)."""
    all_b12 = _b12_results(labs, of)
    ignored, b12_labs = _split_post_injection_b12(all_b12, doses, p)
    b12 = b12_labs[-1] if b12_labs and _current(b12_labs[-1], as_of, p) else None
    below = anaemia_below(p, patient.sex if patient else None, pregnant)
    all_mma, all_hb, all_mcv = of.get(_MMA, ()), of.get(_HB, ()), of.get(_MCV, ())
    mma = latest(all_mma, as_of, p)
    hcy = latest(of.get(_HCY, ()), as_of, p)
    hb = latest(all_hb, as_of, p)
    mcv = latest(all_mcv, as_of, p)
    wbc = latest(of.get(_WBC, ()), as_of, p)
    neutrophils = latest(of.get(_NEUTROPHILS, ()), as_of, p)
    platelets = latest(of.get(_PLATELETS, ()), as_of, p)
    b12_band, b12_undecided = _b12_band(b12, p)
    functional, functional_undecided = _functional(mma, hcy, p)
    return _build_lab_findings(
        b12=b12,
        b12_band=b12_band,
        ignored_b12=ignored,
        last_b12_test=all_b12[-1].on if all_b12 else None,
        mma=mma,
        hcy=hcy,
        functional=functional,
        functional_rising=_functional_rising(all_mma, p),
        hb=hb,
        anaemia=_anaemia(hb, below, p) if adult else _child_anaemia(hb),
        hb_falling=adult and _hb_falling(all_hb, below),
        mcv=mcv,
        macrocytosis=bool(mcv and mcv.value > p.macrocytosis_above_fl),
        mcv_rising=_mcv_rising(all_mcv, p),
        wbc=wbc,
        neutrophils=neutrophils,
        platelets=platelets,
        undecided=(*b12_undecided, *functional_undecided),
        pancytopenia=(
            _low(hb, below, adult)
            and (
                _low(wbc, p.leukopenia_below_10e9_l, adult)
                or _low(neutrophils, p.neutropenia_below_10e9_l, adult)
            )
            and _low(platelets, p.thrombocytopenia_below_10e9_l, adult)
        ),
    )


def _b12_results(labs: tuple[Lab, ...], of: Mapping[LabKind, Sequence[Lab]]) -> Sequence[Lab]:
    """The total and active B12 results, oldest first: one kind's list when the other is
    absent (the usual case), else picked from ``labs``, whose order decides a tie of dates."""
    total, active = of.get(_B12), of.get(_HOLOTC)
    if total is None or active is None:
        return total or active or ()
    return [lab for lab in labs if lab.kind in B12_KINDS]


def early_hypokalaemia(
    of: Mapping[LabKind, Sequence[Lab]],
    course_start: date | None,
    severe_now: bool,
    p: Profile,
    as_of: date,
) -> Lab | None:
    """S6: the newest potassium since the first dose, when it is low, within the profile's
    first days of a course begun with severe anaemia (now, or Hb below the S6 cut-off
    before the first dose) or pancytopenia (``severe_now``); None otherwise."""
    if course_start is None or (as_of - course_start).days > p.hypokalaemia_watch_days:
        return None
    since = [lab for lab in of.get(LabKind.POTASSIUM, ()) if lab.on >= course_start]
    if not since or not _s6_risk(of, course_start, severe_now, p):
        return None
    return since[-1] if _low(since[-1], p.hypokalaemia_below_mmol_l, True) else None


def baseline_hypokalaemia(
    of: Mapping[LabKind, Sequence[Lab]],
    course_start: date | None,
    severe_now: bool,
    p: Profile,
    as_of: date,
) -> Lab | None:
    """S6: a low baseline potassium, when severe anaemia or pancytopenia is to be loaded
    (``course_start`` None: no course yet) or a course began within the profile's first
    days: the newest potassium, drawn before the first dose and at most
    ``baseline_potassium_days`` before it (or before ``as_of``), with none since. Loading
    lowers potassium further, so it is corrected and rechecked (US-2: the first 48 h)."""
    start = course_start or as_of
    if (as_of - start).days > p.hypokalaemia_watch_days:
        return None
    potassium = of.get(LabKind.POTASSIUM, ())
    if not potassium or (course_start is not None and potassium[-1].on >= course_start):
        return None
    last = potassium[-1]
    if (start - last.on).days > p.baseline_potassium_days:
        return None
    if not _s6_risk(of, start, severe_now, p):
        return None
    return last if _low(last, p.hypokalaemia_below_mmol_l, True) else None


def _s6_risk(
    of: Mapping[LabKind, Sequence[Lab]], start: date, severe_now: bool, p: Profile
) -> bool:
    """S6's risk: severe anaemia or pancytopenia now, or an Hb below the S6 cut-off on or
    before ``start`` (the first dose)."""
    before = [lab for lab in of.get(LabKind.HB, ()) if lab.on <= start]
    return severe_now or bool(before and before[-1].value < p.hypokalaemia_risk_hb_below_g_dl)


def _low(lab: Lab | None, cut_off: float, adult: bool) -> bool:
    """Below the lab's own lower limit, else flagged low by the lab, else (adults only)
    below the profile's cut-off."""
    if lab is None:
        return False
    if lab.ref_low is not None:
        return lab.value < lab.ref_low
    if lab.interpretation in LOW_INTERPRETATIONS:
        return True
    return adult and lab.value < cut_off


def anaemia_below(p: Profile, sex: str | None, pregnant: bool) -> float:
    """WHO (§2.6) cut-off; unknown sex uses the female one, so mild anaemia is not over-called."""
    if pregnant:
        return p.anaemia_below_pregnant_g_dl
    return p.anaemia_below_male_g_dl if sex == "male" else p.anaemia_below_female_g_dl


def _current(lab: Lab, as_of: date, p: Profile) -> bool:
    return (as_of - lab.on).days <= p.current_lab_days


def by_kind(labs: Iterable[Lab]) -> dict[LabKind, list[Lab]]:
    """Each kind's results in the order given, in one pass: most derivations read one
    kind, and a scan of every result for each was most of assessing a long record. A
    defaultdict makes a kind's list once, not an empty list per result for setdefault."""
    of: defaultdict[LabKind, list[Lab]] = defaultdict(list)
    for lab in labs:
        of[lab.kind].append(lab)
    return of


def latest(results: Sequence[Lab], as_of: date, p: Profile) -> Lab | None:
    """The newest of one kind's ``results`` (oldest first), if recent enough to describe
    the patient now."""
    return results[-1] if results and _current(results[-1], as_of, p) else None


def _split_post_injection_b12(
    b12_labs: Sequence[Lab], doses: tuple[date, ...], p: Profile
) -> tuple[tuple[Lab, ...], list[Lab]]:
    """S2 / §2.8: a B12 (or holoTC, ``B12_KINDS``) taken soon after an injection does not
    reflect stores.

    ``doses`` is oldest first (``course.injection_dates``), so only the last dose on or
    before a result can be recent: one bisection per result, not a scan of every dose."""
    if not doses:
        return (), list(b12_labs)
    window = timedelta(days=p.post_injection_b12_invalid_days)
    ignored, kept = [], []
    for lab in b12_labs:
        on = lab.on
        i = bisect_right(doses, on)
        (ignored if i and on - doses[i - 1] <= window else kept).append(lab)
    return tuple(ignored), kept


def _b12_band(lab: Lab | None, p: Profile) -> tuple[Band, tuple[Lab, ...]]:
    """§2.2: the lab's own lower limit wins; the profile's bands otherwise. A censored value
    ("<200") decides a band only when its whole range falls in it; otherwise the band is
    indeterminate and the result is returned as undecided, for a note."""
    if lab is None:
        return Band.NA, ()
    if lab.kind is _HOLOTC:
        low, upper = p.holotc_deficient_below_pmol_l, p.holotc_indeterminate_below_pmol_l
    else:
        low, upper = p.b12_deficient_below_ng_l, p.b12_indeterminate_below_ng_l
    if lab.ref_low is not None:
        low = lab.ref_low
        upper = max(upper, low)
    elif lab.interpretation in LOW_INTERPRETATIONS:
        return Band.DEFICIENT, ()
    deficient = below(lab, low)
    if deficient is None:
        return Band.INDETERMINATE, (lab,)
    if deficient:
        return Band.DEFICIENT, ()
    within = at_most(lab, upper)
    if within is None:
        return Band.INDETERMINATE, (lab,)
    return (Band.INDETERMINATE if within else Band.NORMAL), ()


def below(lab: Lab, limit: float) -> bool | None:
    """Whether the true value is below ``limit``; None when a censored value cannot say."""
    v, c = lab.value, lab.comparator
    if c is None:
        return v < limit
    if c in ("<", "<="):
        return True if (v <= limit if c == "<" else v < limit) else None
    return False if v >= limit else None


def at_most(lab: Lab, limit: float) -> bool | None:
    """Whether the true value is at most ``limit``; None when a censored value cannot say."""
    v, c = lab.value, lab.comparator
    if c is None:
        return v <= limit
    if c in ("<", "<="):
        return True if v <= limit else None
    return False if (v >= limit if c == ">" else v > limit) else None


def upper_limit(lab: Lab, default: float) -> float:
    """The lab's own upper reference limit, else ``default`` (the profile's)."""
    return lab.ref_high if lab.ref_high is not None else default


def _functional(mma: Lab | None, hcy: Lab | None, p: Profile) -> tuple[Functional, tuple[Lab, ...]]:
    """§6.1: MMA or Hcy above the lab's upper limit, else the profile's; a censored value
    that may lie either side decides nothing and is returned as undecided."""
    verdicts = [
        (lab, at_most(lab, upper_limit(lab, default)))
        for lab, default in ((mma, p.mma_upper_umol_l), (hcy, p.hcy_upper_umol_l))
        if lab is not None
    ]
    undecided = tuple(lab for lab, within in verdicts if within is None)
    if any(within is False for _, within in verdicts):
        return Functional.ABNORMAL, undecided
    if any(within for _, within in verdicts):
        return Functional.NORMAL, undecided
    return Functional.NA, undecided


def last_two(results: Sequence[Lab]) -> tuple[Lab, Lab] | None:
    """The two newest of one kind's ``results`` (oldest first), older first, for a trend."""
    return (results[-2], results[-1]) if len(results) > 1 else None


def _functional_rising(mma: Sequence[Lab], p: Profile) -> bool:
    pair = last_two(mma)
    if not pair:
        return False
    before, now = pair
    limit = upper_limit(now, p.mma_upper_umol_l)
    return now.value > limit >= before.value


def _anaemia(hb: Lab | None, below: float, p: Profile) -> Anaemia:
    """WHO 2011 (§2.6): severe, moderate, and mild up to the sex cut-off."""
    if hb is None:
        return Anaemia.NA
    if hb.value < p.severe_anaemia_below_g_dl:
        return Anaemia.SEVERE
    if hb.value < p.moderate_anaemia_below_g_dl:
        return Anaemia.MODERATE
    return Anaemia.MILD if hb.value < below else Anaemia.NONE


def _child_anaemia(hb: Lab | None) -> Anaemia:
    """Below the adult age no WHO adult cut-off applies (the KB gives no paediatric
    one): severe only when the lab flags the Hb critically low, else not graded."""
    if hb is not None and hb.interpretation in CRITICAL_LOW_INTERPRETATIONS:
        return Anaemia.SEVERE
    return Anaemia.NA


def _hb_falling(hb: Sequence[Lab], below: float) -> bool:
    pair = last_two(hb)
    return bool(pair and pair[1].value < below <= pair[0].value)


def _mcv_rising(mcv: Sequence[Lab], p: Profile) -> bool:
    pair = last_two(mcv)
    return bool(pair and pair[1].value > p.macrocytosis_above_fl >= pair[0].value)


def b12_before(labs: tuple[Lab, ...], start: date, p: Profile) -> tuple[Lab | None, Band]:
    """The latest total or active B12 before ``start`` (a course's first dose) and its band:
    the stores before treatment, which a result drawn weeks after a dose cannot show (R26).
    Only a result recent enough to describe the patient then (``current_lab_days``)."""
    before = [
        lab
        for lab in labs
        if lab.kind in B12_KINDS and lab.on < start and (start - lab.on).days <= p.current_lab_days
    ]
    last = max(before, key=lambda lab: lab.on) if before else None
    band, _undecided = _b12_band(last, p)
    return last, band
