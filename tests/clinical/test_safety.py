"""Safety rails S1-S12: each one changes what it must and leaves the rest alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.assess import assess
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import (
    Indicator,
    Kind,
    LabOrder,
    Recommendation,
    Urgency,
    Variant,
)
from cds_b12.clinical.record import (
    Finding,
    IgnoredResult,
    LabKind,
    Medication,
    MedSource,
    Product,
    Route,
)
from cds_b12.clinical.regimens import CATALOGUE
from cds_b12.clinical.safety import apply_safety

from .records import (
    AS_OF,
    MONTHLY,
    PA,
    ago,
    doses,
    draft_med,
    finding,
    lab,
    metformin,
    order,
    record,
)

LOW_B12 = lab(LabKind.B12, 120)


def recs(rec, profile=US):
    return evaluate(rec, profile, AS_OF).recommendations


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_s1_drops_stop_and_lengthening_for_irreversible_cause(profile):
    a = assess(record(PA, order(), *doses(10, 40)), profile, AS_OF)
    stop = Recommendation(
        "R16-consider-stop", Indicator.INFO, Kind.CONSIDER_STOP, Urgency.ROUTINE, ("UK-9",)
    )
    longer = Recommendation(
        "R10-start-maintenance",
        Indicator.INFO,
        Kind.START_MAINTENANCE,
        Urgency.ROUTINE,
        ("UK-1",),
        regimen=CATALOGUE["UK_DIET_IM"],
    )
    kept, dropped = apply_safety((stop, longer), a, profile)
    assert kept == ()
    assert {(d.rule, d.safety) for d in dropped} == {
        ("R16-consider-stop", "S1"),
        ("R10-start-maintenance", "S1"),
    }


def test_s1_keeps_stop_for_reversible_cause():
    a = assess(record(order(), *doses(10, 40)), US, AS_OF)
    stop = Recommendation(
        "R16-consider-stop", Indicator.INFO, Kind.CONSIDER_STOP, Urgency.ROUTINE, ("UK-9",)
    )
    assert apply_safety((stop,), a, US)[0] == (stop,)


def test_s2_b12_five_days_after_a_dose_is_ignored_and_changes_nothing():
    rec = record(PA, order(), *doses(5, 35, 65), lab(LabKind.B12, 95, days=0))
    ev = evaluate(rec, US, AS_OF)
    assert ev.recommendations == ()
    assert ev.assessment.b12 is None and len(ev.assessment.ignored_b12) == 1
    (note,) = ev.notes
    assert note == IgnoredResult("Observation/b12-0", AS_OF, 14)


def test_s2_b12_fifteen_days_after_a_dose_counts():
    a = assess(record(PA, order(), *doses(15, 45), lab(LabKind.B12, 95, days=0)), US, AS_OF)
    assert a.b12 is not None and a.ignored_b12 == ()


def test_s2_only_the_last_dose_on_or_before_a_b12_decides_whether_it_is_set_aside():
    """Doses after a result, or more than 14 days before it, leave it standing; the
    nearest earlier dose within 14 days (same day included) sets it aside."""
    # dose days ago: 300, 200, 100, 60, 40, 20; B12 days ago beside them:
    given = doses(300, 200, 100, 60, 40, 20)
    b12s = {d: lab(LabKind.B12, 400, days=d) for d in (400, 300, 286, 285, 150, 58, 45, 27, 5)}
    a = assess(record(PA, order(), *given, *b12s.values()), US, AS_OF)
    set_aside = {300, 286, 58, 27}  # 0, 14, 2 and 13 days after a dose
    assert {b12s[d] for d in set_aside} == set(a.ignored_b12)
    assert a.b12 == b12s[5]  # 15 days after the last dose


def test_with_safety_copies_every_field_and_records_the_rail_once():
    """The rails' copy (no dataclasses.replace) is replace with the S-ID appended."""
    regimen = next(iter(CATALOGUE.values()))
    rec = Recommendation(
        *("R11-maintenance-overdue", Indicator.WARNING, Kind.GIVE_DOSE, Urgency.URGENT, ("UK-1",)),
        regimen=regimen,
        alternative=regimen,
        labs=(LabOrder("B12", AS_OF),),
        facts={"x": 1},
        safety=("S1",),
        draft_id="MedicationRequest/d",
        start_on=AS_OF,
        overdue_since=AS_OF,
        replaces="MedicationRequest/c",
        plan_on="MedicationRequest/d",
        variant=Variant.WITHHELD,
        lifelong=True,
    )
    critical = rec.with_safety("S9", indicator=Indicator.CRITICAL)
    assert critical == replace(rec, safety=("S1", "S9"), indicator=Indicator.CRITICAL)
    assert rec.with_safety("S1") == rec and rec.with_safety("S1") is not rec


def test_s3_folate_card_is_critical():
    folate = order(MONTHLY, product=Product.FOLIC_ACID, ingredient=None, route=Route.ORAL)
    (r,) = recs(record(finding(Finding.NEURO), draft_med(folate)))
    assert r.indicator is Indicator.CRITICAL and "S3" in r.safety


def test_s4_leber_never_gets_cyanocobalamin():
    for r in recs(record(finding(Finding.LEBER), LOW_B12)):
        for reg in (r.regimen, r.alternative):
            assert reg is None or reg.drug.ingredient == "hydroxocobalamin"
    (r,) = recs(record(finding(Finding.LEBER), LOW_B12))
    assert "S4" in r.safety and r.regimen.steps == CATALOGUE["US_LOAD_STD"].steps


def test_s5_allergy_withholds_regimen():
    (r,) = recs(record(finding(Finding.COBALT_B12_ALLERGY), PA, LOW_B12))
    assert r.regimen is None and r.alternative is None
    assert r.indicator is Indicator.CRITICAL and "S5" in r.safety


def test_s6_potassium_when_loading_with_hb_below_8():
    response = recs(record(PA, LOW_B12, lab(LabKind.HB, 7.5)))
    loading = next(r for r in response if r.kind is Kind.START_LOADING)
    assert "S6" in loading.safety
    # once per response (R7's card has them too): on the urgent card, not twice
    potassium = [x.note for r in response for x in r.labs if x.test == "POTASSIUM"]
    assert sorted(potassium) == ["48h", "baseline"]
    (mild,) = recs(record(PA, LOW_B12, lab(LabKind.HB, 11.5)))
    assert "S6" not in mild.safety and "POTASSIUM" not in {x.test for x in mild.labs}


def test_s7_metformin_never_stopped():
    for rec in (record(metformin(), LOW_B12, sex="male"), record(metformin(days=5 * 365))):
        (r,) = recs(rec)
        assert "S7" in r.safety
        for reg in (r.regimen, r.alternative):
            assert reg is None or reg.drug.ingredient == "cyanocobalamin"


def test_s8_neuro_before_treatment_is_critical_and_never_oral():
    vegan = finding(Finding.DIETARY_DEFICIENCY)
    (r,) = recs(record(vegan, finding(Finding.NEURO), LOW_B12))
    assert r.rule == "R1-start-neuro-loading" and "S8" in r.safety
    assert r.regimen.route is Route.IM


def test_s8_recurrence_makes_an_overdue_dose_critical():
    overdue = record(PA, order(), *doses(45, 75, 105))
    (plain,) = recs(overdue)
    assert plain.indicator is Indicator.WARNING and "S8" not in plain.safety
    (r,) = recs(record(PA, order(), *doses(45, 75, 105), finding(Finding.NEURO, days=10)))
    assert r.rule == "R11-maintenance-overdue"
    assert r.indicator is Indicator.CRITICAL and "S8" in r.safety


def test_s8_old_neuro_on_maintenance_is_not_escalated():
    (r,) = recs(record(PA, order(), *doses(45, 75, 105), finding(Finding.NEURO, days=400)))
    assert r.indicator is Indicator.WARNING and "S8" not in r.safety


def test_s9_severe_anaemia_upgrades_start():
    found = recs(record(PA, LOW_B12, lab(LabKind.HB, 7.0)))
    starts = [r for r in found if r.kind is Kind.START_LOADING]
    assert starts and all(r.indicator is Indicator.CRITICAL and "S9" in r.safety for r in starts)


def test_s2_a_b12_drawn_days_after_cyanokit_is_set_aside_though_cyanokit_is_not_therapy():
    """Cyanokit is 5 g of hydroxocobalamin: not B12 therapy (S10), but a serum B12 drawn
    within 14 days of it reflects the infusion, not the stores (S2), so a normal result
    must not exclude deficiency."""
    cyanokit = Medication(
        MedSource.ADMINISTRATION,
        Product.CYANOKIT,
        "MedicationAdministration/ck",
        "completed",
        "hydroxocobalamin",
        on=ago(6),
        dose_mg=5000,
    )
    after = lab(LabKind.B12, 900, days=3)
    a = evaluate(record(cyanokit, after), US, AS_OF).assessment
    assert a.ignored_b12 == (after,) and a.b12 is None
    assert a.phase.value == "NONE" and a.doses == ()


def test_s10_cyanokit_is_not_b12_therapy():
    cyanokit = Medication(
        MedSource.ADMINISTRATION,
        Product.CYANOKIT,
        "MedicationAdministration/ck",
        "completed",
        "hydroxocobalamin",
        on=ago(60),
        dose_mg=5000,
    )
    ev = evaluate(record(cyanokit, LOW_B12), US, AS_OF)
    assert ev.assessment.phase.value == "NONE" and ev.assessment.doses == ()
    (r,) = ev.recommendations
    assert r.rule == "R2-start-standard-loading" and "S10" in r.safety


def test_s11_pregnancy_adds_folate_and_one_month_review():
    (r,) = recs(record(finding(Finding.PREGNANCY, days=100), LOW_B12, age=30))
    assert "S11" in r.safety and "FOLATE" in {x.test for x in r.labs}
    assert r.facts["review_date"] == date(2026, 3, 31)
    assert r.alternative is None  # no oral option offered in pregnancy
