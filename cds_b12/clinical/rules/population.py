"""Clinical core: rules R22-R23, about whom the B12 guidance is for.

Imports only ``cds_b12.clinical``. R22 reads a raised B12 as a finding rather than as
treatment success (AFP 2025, US-6); R23 says when the adult guidance does not apply
(NICE NG239 is for people over 16; the US sources are adult guidance). ``evaluate``
runs only ``ANY_AGE`` rules below the profile's adult age and no rule for the dead.
"""

from __future__ import annotations

from datetime import date

from ..assess import PHASE_NONE, Assessment, Band, Functional, is_current
from ..bands import at_most
from ..profiles import Profile
from ..recommendation import Indicator, Kind, Recommendation
from ..record import Finding, Lab, LabKind, Medication, Product
from ..sources import cites
from .common import recommend


def _last_seen(m: Medication) -> date | None:
    dates = [d for d in (m.on, m.start, m.end) if d is not None]
    return max(dates, default=None)


def _b12_exposure(a: Assessment, p: Profile) -> bool:
    """Any B12 product (oral, nasal, IM; orders, doses given and statements), or Cyanokit,
    current or recorded within the no-therapy lookback: each raises serum B12."""
    for m in a.record.medications:
        if not (m.is_b12_therapy or m.product is Product.CYANOKIT):
            continue
        seen = _last_seen(m)
        recent = seen is not None and (a.as_of - seen).days <= p.no_therapy_lookback_days
        if recent or is_current(m, a.as_of):
            return True
    return False


def _raised_run(a: Assessment, p: Profile) -> tuple[Lab, ...]:
    """The newest serum B12 results, one per day, when they are all above the profile's
    cut-off, none set aside after an injection, and the newest still current. A censored
    result counts only when its whole range is above (">1000" does; "<1200" does not)."""
    by_day = {lab.on: lab for lab in a.by_kind.get(LabKind.B12, ())}
    run = tuple(by_day.values())[-p.raised_b12_results :]
    if len(run) < p.raised_b12_results or a.days_ago(run[-1].on) > p.current_lab_days:
        return ()
    cut_off = p.raised_b12_above_ng_l
    if any(at_most(lab, cut_off) is not False or lab in a.ignored_b12 for lab in run):
        return ()
    return run


@cites("US-6")
def r22_raised_b12(a: Assessment, p: Profile) -> Recommendation | None:
    """Suggest a clinical review, not B12 therapy, for a persistently raised serum B12.

    Fires: the last two serum B12 results (on different days; the profile's
    ``raised_b12_results``, a judgement reading of "persistently") are both above
    1000 pg/mL (a censored result only when its whole range is: ">2000" counts, and is
    shown as reported) and the newer is current. Silent: any B12 product or Cyanokit current
    or recorded in the last 12 months (oral or IM, statements included), a result within
    the post-injection window (S2), one result only. AFP 2025 notes the association
    with solid tumours, haematological malignancy and cardiovascular death.
    Sources: US-6 (AFP 2025).
    """
    run = _raised_run(a, p)
    if not run or _b12_exposure(a, p):
        return None
    return recommend(
        a,
        "R22-raised-b12",
        Indicator.INFO,
        Kind.REVIEW,
        earlier_b12=run[0],
    )


def _b12_question(a: Assessment) -> bool:
    """Something the adult B12 rules would act on: a low or borderline level, a raised
    functional marker, B12 treatment, a coded deficiency, or a B12 order being placed."""
    drafts = any(
        (d.medication is not None and d.medication.is_b12_therapy) or d.lab is LabKind.B12
        for d in a.record.drafts
    )
    return (
        a.b12_band in (Band.DEFICIENT, Band.INDETERMINATE)
        or a.functional is Functional.ABNORMAL
        or a.phase is not PHASE_NONE
        or a.has(Finding.B12_DEFICIENCY, Finding.PERNICIOUS_ANAEMIA)
        or drafts
    )


@cites("UK-8")
def r23_not_adult(a: Assessment, p: Profile) -> Recommendation | None:
    """Say that the adult guidance does not apply and to seek paediatric advice.

    Fires: the patient is younger than the profile's adult age (UK 16: NICE NG239 is
    for people over 16; US 18, a judgement: the US sources are adult guidance) and
    the record holds a B12 question (a low or borderline B12, raised MMA or
    homocysteine, B12 treatment, a coded deficiency, a B12 order). No adult regimen
    or adult threshold is applied to such a patient (``evaluate``). Silent: adults,
    and a patient with no birth date (read as an adult, with a data note).
    Sources: UK-8 (NICE NG239 scope).
    """
    if a.is_adult or a.age_years is None or not _b12_question(a):
        return None
    return recommend(
        a,
        "R23-not-adult",
        Indicator.INFO,
        Kind.REVIEW,
        age=a.age_years,
        adult_age=p.adult_age_years,
    )
