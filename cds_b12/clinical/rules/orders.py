"""Clinical core: rules R20-R21, unsafe prescribing caught as it happens.

Imports only ``cds_b12.clinical``. Recommendations of ``b12-clinical.md``
§6.2 R20-R21, the rule side of safety rails S3 (folate masking), S4 (Leber's
disease) and S5 (cobalt/B12 hypersensitivity). They look at draft orders
(order-select, order-sign) and at current orders (patient-view).
"""

from __future__ import annotations

from ..assess import Assessment, Band, Phase, is_current
from ..facts import Fact, OnFile, Ordered, Unused
from ..followup import on
from ..profiles import Profile
from ..recommendation import Indicator, Kind, LabNote, Recommendation, Urgency, Variant
from ..record import Finding, Medication, MedSource, Product
from ..regimens import CATALOGUE, HYDROXOCOBALAMIN_INJ, Regimen, Step, with_drug
from ..sources import cites
from .common import b12_on_file, recommend


def _current(a: Assessment, wanted) -> list[tuple[Medication, str | None]]:
    """Drafts first (with their ids), then current orders and statements."""
    found = [
        (d.medication, d.resource_id)
        for d in a.record.drafts
        if d.medication is not None and wanted(d.medication)
    ]
    for m in a.record.medications:
        if m.source is not MedSource.ADMINISTRATION and is_current(m, a.as_of) and wanted(m):
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
    if not folate or a.phase is not Phase.NONE:
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
        on_file = b12_on_file(a)
        if on_file is not None and on_file.why is Unused.TOO_OLD:
            return OnFile(on_file.lab, Unused.TOO_OLD, p.folate_b12_lookback_days)
        return on_file
    if days_ago is not None and days_ago > p.folate_b12_lookback_days:
        return OnFile(a.b12, Unused.TOO_OLD, p.folate_b12_lookback_days)
    return OnFile(a.b12, Unused.NOT_NORMAL, p.folate_b12_lookback_days)


def _draft_schedule(m: Medication, fallback: Regimen) -> Regimen:
    """The prescriber's own schedule, kept when only the product must change (S4)."""
    t = m.timing
    if t is None or t.period is None or t.period_unit not in ("d", "wk", "mo"):
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


@cites("LABEL-S4", "UK-5")
def r21_cyanocobalamin_contraindicated(a: Assessment, p: Profile) -> Recommendation | None:
    """Use hydroxocobalamin in Leber's disease; avoid B12 products with cobalt allergy.

    Fires: cyanocobalamin ordered or current with Leber's optic neuropathy
    recorded (switch to hydroxocobalamin, keeping the schedule); or any B12
    product ordered or current with cobalt/B12 hypersensitivity (no product
    suggested; S5 withholds it). Safety rails S4, S5. Sources: LABEL-S4 (FDA
    label), UK-5 (SmPC).
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
        start_on=None if regimen is not None and a.phase is Phase.MAINTENANCE else a.as_of,
        variant=Variant.ALLERGY if allergy else Variant.LEBER,
        reason=reason,
        product=med,
    )
