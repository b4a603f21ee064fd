"""Clinical core: the numbers of each guideline profile (``b12-clinical.md`` §6.3).

Imports only the standard library. Every field name carries its unit and
every value a source ID. Values the knowledge base marks unverified (❌) or
expert opinion carry a ``judgement:`` comment: they are defaults a deployment
may override with ``dataclasses.replace``, and a reviewer should look here first.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sources import Region


@dataclass(frozen=True, slots=True)
class Profile:
    name: str  # "US" | "UK"
    citation_region: Region  # §9: whose sources a card cites first

    # §2.2 / §2.3: B12 bands, used when the lab sends no reference range.
    b12_deficient_below_ng_l: float  # NICE NG239 / AFP 2025 (US-6)
    b12_indeterminate_below_ng_l: float  # NICE NG239 / AFP 2025 (US-6)
    holotc_deficient_below_pmol_l: float  # NICE (2.3)
    holotc_indeterminate_below_pmol_l: float  # NICE (2.3)
    # §2.4 / §2.5: functional markers.
    mma_upper_umol_l: float
    hcy_upper_umol_l: float  # ARUP 0-15 (2.5)
    # §2.6 MCV.
    macrocytosis_above_fl: float

    # Regimens by role (§6.3).
    loading: str
    neuro_loading: str
    maintenance: str
    neuro_maintenance: str
    dietary: str
    dietary_alternative: str
    oral: str
    bariatric: str
    bariatric_alternative: str

    # Loading counts as complete at this many doses spanning this many days (§6.1 phase).
    loading_complete_doses: int
    loading_complete_days: int
    # judgement (❌ §6.3 "Overdue grace: expert default"): R11 grace by interval.
    overdue_grace_monthly_days: int
    overdue_grace_long_days: int

    # §2.8: serum B12 while on replacement.
    b12_test_on_replacement_not_needed: bool  # UK: BNSSG/North Bristol; US: no rule (default off)
    b12_retest_min_days: int | None  # UK: RUH Bath 42 days

    review_days: int  # UK-8: review at 3 months
    pregnancy_review_days: int  # UK-8: 1 month if pregnant


# Shared by both profiles; kept here so rules never hold bare numbers.
POST_INJECTION_B12_INVALID_DAYS = 14  # Mayo (2.8), S2
# judgement: a result older than this no longer describes the patient's current state.
CURRENT_LAB_DAYS = 365
NO_THERAPY_LOOKBACK_DAYS = 365  # §6.1 phase NONE: no B12 therapy in 12 months
FOLATE_B12_LOOKBACK_DAYS = 90  # R20: no B12 in the last 3 months
METFORMIN_RISK_DAYS = 4 * 365  # R17: metformin >= 4 years (SP-4, ◐)
METFORMIN_CAUSE_DAYS = 120  # §6.1 MEDICATION cause: metformin >= 4 months (US-5)
METFORMIN_HIGH_DOSE_MG_DAY = 1500  # SP-4 (◐)
ACID_SUPPRESSANT_RISK_DAYS = 365  # R18 / §6.1: PPI or H2RA >= 12 months (US-5)
SCREENING_B12_LOOKBACK_DAYS = 365  # R17: no B12 in the last 12 months
ELDERLY_AGE_YEARS = 75  # US-5
ANAEMIA_BELOW_MALE_G_DL = 13.0  # WHO (2.6)
ANAEMIA_BELOW_FEMALE_G_DL = 12.0  # WHO (2.6), non-pregnant women
ANAEMIA_BELOW_PREGNANT_G_DL = 11.0  # WHO (2.6)
SEVERE_ANAEMIA_BELOW_G_DL = 8.0  # WHO (2.6), S9
MODERATE_ANAEMIA_BELOW_G_DL = 11.0  # WHO (2.6)
MCV_NORMAL_FROM_FL = 80.0  # normal MCV about 80-100 fL (2.6, ◐); drawn on the timeline only
HYPOKALAEMIA_RISK_HB_BELOW_G_DL = 8.0  # S6
SUBOPTIMAL_RESPONSE_DAY = 10  # R8: retic should have risen by day 10 (2.7)
HB_RESPONSE_DAY = 28  # R8 / S14: Hb should be rising by week 4
# §6.1 phase: a gap longer than this between injections starts a new course (judgement).
NEW_COURSE_GAP_DAYS = 180
LOADING_GAP_DAYS = 14  # doses closer than this are a loading course, not maintenance
NEURO_COURSE_MAX_GAP_DAYS = 3  # UK-2: alternate-day dosing marks the neuro course
MONTHLY_INTERVAL_DAYS = 35  # intervals up to this get the monthly grace (R11)
# judgement (§6.1 "sleeve ... treat as irreversible by default", configurable).
SLEEVE_IS_IRREVERSIBLE = True
# judgement: reticulocyte upper limit (%) used only when the lab sends no range (R8).
RETIC_UPPER_PCT = 2.5
# judgement (❌ §6.2 R16): recheck 3-6 months after stopping; no guideline interval.
RECHECK_AFTER_STOP_DAYS = 90
# judgement: a resolved reversible cause counts once the drug has been stopped this long.
REVERSIBLE_RESOLVED_DAYS = 90


US = Profile(
    name="US",
    citation_region=Region.US,
    b12_deficient_below_ng_l=180,  # US-6 (AFP 2025); older AFP 2017 used 200 (◐)
    b12_indeterminate_below_ng_l=350,  # US-6; older AFP 2017 used 400 (◐)
    holotc_deficient_below_pmol_l=25,
    holotc_indeterminate_below_pmol_l=70,
    mma_upper_umol_l=0.40,  # Mayo MMAP (2.4)
    hcy_upper_umol_l=15,
    macrocytosis_above_fl=100,  # BSH (2.6, ◐)
    loading="US_LOAD_STD",
    neuro_loading="US_LOAD_NEURO",
    maintenance="US_MAINT",
    neuro_maintenance="US_MAINT",
    dietary="ORAL_HIGH",  # US-5: oral 1000-2000 ug/day
    dietary_alternative="US_LOAD_STD",
    oral="ORAL_HIGH",
    bariatric="BARIATRIC_PROPH",  # US-5 (AFP: 1 mg/day oral)
    bariatric_alternative="US_MAINT",  # SP-1 (◐): 1000 ug IM monthly
    loading_complete_doses=8,  # US-3: QOD x 1 week + weekly x 4 weeks
    loading_complete_days=28,
    overdue_grace_monthly_days=7,  # judgement (❌ §6.3)
    overdue_grace_long_days=14,  # judgement (❌ §6.3)
    b12_test_on_replacement_not_needed=False,  # §6.3: no authoritative US rule; default off
    b12_retest_min_days=None,
    review_days=90,
    pregnancy_review_days=30,
)

UK = Profile(
    name="UK",
    citation_region=Region.UK,
    b12_deficient_below_ng_l=180,  # NICE NG239 (2.2)
    b12_indeterminate_below_ng_l=350,  # NICE NG239 (2.2)
    holotc_deficient_below_pmol_l=25,
    holotc_indeterminate_below_pmol_l=70,
    mma_upper_umol_l=0.45,  # judgement (❌ 2.4): NG239 cut-off recalled, not retrieved
    hcy_upper_umol_l=15,
    macrocytosis_above_fl=100,
    loading="UK_LOAD_STD",
    neuro_loading="UK_LOAD_NEURO",
    maintenance="UK_MAINT_STD",
    neuro_maintenance="UK_MAINT_NEURO",
    dietary="UK_DIET_ORAL",
    dietary_alternative="UK_DIET_IM",
    oral="ORAL_HIGH",
    bariatric="UK_MAINT_STD",  # SP-3: hydroxocobalamin 1 mg every 2-3 months
    bariatric_alternative="ORAL_HIGH",
    loading_complete_doses=6,  # UK-1: 3 per week for 2 weeks
    loading_complete_days=11,
    overdue_grace_monthly_days=7,  # judgement (❌ §6.3)
    overdue_grace_long_days=14,  # judgement (❌ §6.3)
    b12_test_on_replacement_not_needed=True,  # BNSSG, North Bristol (2.8)
    b12_retest_min_days=42,  # RUH Bath (2.8)
    review_days=90,  # UK-8
    pregnancy_review_days=30,  # UK-8
)

PROFILES = {"us": US, "uk": UK}


def get_profile(name: str) -> Profile:
    """The profile called ``name`` (us | uk, any case); raises KeyError otherwise."""
    return PROFILES[name.lower()]
