"""Clinical core: rules R20-R21 and R28-R29, unsafe prescribing caught as it happens.

Imports only ``cds_b12.clinical``. Recommendations of ``b12-clinical.md``
§6.2 R20-R21, the rule side of safety rails S3 (folate masking), S4 (Leber's
disease) and S5 (cobalt/B12 hypersensitivity), look at draft orders
(order-select, order-sign) and at current orders (patient-view); R28 (dose,
unit and frequency errors) and R29 (over-treatment, S13) look at B12 drafts.
Each proposes the intended regimen as an update of the draft (``reconcile``
makes one plan of it with any treatment card).
"""

from __future__ import annotations

from ..assess import (
    PHASE_LOADING,
    PHASE_MAINTENANCE,
    PHASE_NONE,
    Assessment,
    Band,
    Cause,
    Functional,
    is_current,
)
from ..bands import B12_KINDS
from ..facts import Fact, OnFile, Ordered, Unused
from ..followup import on
from ..profiles import Profile
from ..recommendation import Indicator, Kind, LabNote, LabOrder, Recommendation, Urgency, Variant
from ..record import ADMINISTRATION, Finding, Medication, Product
from ..regimens import (
    CATALOGUE,
    CYANOCOBALAMIN_INJ,
    HYDROXOCOBALAMIN_INJ,
    SAME_INTERVAL_TOLERANCE_DAYS,
    Regimen,
    Step,
    with_drug,
)
from ..sources import cites
from .common import recommend, said


def _current(a: Assessment, wanted) -> list[tuple[Medication, str | None]]:
    """Drafts first (with their ids), then current orders and statements."""
    found = [
        (d.medication, d.resource_id)
        for d in a.record.drafts
        if d.medication is not None and wanted(d.medication)
    ]
    for m in a.record.medications:
        if m.source is not ADMINISTRATION and is_current(m, a.as_of) and wanted(m):
            found.append((m, None))
    return found


@cites("LABEL-S3", "UK-3")
def r20_folate_without_b12(a: Assessment, p: Profile) -> Recommendation | None:
    """Check B12 before or alongside folic acid; never folate alone.

    Fires: folic acid ordered or current; not on B12 therapy; no normal B12
    in the last 3 months; macrocytosis, neuro signs, or no B12 on file.
    Safety rail S3. Sources: LABEL-S3 (FDA label precautions), UK-3 (NICE CKS).
    """
    folate = _current(a, lambda m: m.product is Product.FOLIC_ACID)
    if not folate or a.phase is not PHASE_NONE:
        return None
    recent = a.days_ago(a.b12.on) if a.b12 else None
    excluded = (
        a.b12_band is Band.NORMAL and recent is not None and recent <= p.folate_b12_lookback_days
    )
    if excluded or not (
        a.macrocytosis or a.has_neuro or a.b12 is None or recent > p.folate_b12_lookback_days
    ):
        return None
    med, draft_id = folate[0]
    return recommend(
        a,
        "R20-folate-without-b12",
        Indicator.CRITICAL,
        Kind.ORDER_LABS,
        urgency=Urgency.URGENT,
        labs=(
            on(a.as_of, "B12", LabNote.BEFORE_FOLATE),
            on(a.as_of, "FOLATE", LabNote.BEFORE_FOLATE),
        ),
        draft_id=draft_id,
        folate_order=Ordered(med, draft=draft_id is not None),
        b12=_b12_not_excluding(a, p, recent),
    )


def _b12_not_excluding(a: Assessment, p: Profile, days_ago: int | None) -> Fact:
    """The B12 on file and why it does not exclude deficiency before folic acid (S3)."""
    if a.b12 is None:
        on_file = said(a, None, B12_KINDS)  # or the ones on file that could not be read
        if isinstance(on_file, OnFile) and on_file.why is Unused.TOO_OLD:
            return OnFile(on_file.lab, Unused.TOO_OLD, p.folate_b12_lookback_days)
        return on_file
    if days_ago is not None and days_ago > p.folate_b12_lookback_days:
        return OnFile(a.b12, Unused.TOO_OLD, p.folate_b12_lookback_days)
    return OnFile(a.b12, Unused.NOT_NORMAL, p.folate_b12_lookback_days)


def _draft_schedule(m: Medication, fallback: Regimen) -> Regimen:
    """The prescriber's own schedule, kept when only the product must change (S4)."""
    t = m.timing
    # interval_days is None for no period or under one dose a period (to_days)
    if t is None or t.interval_days is None or t.period_unit not in ("d", "wk", "mo"):
        return fallback
    step = Step(t.frequency, t.period, t.period_unit, period_max=t.period_max)
    return Regimen(
        "DRAFT",
        fallback.drug,
        fallback.dose,
        fallback.dose_unit,
        fallback.route,
        (step,),
        fallback.sources,
        lifelong=fallback.lifelong,
    )


@cites(
    "LABEL-S4",
    "UK-5",
    named={
        "": ("LABEL-S4", "UK-5"),
        Variant.LEBER: ("LABEL-S4", "UK-5"),
        Variant.ALLERGY: ("LABEL-S4",),
    },
)
def r21_cyanocobalamin_contraindicated(a: Assessment, p: Profile) -> Recommendation | None:
    """Use hydroxocobalamin in Leber's disease; avoid B12 products with cobalt allergy.

    Fires: cyanocobalamin ordered or current with Leber's optic neuropathy
    recorded (switch to hydroxocobalamin, keeping the schedule); or any B12
    product ordered or current with cobalt/B12 hypersensitivity (no product
    suggested; S5 withholds it). Safety rails S4, S5. Sources: LABEL-S4 (FDA
    label), UK-5 (SmPC), both cited in either profile where the card names them
    (the allergy card names only the FDA label).
    """
    allergy = a.has(Finding.COBALT_B12_ALLERGY)
    leber = a.has(Finding.LEBER)
    if not (allergy or leber):
        return None
    if allergy:
        orders = _current(a, lambda m: m.is_b12_therapy)
        reason = Finding.COBALT_B12_ALLERGY
    else:
        orders = _current(a, lambda m: m.is_b12_therapy and m.ingredient == "cyanocobalamin")
        reason = Finding.LEBER
    if not orders:
        return None
    med, draft_id = orders[0]
    regimen = None
    if leber and not allergy:
        base = with_drug(CATALOGUE[p.maintenance], HYDROXOCOBALAMIN_INJ)
        regimen = _draft_schedule(med, base) if med.is_injection else base
    return recommend(
        a,
        "R21-cyanocobalamin-contraindicated",
        Indicator.CRITICAL,
        Kind.CHANGE_PRODUCT,
        urgency=Urgency.URGENT,
        regimen=regimen,
        draft_id=draft_id,
        # on a running schedule the new product starts when the next dose is due (recommend)
        start_on=None if regimen is not None and a.phase is PHASE_MAINTENANCE else a.as_of,
        variant=Variant.ALLERGY if allergy else Variant.LEBER,
        reason=reason,
        product=med,
    )


def _b12_drafts(a: Assessment) -> list[tuple[Medication, str]]:
    return [
        (d.medication, d.resource_id)
        for d in a.record.drafts
        if d.medication is not None and d.medication.is_b12_therapy
    ]


def plain_injection_drafts(a: Assessment, p: Profile) -> list[tuple[Medication, str]]:
    """The B12 injection drafts whose dose and schedule are plausible (R28 speaks to the
    rest): what R29, or R24 on a confounded marker, asks about."""
    return [
        (med, draft_id)
        for med, draft_id in _b12_drafts(a)
        if med.is_injection and not _dose_error(med, p) and not _open_ended_loading(a, p, med)
    ]


def product_regimen(m: Medication, p: Profile) -> Regimen:
    """The catalogue's dose of the draft's own product and route, on its maintenance schedule."""
    if not m.is_injection:
        return CATALOGUE[p.oral]
    base = CATALOGUE[p.maintenance]
    drug = HYDROXOCOBALAMIN_INJ if m.ingredient == "hydroxocobalamin" else CYANOCOBALAMIN_INJ
    return with_drug(base, drug)


def _supported(a: Assessment, p: Profile, m: Medication) -> Regimen:
    """The regimen the profile supports for this patient now, in the draft's product: the
    current order's schedule on maintenance, else the loading course a deficiency needs,
    else the profile's maintenance (a treatment card, when one fires, supplies its own)."""
    product = product_regimen(m, p)
    if a.phase is PHASE_MAINTENANCE:
        base = CATALOGUE[p.neuro_maintenance if a.neuro_history else p.maintenance]
        base = with_drug(base, product.drug) if m.is_injection else base
        if a.order is not None and a.order.timing is not None:
            return _draft_schedule(a.order, base)
        return base
    if a.is_deficient or a.phase is PHASE_LOADING:
        course = CATALOGUE[p.neuro_loading if a.has_neuro else p.loading]
        return with_drug(course, product.drug) if m.is_injection else course
    return product


def _dose_error(m: Medication, p: Profile) -> Variant | None:
    """What is wrong with the draft's dose: mg for micrograms, a volume for a mass, or
    above the product's largest dose; None when it is plausible or not stated."""
    largest = p.max_injection_dose_mg if m.is_injection else p.max_oral_dose_mg
    smallest = p.min_injection_dose_mg if m.is_injection else p.min_oral_dose_mg
    written = m.dose_written
    volume = written is not None and written.unit.strip().lower() in _VOLUME_UNITS
    if m.dose_mg is None:  # a volume of a product of unknown strength: judged by the volume
        too_much = volume and m.is_injection and written.value > p.max_injection_volume_ml
        return Variant.VOLUME if too_much else None
    if m.dose_mg <= largest:
        return None
    if volume:
        return Variant.VOLUME
    if smallest <= m.dose_mg / p.micrograms_per_mg <= largest:
        return Variant.THOUSANDFOLD
    return Variant.ABOVE_MAX


_VOLUME_UNITS = frozenset({"ml", "cc", "l", "cl", "dl"})


def _open_ended_loading(a: Assessment, p: Profile, m: Medication) -> bool:
    """Injections more often than every 2 weeks with no end: only a course may be that
    frequent, and a course stops (count, bounds or an end date); an open-ended schedule is
    never shorter than 2 weeks (S16). The UK neuro course is open-ended by design (UK-2)."""
    t = m.timing
    if not m.is_injection or t is None or t.interval_days is None or t.bounded or m.end:
        return False
    if t.interval_days >= p.min_interval_days:
        return False
    neuro_course = CATALOGUE[p.neuro_loading].steps[0]
    return not (
        p.neuro_course_open_ended
        and (a.has_neuro or a.neuro_course)
        and t.interval_days >= neuro_course.interval_days
    )


@cites("US-1", "UK-1", "UK-5", "US-3")
def r28_order_dose_error(a: Assessment, p: Profile) -> Recommendation | None:
    """Stop a B12 order with an implausible dose or an open-ended loading frequency.

    Fires (order hooks): a B12 draft whose dose is above the product's largest
    (1 mg an injection, 2 mg by mouth): mg written for micrograms (a thousandfold
    error: a thousandth of it is a dose some regimen gives), a volume written for a
    mass (or, of a product of unknown strength, more than the 1 mL a dose), or
    simply too much; or injections more
    often than every 2 weeks (S16) with no count, bounds or end date, except the
    UK neuro course at its alternate-day interval. Proposes the
    intended regimen as an update of the draft: the catalogue dose of the draft's
    product on its own schedule, or, for a frequency error, the regimen the patient's
    phase supports. Critical. Sources: US-1 (FDA label), UK-1 (BNF), UK-5 (SmPC),
    US-3 (Stabler).
    """
    for med, draft_id in _b12_drafts(a):
        error = _dose_error(med, p)
        open_ended = _open_ended_loading(a, p, med)
        if error is None and not open_ended:
            continue
        intended = (
            _supported(a, p, med) if open_ended else _draft_schedule(med, product_regimen(med, p))
        )
        return recommend(
            a,
            "R28-order-dose-error",
            Indicator.CRITICAL,
            Kind.CORRECT_ORDER,
            urgency=Urgency.URGENT,
            regimen=intended,
            draft_id=draft_id,
            start_on=a.as_of,
            variant=error or Variant.OPEN_ENDED,
            product=med,
        )
    return None


def _more_than_supported(a: Assessment, p: Profile, m: Medication) -> bool:
    """An injection draft more frequent than the current maintenance, with no relapse,
    recurring symptoms, drift or anaemia to justify it (R13/R14 and re-loading own those)."""
    t = m.timing
    if a.phase is not PHASE_MAINTENANCE or not m.is_injection or t is None:
        return False
    if a.has_neuro or a.neuro_recurrence or a.symptom_recurrence or a.has_lab_drift:
        return False
    if a.is_anaemic or a.is_deficient:
        return False
    supported = _supported(a, p, m).steps[-1].interval_days - SAME_INTERVAL_TOLERANCE_DAYS
    return t.interval_days is not None and t.interval_days < supported


def _confirming_mma(a: Assessment, confirm: Variant | None) -> tuple[LabOrder, ...]:
    """R29: the MMA that confirms the diagnosis when none is on file (S13)."""
    if confirm is not Variant.CONFIRM_FIRST_NO_MMA:
        return ()
    return (on(a.as_of, "MMA", LabNote.CONFIRM),)


def _not_deficient(a: Assessment) -> bool:
    """Nothing in the record supports injections: a normal B12 with a dietary cause and no
    abnormal MMA, or with no cause and a normal MMA; no neurological signs, not pregnant,
    and no condition treated with injections whatever the level (Leber's optic atrophy,
    UK-5) or that a normal B12 does not exclude (nitrous oxide, SP-9)."""
    confirmed = a.functional is Functional.NORMAL or (
        a.cause is Cause.DIETARY and a.functional is not Functional.ABNORMAL
    )
    return (
        a.phase is PHASE_NONE
        and a.b12_band is Band.NORMAL
        and confirmed
        and not a.has_neuro
        and not a.pregnant
        and a.cause in (Cause.DIETARY, Cause.UNKNOWN)
        and not a.has(Finding.NITROUS_OXIDE, Finding.LEBER)
    )


@cites(
    "UK-5",
    "UK-4",
    "US-5",
    "US-3",
    variants={
        Variant.CONFIRM_FIRST: ("UK-5", "LAB-2.8"),
        Variant.CONFIRM_FIRST_NO_MMA: ("UK-5", "LAB-2.8"),
    },
)
def r29_over_treatment(a: Assessment, p: Profile) -> Recommendation | None:
    """Propose the regimen the profile supports for a B12 injection order more intensive than
    the patient's cause, phase, labs and symptoms call for.

    Fires (order hooks): a B12 injection draft and either (1) no therapy, no
    neurological signs, not pregnant, and a normal B12 with a dietary cause (no
    abnormal MMA) or with no cause and a normal MMA (S13, SmPC: confirm the
    diagnosis before treating): with a dietary cause the dietary regimen is
    proposed, otherwise removing the draft; or (2) maintenance with no
    neurological signs, relapse, recurring symptoms, lab drift or anaemia, and
    the draft more frequent than the current maintenance: the current
    maintenance is proposed (never longer, S1). Silent for an irreversible or
    surgical cause, nitrous oxide (a normal B12 does not exclude it), Leber's
    disease (treated with hydroxocobalamin, UK-5) and dose errors (R28); dropped
    beside a card that proposes treatment (``reconcile``). Sources: UK-5 (SmPC), UK-4
    (CKS dietary), US-5 (AFP), US-3 (Stabler). Removing the draft to confirm first (variant
    confirm_first) rests on S13: UK-5 (SmPC: confirm the diagnosis before treating) and
    LAB-2.8 (Mayo: treatment invalidates later B12 results), in both profiles. With a normal
    MMA on file the card says what it shows and asks for no test; with none (a normal
    homocysteine alone: variant confirm_first_no_mma) it orders the MMA.
    """
    for med, draft_id in plain_injection_drafts(a, p):
        if _not_deficient(a):
            dietary = a.cause is Cause.DIETARY
            confirm = None if dietary else Variant.CONFIRM_FIRST
            if confirm and a.mma is None:
                confirm = Variant.CONFIRM_FIRST_NO_MMA
            return recommend(
                a,
                "R29-over-treatment",
                Indicator.WARNING,
                Kind.CORRECT_ORDER,
                regimen=CATALOGUE[p.dietary] if dietary else None,
                alternative=(
                    CATALOGUE[p.dietary_alternative] if dietary and p.dietary_alternative else None
                ),
                labs=_confirming_mma(a, confirm),
                draft_id=draft_id,
                start_on=a.as_of if dietary else None,
                variant=confirm,
                product=med,
            )
        if _more_than_supported(a, p, med):
            return recommend(
                a,
                "R29-over-treatment",
                Indicator.WARNING,
                Kind.CORRECT_ORDER,
                regimen=_supported(a, p, med),
                draft_id=draft_id,
                start_on=a.as_of,
                product=med,
            )
    return None
