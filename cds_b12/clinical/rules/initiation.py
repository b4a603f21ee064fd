"""Clinical core: rules R1-R7, starting treatment for a patient not yet on B12.

Imports only ``cds_b12.clinical``. Recommendations of ``b12-clinical.md``
§6.2 R1-R7; sources UK-1..UK-6, US-1..US-6, WHO (§2.6), BSH key rec. 4.
"""

from __future__ import annotations

from ..assess import PHASE_NONE, Anaemia, Assessment, Band, Cause, Functional
from ..codes import LOW_INTERPRETATIONS
from ..facts import AdultLimit, Agents, Fact
from ..followup import baseline_labs, merge, on, potassium_labs, response_labs, window
from ..profiles import Profile
from ..recommendation import (
    Indicator,
    Kind,
    LabNote,
    LabOrder,
    Recommendation,
    Urgency,
    Variant,
)
from ..record import Finding, Lab, LabKind, Product
from ..regimens import CATALOGUE
from ..sources import cites
from .common import recommend, said, severity_open

_IM_CAUSES = (Cause.IRREVERSIBLE_MALABSORPTION, Cause.UNKNOWN, Cause.POSSIBLY_REVERSIBLE_GI)


def _injections_only(a: Assessment, p: Profile) -> bool:
    """No tablets first: ``needs_injections``, or a severity the record leaves open."""
    return a.needs_injections or severity_open(a, p)


def _neuro_loading(
    a: Assessment, p: Profile, rule: str, variant: Variant | None = None
) -> Recommendation:
    """Shared by R1 and R6: neuro loading now, urgent advice, no waiting for MMA."""
    labs = merge(baseline_labs(a, antibodies=True, pca=True), response_labs(a.as_of, p))
    return recommend(
        a,
        rule,
        Indicator.CRITICAL,
        Kind.START_LOADING,
        urgency=Urgency.URGENT,
        regimen=CATALOGUE[p.neuro_loading],
        labs=labs,
        start_on=a.as_of,
        variant=variant,
    )


@cites("UK-2", "UK-3", "UK-6", "US-3", "US-4")
def r1_start_neuro_loading(a: Assessment, p: Profile) -> Recommendation | None:
    """Start neuro loading and seek urgent specialist advice.

    Fires: no B12 therapy in 12 months; deficient by level or functional marker;
    neurological signs. Silent: already treated; indeterminate level (R6).
    Sources: UK-2, UK-3 (BNF, CKS), UK-6 (BSH 2014), US-3 (Stabler), US-4 (BMJ BP).
    """
    if a.phase is not PHASE_NONE or not a.has_neuro or not a.is_deficient:
        return None
    return _neuro_loading(a, p, "R1-start-neuro-loading")


@cites("UK-1", "UK-5", "US-3", "US-5")
def r2_start_standard_loading(a: Assessment, p: Profile) -> Recommendation | None:
    """Start IM loading for confirmed deficiency without neurological signs.

    Fires: no B12 therapy in 12 months; deficient; cause irreversible, GI,
    unknown, or dietary/drug-related with moderate or severe anaemia or pancytopenia (or
    a severity an unreadable newer blood count leaves open, ``severity_open``).
    Silent: neuro signs (R1), dietary (R3) or drug (R4) cause with mild or no anaemia.
    US option: oral 1000 micrograms daily unless anaemia is severe or there is
    pancytopenia (US-4), or a newer blood count could not be read (``severity_open``).
    Sources: UK-1 (BNF), UK-5 (SmPC), US-3 (Stabler), US-5 (AFP 2017).
    """
    if a.phase is not PHASE_NONE or a.has_neuro or not a.is_deficient:
        return None
    left_open = severity_open(a, p)
    if a.cause not in _IM_CAUSES and not (a.needs_injections or left_open):
        return None
    severe = a.anaemia is Anaemia.SEVERE or a.pancytopenia or left_open
    oral_ok = p.oral_alternative_to_loading and not severe and not a.pregnant
    return recommend(
        a,
        "R2-start-standard-loading",
        Indicator.WARNING,
        Kind.START_LOADING,
        regimen=CATALOGUE[p.loading],
        alternative=CATALOGUE[p.oral] if oral_ok else None,
        labs=merge(
            baseline_labs(a, antibodies=a.cause is Cause.UNKNOWN), response_labs(a.as_of, p)
        ),
        start_on=a.as_of,
    )


@cites("UK-4", "US-5")
def r3_dietary_oral(a: Assessment, p: Profile) -> Recommendation | None:
    """Treat a dietary deficiency orally, with dietary advice.

    Fires: no therapy; deficient; dietary cause; no neuro signs; no anaemia or
    mild anaemia. Silent: moderate/severe anaemia, pancytopenia, or a newer blood count
    that could not be read (R2 gives IM loading).
    Sources: UK-4 (CKS), US-5 (AFP 2017).
    """
    if a.phase is not PHASE_NONE or a.has_neuro or not a.is_deficient:
        return None
    if a.cause is not Cause.DIETARY or _injections_only(a, p):
        return None
    labs = (on(a.as_of, "CBC", LabNote.BASELINE),) if a.is_anaemic else ()
    return recommend(
        a,
        "R3-dietary-oral",
        Indicator.INFO,
        Kind.START_ORAL,
        regimen=CATALOGUE[p.dietary],
        alternative=CATALOGUE[p.dietary_alternative] if p.dietary_alternative else None,
        labs=labs,
        start_on=a.as_of,
    )


@cites(
    "US-5",
    "SP-5",
    "SP-4",
    "SP-6",
    variants={Variant.METFORMIN: ("US-5", "SP-5", "SP-4"), Variant.NO_METFORMIN: ("US-5", "SP-6")},
)
def r4_medication_cause(a: Assessment, p: Profile) -> Recommendation | None:
    """Treat a drug-related deficiency by severity and continue metformin.

    Fires: no therapy; deficient; cause is long-term metformin, PPI/H2RA or
    nitrous oxide; no neuro signs. Oral high-dose unless anaemic, when IM
    loading leads and oral is the alternative. Never suggests stopping
    metformin (S7); suggests reviewing the PPI indication. The card speaks of the
    patient's own medicine: variant metformin (metformin alone: no PPI advice, no Lam),
    no_metformin (a PPI/H2RA or nitrous oxide: no metformin advice, no MHRA/ADA).
    Sources: US-5, SP-4, SP-5 (MHRA), SP-6 (Lam).
    """
    if a.phase is not PHASE_NONE or a.has_neuro or not a.is_deficient:
        return None
    if a.cause is not Cause.MEDICATION or _injections_only(a, p):
        return None
    oral, im = CATALOGUE[p.oral], CATALOGUE[p.loading]
    regimen, alternative = (im, oral) if a.is_anaemic else (oral, im)
    drugs = tuple(e.medication.product for e in (a.metformin, a.acid_suppressant) if e and e.active)
    nitrous_oxide = any(f.finding is Finding.NITROUS_OXIDE for f in a.cause_findings)
    on_metformin = Product.METFORMIN in drugs
    variant = None
    if on_metformin and len(drugs) == 1 and not nitrous_oxide:
        variant = Variant.METFORMIN
    elif not on_metformin:
        variant = Variant.NO_METFORMIN
    return recommend(
        a,
        "R4-medication-cause",
        Indicator.WARNING if a.is_anaemic else Indicator.INFO,
        Kind.START_ORAL if regimen is oral else Kind.START_LOADING,
        regimen=regimen,
        alternative=alternative,
        start_on=a.as_of,
        variant=variant,
        drug=Agents(drugs, nitrous_oxide),
    )


def _has_symptom_or_risk(a: Assessment, p: Profile) -> bool:
    """NG239 (UK-8): test when a symptom and a risk factor are present."""
    return (
        a.cause is not Cause.UNKNOWN
        or a.is_anaemic
        or a.macrocytosis
        or a.pregnant
        or (a.age_years or 0) > p.elderly_age_years
        or a.has(Finding.B12_DEFICIENCY)
    )


@cites("UK-8", "US-6", "SP-9", variants={Variant.NITROUS_OXIDE: ("SP-9",)})
def r5_indeterminate_order_mma(a: Assessment, p: Profile) -> Recommendation | None:
    """Order MMA (US: with homocysteine) after an indeterminate B12.

    Fires: no therapy; B12 indeterminate, or normal with current nitrous oxide
    exposure (SP-9: total B12 may be normal; the S12 rail adds homocysteine);
    MMA/homocysteine not yet done; no neuro signs; a symptom or risk factor
    present. Silent: neuro signs (R6); a functional marker already resulted
    (then the band is decided by it). Sources: UK-8 (NG239), US-6, SP-9 (NG239);
    the nitrous_oxide variant SP-9 alone (AFP's MMA band is not what it says).
    """
    if a.phase is not PHASE_NONE or a.has_neuro or not a.b12_not_excluded:
        return None
    if a.functional is not Functional.NA or not _has_symptom_or_risk(a, p):
        return None
    return recommend(
        a,
        "R5-indeterminate-order-mma",
        Indicator.INFO,
        Kind.ORDER_LABS,
        labs=tuple(on(a.as_of, t, LabNote.CONFIRM) for t in p.indeterminate_tests),
        variant=_normal_b12_variant(a),
    )


def _normal_b12_variant(a: Assessment) -> Variant | None:
    """The wording for a normal B12 that nitrous oxide leaves open (SP-9)."""
    return Variant.NITROUS_OXIDE if a.b12_band is Band.NORMAL else None


@cites("UK-6", "UK-2", "UK-3", "US-3", "US-4", "SP-9", named={Variant.NITROUS_OXIDE: ("SP-9",)})
def r6_indeterminate_neuro(a: Assessment, p: Profile) -> Recommendation | None:
    """Treat an indeterminate B12 with neurological signs as R1, without waiting for MMA.

    Fires: no therapy; B12 indeterminate, or normal with current nitrous oxide
    exposure (SP-9); neuro signs; not already deficient (R1 covers that).
    Sources: UK-6 (BSH 2014: do not delay for MMA), UK-2, UK-3, US-3, US-4 (the
    neuro loading course, as R1), SP-9 (NG239: a normal B12 with nitrous oxide,
    cited in the US too by the nitrous_oxide card, which names it).
    """
    if a.phase is not PHASE_NONE or not a.has_neuro or a.is_deficient:
        return None
    if not a.b12_not_excluded:
        return None
    return _neuro_loading(a, p, "R6-indeterminate-neuro", _normal_b12_variant(a))


def _severe_anaemia_labs(a: Assessment, p: Profile) -> tuple[LabOrder, ...]:
    """Before treatment: potassium at baseline and 48 h (a recheck within 48 h when the
    baseline on file is low), retic on day 5-7 (S6). Once a course has begun, its own
    dates: potassium now in its first days, retic by day 5-7."""
    start = a.treatment_start
    started = a.days_ago(start)
    if a.phase is PHASE_NONE or start is None or started is None:
        return merge(
            potassium_labs(a.as_of, p, baseline=a.baseline_hypokalaemia is None),
            (window(a.as_of, p.retic_severe_days, "RETIC", LabNote.RESPONSE),),
        )
    retic = window(start, p.retic_severe_days, "RETIC", LabNote.RESPONSE)
    if retic.due_to is not None and retic.due_to < a.as_of:
        retic = on(a.as_of, "RETIC", LabNote.NOW)
    if started > p.hypokalaemia_watch_days:
        return (retic,)
    return (on(a.as_of, "POTASSIUM", LabNote.NOW), retic)


def _potassium(a: Assessment, low: Lab | None, p: Profile) -> Fact:
    """R7's low potassium as the card quotes it: a child's judged by the adult cut-off
    (no lab range or flag; the KB gives no paediatric value) says so (``AdultLimit``);
    otherwise with any newer one that could not be read."""
    adult_limit = low is not None and low.ref_low is None
    if adult_limit and not a.is_adult and low.interpretation not in LOW_INTERPRETATIONS:
        return AdultLimit(low, p.hypokalaemia_below_mmol_l)
    return said(a, low, (LabKind.POTASSIUM,))


@cites(
    "WHO-2.6",
    "US-4",
    "US-2",
    "UK-5",
    variants={
        Variant.CHILD: ("UK-8", "US-4", "US-2", "UK-5"),
        Variant.CHILD_PANCYTOPENIA: ("UK-8", "US-4", "US-2", "UK-5"),
        Variant.LOW_POTASSIUM: ("US-2", "UK-5", "US-4"),
        Variant.BASELINE_LOW_POTASSIUM: ("US-2", "UK-5", "US-4"),
        Variant.PANCYTOPENIA: ("US-4", "US-2", "UK-5"),
    },
)
def r7_severe_anaemia(a: Assessment, p: Profile) -> Recommendation | None:
    """Urgent same-day assessment for severe anaemia or pancytopenia, with potassium monitoring.

    Fires: Hb below the severe cut-off (8 g/dL), or pancytopenia (Hb, white cells or
    neutrophils, and platelets below the lab's range, else the profile's judgement
    cut-offs), in any phase: a possible marrow failure is never routine repletion.
    Also when potassium is low in the first days of a course begun with severe anaemia
    (S6: below the lab's range, else the profile's judgement cut-off): the card says so.
    A low baseline potassium (``bands.baseline_hypokalaemia``: before the first dose,
    none since) is said too: correct it, recheck within 48 h (no second baseline).
    Below the adult age (an ANY_AGE rule): an Hb the lab flags critically low ("LL"), or
    pancytopenia by the lab's own ranges, with wording that names no adult cut-off (the KB
    gives no paediatric Hb number); a child's low potassium judged by the adult cut-off (no
    lab range or flag; nor a paediatric K number) says so. An adult with pancytopenia gets
    the pancytopenia wording (with or without severe anaemia), so the card names the
    finding; it rests on US-4, US-2 and UK-5, not on the WHO cut-off (variant pancytopenia);
    a child with pancytopenia likewise (variant child_pancytopenia, sourced as variant
    child).
    Sources: WHO-2.6 (severity), US-4 (BMJ BP: pancytopenia needs urgent treatment),
    US-2 (FDA label) and UK-5 (SmPC) on hypokalaemia. A child (variant child) rests on
    the lab's own flag and UK-8 (NICE NG239 is for over-16s: paediatric advice, as R23)
    with US-4, US-2 and UK-5; no WHO adult cut-off is applied, so none is cited. A low
    potassium (variants low_potassium, baseline_low_potassium, which can fire once Hb
    has risen above 8) rests on S6: US-2 and UK-5, with US-4; not WHO-2.6.
    """
    low_k = a.early_hypokalaemia
    if a.anaemia is not Anaemia.SEVERE and not a.pancytopenia and low_k is None:
        return None
    variant = None if a.is_adult else Variant.CHILD
    if a.pancytopenia:  # the card names the finding the patient has
        variant = Variant.PANCYTOPENIA if a.is_adult else Variant.CHILD_PANCYTOPENIA
    if low_k is not None:
        variant = Variant.LOW_POTASSIUM
    elif a.baseline_hypokalaemia is not None:
        variant, low_k = Variant.BASELINE_LOW_POTASSIUM, a.baseline_hypokalaemia
    return recommend(
        a,
        "R7-severe-anaemia",
        Indicator.CRITICAL,
        Kind.URGENT_ASSESSMENT,
        urgency=Urgency.URGENT,
        labs=_severe_anaemia_labs(a, p),
        variant=variant,
        wbc=said(a, a.wbc, (LabKind.WBC,)),
        neutrophils=said(a, a.neutrophils, (LabKind.NEUTROPHILS,)),
        platelets=said(a, a.platelets, (LabKind.PLATELETS,)),
        potassium=_potassium(a, low_k, p),
        loading_start=a.treatment_start,
        age=a.age_years,
    )
