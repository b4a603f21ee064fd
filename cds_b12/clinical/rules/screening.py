"""Clinical core: rules R17-R19, testing and prophylaxis for patients at risk.

Imports only ``cds_b12.clinical``. Recommendations of ``b12-clinical.md``
§6.2 R17-R19; sources SP-1, SP-3, SP-4 (ADA), SP-5 (MHRA), SP-6, US-5.
"""

from __future__ import annotations

from ..assess import PHASE_NONE, Assessment
from ..bands import B12_KINDS
from ..facts import DailyDose, Fact, Findings, OnFile, Unused, Years
from ..followup import after, on
from ..profiles import Profile
from ..recommendation import Indicator, Kind, LabNote, Recommendation
from ..record import Finding, Lab, Product
from ..regimens import CATALOGUE
from ..sources import cites
from .common import recommend, said

_SURGERY = (Finding.BARIATRIC_BYPASS, Finding.GASTRECTOMY, Finding.SLEEVE_GASTRECTOMY)


def _no_recent_b12(a: Assessment, p: Profile) -> bool:
    days = a.days_ago(a.last_b12_test)
    return days is None or days > p.screening_b12_lookback_days


def _last_b12(a: Assessment, p: Profile) -> Fact:
    """The last B12 on file, which screening does not count: older than its look-back; or
    the newer ones that could not be read."""
    last = said(a, None, B12_KINDS)
    if isinstance(last, Lab | OnFile):
        lab = last if isinstance(last, Lab) else last.lab
        return OnFile(lab, Unused.TOO_OLD, p.screening_b12_lookback_days)
    return last


def _years(days: int | None) -> Years | None:
    return None if days is None else Years(days)


@cites("SP-4", "SP-5")
def r17_metformin_screening(a: Assessment, p: Profile) -> Recommendation | None:
    """Test B12 (with a CBC) in long-term or high-dose metformin users.

    Fires: metformin active for 4+ years or 1500+ mg/day, or with neuropathy
    or anaemia; no B12 result in 12 months; not on B12 therapy. Continue
    metformin (S7). Sources: SP-4 (ADA, ◐), SP-5 (MHRA).
    """
    m = a.metformin
    if m is None or not m.active or a.phase is not PHASE_NONE or not _no_recent_b12(a, p):
        return None
    long_use = (m.days or 0) >= p.metformin_risk_days
    high_dose = (m.mg_per_day or 0) >= p.metformin_high_dose_mg_day
    if not (long_use or high_dose or a.has_neuro or a.is_anaemic):
        return None
    return recommend(
        a,
        "R17-metformin-screening",
        Indicator.INFO,
        Kind.ORDER_LABS,
        labs=(on(a.as_of, "B12", LabNote.SCREEN), on(a.as_of, "CBC", LabNote.SCREEN)),
        metformin_years=_years(m.days),
        metformin_dose=DailyDose(m.mg_per_day) if m.mg_per_day else None,
        last_b12=_last_b12(a, p),
    )


@cites("US-5", "SP-6")
def r18_acid_suppressant_screening(a: Assessment, p: Profile) -> Recommendation | None:
    """Test B12 in long-term PPI or H2RA users with a symptom or aged over 75.

    Fires: PPI/H2RA active 12+ months; neuro signs, anaemia, macrocytosis or
    age over 75; no B12 in 12 months; not on B12 therapy. Sources: US-5, SP-6.
    """
    e = a.acid_suppressant
    if e is None or not e.active or a.phase is not PHASE_NONE or not _no_recent_b12(a, p):
        return None
    if (e.days or 0) < p.acid_suppressant_risk_days:
        return None
    elderly = (a.age_years or 0) > p.elderly_age_years
    if not (a.has_neuro or a.is_anaemic or a.macrocytosis or elderly):
        return None
    return recommend(
        a,
        "R18-acid-suppressant-screening",
        Indicator.INFO,
        Kind.ORDER_LABS,
        labs=(on(a.as_of, "B12", LabNote.SCREEN), on(a.as_of, "CBC", LabNote.SCREEN)),
        drug=Product.ACID_SUPPRESSANT,
        drug_years=_years(e.days),
        last_b12=_last_b12(a, p),
    )


@cites("UK-5", "US-5", "SP-1")
def r19_bariatric_prophylaxis(a: Assessment, p: Profile) -> Recommendation | None:
    """Start lifelong B12 prophylaxis after gastric or bariatric surgery.

    Fires: gastrectomy, gastric bypass or sleeve coded; no B12 therapy.
    Silent: already deficient (R1/R2 treat instead). US: oral 1 mg daily (AFP),
    or 1000 micrograms IM monthly (ASMBS, ◐). UK: hydroxocobalamin 1 mg every
    2-3 months (SmPC, as SP-3 reads it). Annual B12 and CBC (ASMBS, ◐); where
    the profile says a B12 test is not needed on replacement (UK, §2.8, as R15
    advises), the yearly check is the blood count alone, so the card never orders
    what R15 advises against. Sources: UK-5 (SmPC), US-5 (AFP 2017), SP-1 (ASMBS).
    """
    surgery = a.findings(*_SURGERY, active_only=False)
    if not surgery or a.phase is not PHASE_NONE or a.is_deficient:
        return None
    yearly = ("CBC",) if p.b12_test_on_replacement_not_needed else ("B12", "CBC")
    return recommend(
        a,
        "R19-bariatric-prophylaxis",
        Indicator.WARNING,
        Kind.START_MAINTENANCE,
        regimen=CATALOGUE[p.bariatric],
        alternative=CATALOGUE[p.bariatric_alternative],
        labs=tuple(after(a.as_of, p.bariatric_monitoring_days, t, LabNote.ANNUAL) for t in yearly),
        start_on=a.as_of,
        lifelong=True,  # prophylaxis after the surgery continues for life (AFP, ASMBS)
        surgery=Findings.of(surgery),
    )
