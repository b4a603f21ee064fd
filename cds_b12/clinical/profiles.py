"""Clinical core: every number and every UK/US difference the rules use and the cards state
(``b12-clinical.md`` §6.3).

Imports only the standard library and ``cds_b12.clinical``. A rule reads a named
field (``p.overdue_grace_monthly_days``, ``p.oral_alternative_to_loading``), never
a bare number and never the profile's name; a card quotes one through a placeholder
(``cds_b12.render.thresholds``). Each field carries its source in its metadata
(``profile_fields.sourced``), and the values the knowledge base marks unverified (❌) or
expert opinion are ``judgement`` values, with a ``# judgement:`` comment so a
reviewer finds them first. Only judgement values may be changed by a deployment
(``cds_b12.overrides``: ``CDS_B12_PROFILE_OVERRIDES`` names a TOML file of them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .plausible import PLAUSIBLE_LIMITS
from .profile_fields import JUDGEMENT, judgement, sourced
from .record import LabKind
from .regimens import Step
from .sources import Region


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    # "US" | "UK": a label for people and logs; no rule compares it.
    name: str = field(metadata=sourced("§6.1 profile"))
    citation_region: Region = field(metadata=sourced("§9: whose sources a card cites first"))

    # ---- §2 labs: used when the lab sends no reference range of its own ----
    b12_deficient_below_ng_l: float = field(
        default=180, metadata=sourced("§2.2: NICE NG239 / AFP 2025 (US-6)")
    )
    b12_indeterminate_below_ng_l: float = field(
        default=350, metadata=sourced("§2.2: NICE NG239 / AFP 2025 (US-6)")
    )
    holotc_deficient_below_pmol_l: float = field(default=25, metadata=sourced("§2.3 NICE"))
    holotc_indeterminate_below_pmol_l: float = field(default=70, metadata=sourced("§2.3 NICE"))
    # judgement (UK, ❌ §2.4): the NG239 MMA cut-off was recalled, not retrieved.
    mma_upper_umol_l: float = field(
        metadata=judgement("§2.4: UK NG239 (❌); US Mayo MMAP", only=("UK",))
    )
    hcy_upper_umol_l: float = field(default=15, metadata=sourced("§2.5 ARUP 0-15"))
    # judgement (KB §2.4 says "consider eGFR" but gives no cut-off): CKD G3 starts below 60.
    renal_impairment_egfr_below: float = field(
        default=60, metadata=judgement("§2.4 renal impairment raises MMA (KDIGO G3: <60)")
    )
    # judgement (not in the KB): serum folate deficiency when the lab sends no range.
    folate_deficient_below_ng_ml: float = field(
        default=3.0, metadata=judgement("§2.5 folate deficiency raises Hcy (WHO: <3 ng/mL)")
    )
    macrocytosis_above_fl: float = field(default=100, metadata=sourced("§2.6 BSH (◐)"))
    mcv_normal_from_fl: float = field(
        default=80, metadata=sourced("§2.6 (◐): normal MCV about 80-100 fL")
    )
    # judgement (❌): a reticulocyte upper limit (%) used only when the lab sends no range (R8).
    retic_upper_pct: float = field(default=2.5, metadata=judgement("§2.7 (no lab range)"))
    anaemia_below_male_g_dl: float = field(default=13.0, metadata=sourced("WHO-2.6"))
    anaemia_below_female_g_dl: float = field(
        default=12.0, metadata=sourced("WHO-2.6: non-pregnant women")
    )
    anaemia_below_pregnant_g_dl: float = field(default=11.0, metadata=sourced("WHO-2.6"))
    moderate_anaemia_below_g_dl: float = field(default=11.0, metadata=sourced("WHO-2.6"))
    severe_anaemia_below_g_dl: float = field(default=8.0, metadata=sourced("WHO-2.6, S9"))
    hypokalaemia_risk_hb_below_g_dl: float = field(default=8.0, metadata=sourced("S6 (US-2)"))
    # judgement (not in the KB): cut-offs for pancytopenia (R7/S9) when the lab sends no range.
    leukopenia_below_10e9_l: float = field(
        default=4.0, metadata=judgement("S9 pancytopenia: white cells (no KB value)")
    )
    # judgement (not in the KB): the usual adult neutropenia cut-off.
    neutropenia_below_10e9_l: float = field(
        default=1.5, metadata=judgement("S9 pancytopenia: neutrophils (no KB value)")
    )
    # judgement (not in the KB): the usual adult thrombocytopenia cut-off.
    thrombocytopenia_below_10e9_l: float = field(
        default=150, metadata=judgement("S9 pancytopenia: platelets (no KB value)")
    )
    # judgement (S6 gives no number): hypokalaemia when the lab sends no lower limit.
    hypokalaemia_below_mmol_l: float = field(
        default=3.5, metadata=judgement("S6 (US-2): low potassium (no KB value)")
    )
    # judgement: "the first days of loading" (S6: 48 h risk window), read as the first week.
    hypokalaemia_watch_days: int = field(
        default=7, metadata=judgement("S6 / §2.7: hypokalaemia window after the first dose")
    )
    # judgement (S6 gives no age): the newest potassium this recent is the baseline.
    baseline_potassium_days: int = field(
        default=7, metadata=judgement("S6 (US-2): a potassium this recent is the baseline")
    )
    # A result outside its analyte's limits is no living patient's (a unit slip): R25.
    # judgement (physiological limits, not guideline numbers): plausible.PLAUSIBLE_LIMITS.
    plausible_limits: tuple[tuple[LabKind, float, float], ...] = field(
        default=PLAUSIBLE_LIMITS, metadata=judgement("physiological limits (no KB value)")
    )
    raised_b12_above_ng_l: float = field(
        default=1000, metadata=sourced("US-6 (AFP 2025): persistently >1000 pg/mL")
    )
    # judgement: "persistently" read as this many results in a row, on different days.
    raised_b12_results: int = field(
        default=2, metadata=judgement("US-6 'persistently' (expert reading)")
    )

    # ---- which results describe the patient now ----
    post_injection_b12_invalid_days: int = field(default=14, metadata=sourced("S2, LAB-2.8 (§2.8)"))
    # judgement: a result older than this no longer describes the patient's current state.
    current_lab_days: int = field(default=365, metadata=judgement("expert default"))
    folate_b12_lookback_days: int = field(
        default=90, metadata=sourced("R20: no B12 in the last 3 months (§6.2)")
    )
    screening_b12_lookback_days: int = field(
        default=365, metadata=sourced("R17/R18: no B12 in 12 months (§6.2)")
    )

    # ---- §6.1 phase: reading a course from the injections given ----
    no_therapy_lookback_days: int = field(
        default=365, metadata=sourced("§6.1 phase NONE: no B12 therapy in 12 months")
    )
    # judgement: a gap longer than this between injections starts a new course.
    new_course_gap_days: int = field(default=180, metadata=judgement("§6.1 phase (expert reading)"))
    # judgement: doses no further apart than this are a loading course, not maintenance.
    loading_gap_days: int = field(
        default=14, metadata=judgement("§6.1 LOADING: start <14 days ago (expert reading)")
    )
    neuro_course_max_gap_days: int = field(
        default=3, metadata=sourced("UK-2: alternate-day dosing marks the neuro course")
    )
    # judgement: a course's typical interval is the median of its last this-many gaps.
    course_interval_gaps: int = field(
        default=3, metadata=judgement("§6.1 interval_days (expert reading)")
    )
    # The UK neuro course runs "until no further improvement" (UK-2); the US one is
    # time-bounded (US-4), so it ends like any loading course.
    neuro_course_open_ended: bool = field(metadata=sourced("UK-2 / US-4"))
    loading_complete_doses: int = field(
        metadata=sourced("UK-1: 3 a week for 2 weeks / US-3: QOD then weekly")
    )
    loading_complete_days: int = field(metadata=sourced("UK-1 / US-3"))
    # A loading course whose last dose is this long ago, unfinished, has been interrupted (R26);
    # 2 weeks misses a dose of every loading schedule (UK 3 a week, US weekly).
    # judgement: no source says when a pause becomes an interruption.
    loading_interrupted_after_days: int = field(
        default=14, metadata=judgement("§6.1 LOADING (expert reading)")
    )
    # After a break this long the whole loading course is given again, not only the rest.
    # judgement: the knowledge base is silent; 3 months is NICE's review interval (UK-8).
    interrupted_course_restart_days: int = field(
        default=90, metadata=judgement("R26 (expert reading; UK-8 review at 3 months)")
    )

    # ---- §6.2 R11-R12 adherence ----
    # judgement (❌ §6.3 "Overdue grace: expert default"): R11 grace by interval.
    overdue_grace_monthly_days: int = field(
        default=7, metadata=judgement("§6.3 overdue grace (❌)")
    )
    # judgement (❌ §6.3): the grace for intervals longer than monthly.
    overdue_grace_long_days: int = field(default=14, metadata=judgement("§6.3 overdue grace (❌)"))
    # judgement: intervals up to this many days are "monthly" for the grace above.
    monthly_interval_max_days: int = field(
        default=35, metadata=judgement("§6.2 R11 (expert reading)")
    )
    # judgement: R11 is info, not a warning, up to this many graces late (reversible cause).
    slightly_late_max_graces: int = field(
        default=2, metadata=judgement("§6.2 R11 'slightly overdue' (expert)")
    )
    missed_doses_for_adherence_card: int = field(
        default=2, metadata=sourced("§6.2 R12: two or more missed doses")
    )

    # ---- R28 dose errors on a B12 order being signed ----
    max_injection_dose_mg: float = field(
        default=1.0, metadata=sourced("§1.4: every injectable regimen gives 1 mg (1000 mcg)")
    )
    max_oral_dose_mg: float = field(
        default=2.0, metadata=sourced("§1.4 ORAL_HIGH: 1000-2000 mcg a day (US-5, US-7)")
    )
    min_injection_dose_mg: float = field(
        default=0.1, metadata=sourced("§1.4 US_LOAD_LABEL: 100 mcg, the least injected (US-1)")
    )
    min_oral_dose_mg: float = field(
        default=0.05, metadata=sourced("§1.4 UK_DIET_ORAL: 50 mcg, the smallest oral dose (UK-4)")
    )
    max_injection_volume_ml: float = field(
        default=1.0, metadata=sourced("§6.3: the 1 mg/mL products, 1 mL a dose (UK-1, US-1)")
    )
    micrograms_per_mg: int = field(
        default=1000, metadata=sourced("UCUM: mg written for micrograms is a thousandfold dose")
    )

    # ---- §6.2 R13-R14 intensifying, S16 ----
    min_interval_days: int = field(default=14, metadata=sourced("S16: never shorter than 2 weeks"))
    # A maintenance step more often than this is off-label, for the clinician's judgement
    # only and never the default (US every 2-3 weeks; UK-1/UK-5, US-1: at most monthly).
    labelled_min_interval_days: int = field(
        default=28,
        metadata=sourced("§7.7: every 2-3 weeks only as clinician-judged intensification"),
    )
    # Seed 2 "if ... symptoms suggest under-replacement": tiredness or glossitis recurring
    # before a dose is due (adherent) shortens the interval no further than this: UK every
    # 2 months (the BNF's own 2-3 month range), US monthly (the label's interval).
    # judgement: the knowledge base gives no interval for symptoms alone.
    symptom_intensify_min_days: int = field(
        metadata=judgement("Seed 2; UK-1 / US-1 (conservative reading)")
    )
    # judgement (US ◐): the every-2-3-weeks step is seed-document opinion.
    intensify_steps: tuple[Step, ...] = field(
        metadata=judgement("§1.4 MAINT_INTENSIFIED, UK-9", only=("US",))
    )

    # ---- §2.7 follow-up timing ----
    retic_response_days: tuple[int, int] = field(
        default=(7, 10), metadata=sourced("§2.7: retic peak day 7-10 (SP-7)")
    )
    retic_severe_days: tuple[int, int] = field(
        default=(5, 7), metadata=sourced("§6.2 R7: retic day 5-7")
    )
    cbc_response_days: int = field(
        default=56, metadata=sourced("§2.7: FBC normalises by 8 weeks; R10, R14")
    )
    potassium_recheck_days: tuple[int, int] = field(
        default=(1, 2), metadata=sourced("S6: K+ within 48 hours")
    )
    suboptimal_response_day: int = field(
        default=10, metadata=sourced("§6.2 R8: retic risen by day 10")
    )
    hb_response_day: int = field(default=28, metadata=sourced("§6.2 R8 / S14: Hb rising by week 4"))
    suboptimal_repeat_days: tuple[int, int] = field(
        default=(14, 28), metadata=sourced("§6.2 R8: repeat in 2-4 weeks")
    )
    bariatric_monitoring_days: int = field(
        default=365, metadata=sourced("§6.2 R19: annual B12 and CBC (SP-1, ◐)")
    )
    # judgement (❌ §6.2 R16): recheck 3-6 months after stopping; no guideline interval.
    recheck_after_stop_days: tuple[int, int] = field(
        default=(90, 180), metadata=judgement("§6.2 R16 (❌)")
    )
    # judgement: a resolved reversible cause counts once the drug has been stopped this long.
    reversible_resolved_days: int = field(default=90, metadata=judgement("§6.2 R16 (expert)"))
    # judgement (US): NICE's review at 3 months (UK-8); no US source gives an interval.
    review_days: int = field(
        default=90, metadata=judgement("UK-8: review at 3 months; US: none found", only=("US",))
    )
    pregnancy_review_days: int = field(
        default=30, metadata=sourced("UK-8, S11: 1 month if pregnant or breastfeeding")
    )
    # Follow-up the cards advise and no rule times (R9, R12, R13).
    neuro_reassess_days: tuple[int, int] = field(
        default=(7, 14), metadata=sourced("§6.2 R9: neuro reassessment each 1-2 weeks")
    )
    missed_doses_review_days: tuple[int, int] = field(
        default=(28, 56), metadata=sourced("§6.2 R12: review at 4-8 weeks")
    )
    intensified_review_days: tuple[int, int] = field(
        default=(30, 90), metadata=sourced("§6.2 R13: review 1-3 months after the change")
    )

    # ---- §6.1 cause and §6.2 R17-R18 risk drugs ----
    metformin_cause_days: int = field(
        default=120, metadata=sourced("§6.1 MEDICATION: metformin >= 4 months (US-5)")
    )
    metformin_risk_days: int = field(
        default=4 * 365, metadata=sourced("§6.2 R17: metformin >= 4 years (SP-4, ◐)")
    )
    metformin_high_dose_mg_day: float = field(
        default=1500, metadata=sourced("§6.2 R17: >= 1500 mg/day (SP-4, ◐)")
    )
    acid_suppressant_risk_days: int = field(
        default=365, metadata=sourced("§6.1 / R18: PPI or H2RA >= 12 months (US-5)")
    )
    elderly_age_years: int = field(default=75, metadata=sourced("§6.2 R18: age over 75 (US-5)"))
    # judgement (US): NG239 is for over 16s (UK-8); the US sources are adult guidance, read as 18.
    adult_age_years: int = field(
        metadata=judgement("UK-8: NG239 over 16s; US: adult sources (18)", only=("US",))
    )
    # judgement (§6.1 "sleeve ... treat as irreversible by default", configurable).
    sleeve_is_irreversible: bool = field(
        default=True, metadata=judgement("§6.1 POSSIBLY_REVERSIBLE_GI")
    )

    # ---- what each profile offers (§6.3) ----
    indeterminate_tests: tuple[str, ...] = field(
        metadata=sourced("§6.2 R5: UK-8 MMA / US-6 MMA and Hcy")
    )
    oral_alternative_to_loading: bool = field(
        metadata=sourced("§6.3 oral high-dose: US-5/US-6 yes; UK-7 no")
    )
    oral_alternative_to_maintenance: bool = field(
        metadata=sourced("§6.2 R10: US-3/US-5 yes; UK no")
    )
    b12_test_on_replacement_not_needed: bool = field(
        metadata=sourced("§2.8: UK BNSSG; US no rule (off)")
    )
    b12_retest_min_days: int | None = field(metadata=sourced("§2.8: UK RUH Bath 42 days; US none"))

    # Regimens by role (§6.3), as ``regimens.CATALOGUE`` IDs.
    loading: str = field(metadata=sourced("§6.3 loading, no neuro"))
    neuro_loading: str = field(metadata=sourced("§6.3 loading, neuro"))
    maintenance: str = field(metadata=sourced("§6.3 maintenance"))
    neuro_maintenance: str = field(metadata=sourced("§6.3 maintenance after neuro"))
    dietary: str = field(metadata=sourced("§6.3 dietary cause"))
    dietary_alternative: str | None = field(
        metadata=sourced("§6.3 dietary cause: UK 1 mg IM twice yearly")
    )
    oral: str = field(metadata=sourced("§6.3 oral high-dose"))
    bariatric: str = field(metadata=sourced("§6.3 bariatric prophylaxis"))
    bariatric_alternative: str = field(metadata=sourced("§6.3 bariatric prophylaxis"))

    @property
    def judgement_names(self) -> tuple[str, ...]:
        """The values a deployment may override for this profile."""
        return tuple(
            f.name for f in dataclasses.fields(self) if self.name in f.metadata.get(JUDGEMENT, ())
        )


US = Profile(
    name="US",
    citation_region=Region.US,
    mma_upper_umol_l=0.40,  # Mayo MMAP (§2.4)
    adult_age_years=18,  # judgement: the US sources are adult guidance
    neuro_course_open_ended=False,
    loading_complete_doses=8,  # US-3: QOD x 1 week + weekly x 4 weeks
    loading_complete_days=28,
    intensify_steps=(Step(1, 2, "wk", period_max=3),),  # judgement (◐)
    symptom_intensify_min_days=30,  # judgement: monthly, the label's interval
    indeterminate_tests=("MMA", "HCY"),  # US-6
    oral_alternative_to_loading=True,  # US-5, US-6
    oral_alternative_to_maintenance=True,  # US-3, US-5
    b12_test_on_replacement_not_needed=False,  # §6.3: no authoritative US rule; default off
    b12_retest_min_days=None,
    loading="US_LOAD_STD",
    neuro_loading="US_LOAD_NEURO",
    maintenance="US_MAINT",
    neuro_maintenance="US_MAINT",
    dietary="ORAL_HIGH",  # US-5: oral 1000-2000 ug/day
    dietary_alternative=None,
    oral="ORAL_HIGH",
    bariatric="BARIATRIC_PROPH",  # US-5 (AFP: 1 mg/day oral)
    bariatric_alternative="US_MAINT",  # SP-1 (◐): 1000 ug IM monthly
)

UK = Profile(
    name="UK",
    citation_region=Region.UK,
    mma_upper_umol_l=0.45,  # judgement (❌ §2.4): NG239 cut-off recalled, not retrieved
    adult_age_years=16,  # UK-8: NICE NG239 covers people over 16
    neuro_course_open_ended=True,  # UK-2: alternate days until no further improvement
    loading_complete_doses=6,  # UK-1: 3 per week for 2 weeks
    loading_complete_days=11,
    intensify_steps=(Step(1, 2, "mo"), Step(1, 1, "mo")),  # UK-9, UK-5: one step at a time
    symptom_intensify_min_days=60,  # judgement: every 2 months, within the BNF's range
    indeterminate_tests=("MMA",),  # UK-8
    oral_alternative_to_loading=False,  # UK-7: contested (GGC)
    oral_alternative_to_maintenance=False,
    b12_test_on_replacement_not_needed=True,  # BNSSG, North Bristol (§2.8)
    b12_retest_min_days=42,  # RUH Bath (§2.8)
    loading="UK_LOAD_STD",
    neuro_loading="UK_LOAD_NEURO",
    maintenance="UK_MAINT_STD",
    neuro_maintenance="UK_MAINT_NEURO",
    dietary="UK_DIET_ORAL",
    dietary_alternative="UK_DIET_IM",
    oral="ORAL_HIGH",
    bariatric="UK_MAINT_STD",  # SP-3 (UK-5): hydroxocobalamin 1 mg every 2-3 months
    bariatric_alternative="ORAL_HIGH",
)

PROFILES: Mapping[str, Profile] = MappingProxyType({"us": US, "uk": UK})


def get_profile(name: str) -> Profile:
    """The built-in profile called ``name`` (us | uk, any case); raises KeyError otherwise."""
    return PROFILES[name.lower()]


def overridden(profiles: Mapping[str, Profile]) -> dict[str, dict[str, object]]:
    """The values in ``profiles`` that differ from the built-in ones, per profile."""
    return {
        key: changes
        for key, profile in profiles.items()
        if (
            changes := {
                name: getattr(profile, name)
                for name in profile.judgement_names
                if getattr(profile, name) != getattr(PROFILES[key], name)
            }
        )
    }
