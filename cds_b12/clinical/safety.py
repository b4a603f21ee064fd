"""Clinical core: safety rails S1-S12 (``b12-clinical.md`` §5), applied after every rule.

Imports only ``cds_b12.clinical``. Each rail looks at one Recommendation and
may drop it (returns None), change its regimen, raise its indicator or add
labs, recording its S-ID in ``Recommendation.safety`` so the card and the
audit can say why. Rails add no prose: ``cards/safety.toml`` holds the words,
and ``SAFETY_SOURCES`` what each line rests on, so a card showing it cites them.
S13-S16 are covered elsewhere: S13 by the baseline labs of R1/R2 and R6,
S14 by R8, S16 by ``regimens.intensified``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace

from .assess import PHASE_NONE, Anaemia, Assessment
from .followup import merge, on, potassium_labs
from .profiles import Profile
from .recommendation import Indicator, Kind, LabNote, Recommendation, Variant
from .record import Finding, Product, Route
from .regimens import CATALOGUE, HYDROXOCOBALAMIN_INJ, Regimen, with_drug
from .rules.common import severity_open
from .sources import Region, cite

# the cards that start, continue or change B12 treatment: the rails qualify these
TREATMENT_KINDS = frozenset(
    {
        Kind.START_LOADING,
        Kind.START_ORAL,
        Kind.START_MAINTENANCE,
        Kind.INTENSIFY,
        Kind.GIVE_DOSE,
        Kind.CONTINUE_LOADING,
    }
)
_STARTS = frozenset({Kind.START_LOADING, Kind.START_ORAL, Kind.START_MAINTENANCE})
_URGENT = TREATMENT_KINDS | {Kind.URGENT_ASSESSMENT}  # S6: the cards a low potassium makes critical
_SEVERE = _STARTS | {Kind.URGENT_ASSESSMENT}  # S9: the cards severe anaemia makes critical
# S1: the treatment cards its line qualifies (an irreversible cause: injections for life)
_CONTINUES = frozenset({Kind.GIVE_DOSE, Kind.START_MAINTENANCE, Kind.START_LOADING, Kind.INTENSIFY})
# the correcting cards that remove a B12 order for the confirming test first (R24, R29):
# still the testing card for the problem, so the rails that qualify testing apply
_CONFIRM_FIRST = frozenset(
    {Variant.DRAFT_ORDER, Variant.CONFIRM_FIRST, Variant.CONFIRM_FIRST_NO_MMA}
)


def _tests_or_treats(r: Recommendation) -> bool:
    """A card that starts, changes or tests for B12 treatment (S7, S11, S12 qualify it)."""
    return r.kind in TREATMENT_KINDS or r.kind is Kind.ORDER_LABS or r.variant in _CONFIRM_FIRST


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A recommendation a safety rail removed, kept for the audit."""

    rule: str
    safety: str


def s1_irreversible_cause(r: Recommendation, a: Assessment, p: Profile) -> Recommendation | None:
    """Never suggest stopping or lengthening injections for an irreversible cause."""
    if not a.is_irreversible:
        return r
    if r.kind is Kind.CONSIDER_STOP:
        return None
    longest = CATALOGUE[p.maintenance].steps[-1].interval_max_days
    if r.regimen and r.regimen.is_injection and r.regimen.steps[-1].interval_max_days > longest:
        return None
    if r.kind in _CONTINUES:
        return r.with_safety("S1")
    return r


def s2_post_injection_b12(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Say so when a B12 taken within 14 days of an injection was set aside."""
    return r.with_safety("S2") if a.ignored_b12 else r


def s3_folate_masking(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Folic acid without B12 is always critical."""
    if r.rule.startswith("R20-"):
        return r.with_safety("S3", indicator=Indicator.CRITICAL)
    return r


def _hydroxocobalamin(regimen: Regimen | None, p: Profile) -> Regimen | None:
    if regimen is None or regimen.drug.ingredient != "cyanocobalamin":
        return regimen
    if regimen.is_injection:
        return with_drug(regimen, HYDROXOCOBALAMIN_INJ)
    return with_drug(CATALOGUE[p.maintenance], HYDROXOCOBALAMIN_INJ)


def s4_leber(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """No cyanocobalamin in Leber's disease: the same plan with hydroxocobalamin."""
    if not a.has(Finding.LEBER):
        return r
    regimen = _hydroxocobalamin(r.regimen, p)
    alternative = r.alternative
    if alternative is not None and alternative.drug.ingredient == "cyanocobalamin":
        alternative = None
    if regimen is r.regimen and alternative is r.alternative:
        return r
    return r.with_safety("S4", regimen=regimen, alternative=alternative)


def s5_hypersensitivity(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Cobalt or B12 allergy: withhold every product suggestion; critical."""
    if not a.has(Finding.COBALT_B12_ALLERGY) or (
        r.regimen is None and r.alternative is None and not r.rule.startswith("R21-")
    ):
        return r
    return r.with_safety("S5", regimen=None, alternative=None, indicator=Indicator.CRITICAL)


def s6_hypokalaemia(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Potassium at baseline and 48 h when loading starts with Hb below the profile's
    cut-off (8 g/dL) or pancytopenia (only the 48-hour recheck when the baseline on file
    is low); a low potassium in the first days of such a course, or before it, makes the
    assessment and any treatment card critical. The S-ID names the situation, so the
    card's line agrees with its labs: ``S6-low-loading`` (low since the first dose: correct
    and monitor it), ``S6-low-baseline`` (low before it: correct it, recheck within 48 h),
    ``S6-severity-open`` (a newer blood count could not be read, so severe anaemia is not
    ruled out: the same checks, and S9's advice, as a condition, without claiming it)."""
    urgent = r.kind in _URGENT
    if a.early_hypokalaemia is not None and urgent:
        return r.with_safety("S6-low-loading", indicator=Indicator.CRITICAL)
    sid = "S6" if a.baseline_hypokalaemia is None else "S6-low-baseline"
    if a.baseline_hypokalaemia is not None and urgent:
        r = r.with_safety(sid, indicator=Indicator.CRITICAL)
    if r.kind is not Kind.START_LOADING:
        return r
    severe = a.pancytopenia or (a.hb is not None and a.hb.value < p.hypokalaemia_risk_hb_below_g_dl)
    if not severe:
        if not severity_open(a, p):
            return r
        sid = "S6-severity-open"  # not ruled out: the checks, said as a condition
    start = r.start_on or a.as_of
    labs = potassium_labs(start, p, baseline=a.baseline_hypokalaemia is None)
    return r.with_safety(sid, labs=merge(r.labs, labs))


def s7_metformin(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Continue metformin: say so on every card for a patient taking it."""
    on_metformin = a.metformin is not None and a.metformin.active
    if on_metformin and _tests_or_treats(r):
        return r.with_safety("S7")
    return r


def s8_neurological(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Neurological signs before treatment or recurring on it: critical, neuro loading."""
    active = a.has_neuro and (a.phase is PHASE_NONE or a.neuro_recurrence)
    if not active or r.kind not in TREATMENT_KINDS:
        return r
    regimen = r.regimen
    if r.kind is Kind.START_ORAL or (regimen is not None and regimen.route is Route.ORAL):
        regimen = CATALOGUE[p.neuro_loading]
    return r.with_safety("S8", regimen=regimen, indicator=Indicator.CRITICAL)


def s9_severe_anaemia(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Severe anaemia (Hb below 8 g/dL) or pancytopenia makes starting treatment critical.
    When a newer blood count could not be read (``severity_open``) the card says the
    urgent-assessment advice as a condition (``S9-severity-open``, or in the loading card's
    ``S6-severity-open`` line) and its indicator stays as it is."""
    if r.kind not in _SEVERE:
        return r
    if a.anaemia is Anaemia.SEVERE or a.pancytopenia:
        return r.with_safety("S9", indicator=Indicator.CRITICAL)
    if "S6-severity-open" not in r.safety and severity_open(a, p):  # that line says it too
        return r.with_safety("S9-severity-open")
    return r


def s10_cyanokit(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Explain that a Cyanokit dose was not counted as B12 therapy."""
    if r.kind not in _STARTS:  # first: the medications are many, the starts few
        return r
    had = any(m.product is Product.CYANOKIT for m in a.record.medications)
    return r.with_safety("S10") if had else r


def s11_pregnancy(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Pregnancy: check folate, review at 1 month, at least a warning. Breastfeeding: the
    same review at 1 month (NG239, UK-8), named on the card as its own qualifier."""
    if not _tests_or_treats(r):
        return r
    if not a.pregnant:
        return r.with_safety("S11-breastfeeding") if a.breastfeeding else r
    labs = merge(r.labs, (on(a.as_of, "FOLATE", LabNote.PREGNANCY),))
    return r.with_safety("S11", labs=labs, indicator=r.at_least(Indicator.WARNING))


def s12_nitrous_oxide(r: Recommendation, a: Assessment, p: Profile) -> Recommendation:
    """Nitrous oxide exposure (SP-9, NG239): total B12 may be normal, so homocysteine (or
    MMA) is drawn; stopping is advised (the S12 line); a reversible cause, so no lifelong
    maintenance follows the course unless an irreversible cause is also recorded (S1)."""
    if not a.nitrous_oxide or not _tests_or_treats(r):
        return r
    labs = r.labs
    if a.hcy is None:
        note = LabNote.BASELINE if r.kind in _STARTS else LabNote.CONFIRM
        labs = merge(labs, (on(a.as_of, "HCY", note),))
    if a.is_irreversible:
        return r.with_safety("S12", labs=labs, indicator=r.at_least(Indicator.WARNING))
    return r.with_safety(
        "S12",
        labs=labs,
        regimen=_course_only(r.regimen),
        alternative=_course_only(r.alternative),
        indicator=r.at_least(Indicator.WARNING),
    )


def _course_only(regimen: Regimen | None) -> Regimen | None:
    """``regimen`` without a lifelong follow-on: a reversible cause is treated, then reviewed."""
    if regimen is None or not (regimen.then or regimen.lifelong):
        return regimen
    return replace(regimen, then=None, lifelong=False)


Rail = Callable[[Recommendation, Assessment, Profile], Recommendation | None]

RAILS: tuple[tuple[str, Rail], ...] = (
    ("S1", s1_irreversible_cause),
    ("S2", s2_post_injection_b12),
    ("S3", s3_folate_masking),
    ("S4", s4_leber),
    ("S5", s5_hypersensitivity),
    ("S6", s6_hypokalaemia),
    ("S7", s7_metformin),
    ("S8", s8_neurological),
    ("S9", s9_severe_anaemia),
    ("S10", s10_cyanokit),
    ("S11", s11_pregnancy),
    ("S12", s12_nitrous_oxide),
)


# Safety ID -> the source IDs its line in cards/safety.toml rests on (§5, §9): each one
# it names, and Lam under S7's PPI advice. S10 rests on the RxNorm codes (§3.2): none.
# S13-S16 have lines too, though their rules act elsewhere (see above).
SAFETY_SOURCES: dict[str, tuple[str, ...]] = {
    "S1": ("UK-10",),  # NG239 rationale: replacement is not stopped for an irreversible cause
    "S2": ("LAB-2.8",),
    "S3": ("LABEL-S3",),
    "S4": ("LABEL-S4",),
    "S5": ("LABEL-S4",),
    "S6": ("US-2",),  # label monitoring: potassium in the first 48 hours
    "S6-low-baseline": ("US-2",),
    "S6-low-loading": ("US-2",),
    "S6-severity-open": ("US-2", "WHO-2.6", "US-4"),  # S9's advice as a condition too
    "S7": ("SP-5", "SP-6"),
    "S8": ("UK-6", "SP-7"),
    "S9": ("WHO-2.6", "US-4"),
    "S9-severity-open": ("WHO-2.6", "US-4"),
    "S10": (),
    "S11": ("UK-8",),  # NG239: review at 1 month if pregnant or breastfeeding
    "S11-breastfeeding": ("UK-8",),
    "S12": ("SP-9",),
    "S13": ("UK-5", "LAB-2.8"),
    "S14": ("US-2",),  # label monitoring: re-evaluate when reticulocytes do not rise
    "S15": ("US-1",),
    "S16": ("UK-9",),  # NG239: more often only in line with the product information
}
# A profile's own wording of a line (its table in cards/safety.toml) that rests on others.
REGION_SAFETY_SOURCES: dict[Region, dict[str, tuple[str, ...]]] = {
    Region.UK: {
        "S3": ("UK-3",),
        "S4": ("UK-5", "LABEL-S4"),
        "S6": ("UK-5",),
        "S6-low-baseline": ("UK-5",),
        "S6-low-loading": ("UK-5",),
        "S6-severity-open": ("UK-5", "WHO-2.6", "US-4"),
        "S11": ("UK-8", "UK-5"),  # SmPC: not for megaloblastic anaemia of pregnancy
    },
}


@functools.cache
def safety_sources(sid: str, region: Region) -> tuple[str, ...]:
    """``cite`` of what safety line ``sid`` rests on in a profile of ``region``. The line
    names each of the other country's sources it has, so ``cite`` keeps them all."""
    ids = REGION_SAFETY_SOURCES.get(region, {}).get(sid, SAFETY_SOURCES[sid])
    return cite(ids, region, named=ids)


def apply_safety(
    recs: tuple[Recommendation, ...], a: Assessment, p: Profile
) -> tuple[tuple[Recommendation, ...], tuple[Suppressed, ...]]:
    """Run every rail over every recommendation, in S-ID order."""
    kept: list[Recommendation] = []
    dropped: list[Suppressed] = []
    for rec in recs:
        current: Recommendation | None = rec
        for sid, rail in RAILS:
            current = rail(current, a, p)
            if current is None:
                dropped.append(Suppressed(rec.rule, sid))
                break
        if current is not None:
            kept.append(current)
    return tuple(kept), tuple(dropped)
