"""Each rule R1-R21 on hand-built records: where it fires, and each exclusion."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.facts import Agents, Direction, Stopped, Years
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, LabNote
from cds_b12.clinical.record import Finding, LabKind, Product, Route

from .records import (
    ALTERNATE_DAYS,
    AS_OF,
    MONTHLY,
    PA,
    THREE_A_WEEK,
    THREE_MONTHLY,
    Timing,
    ago,
    doses,
    draft_lab,
    draft_med,
    finding,
    lab,
    metformin,
    order,
    record,
)

NEURO = finding(Finding.NEURO, days=30)
LOW_B12 = lab(LabKind.B12, 120)


def fired(rec, profile=US) -> dict[str, Indicator]:
    ev = evaluate(rec, profile, AS_OF)
    return {r.rule.split("-")[0]: r.indicator for r in ev.recommendations}


def only(rec, profile=US):
    recs = evaluate(rec, profile, AS_OF).recommendations
    assert len(recs) == 1, [r.rule for r in recs]
    return recs[0]


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_r1_neuro_deficiency_starts_neuro_loading(profile):
    r = only(record(PA, NEURO, LOW_B12), profile)
    assert r.rule == "R1-start-neuro-loading"
    assert r.indicator is Indicator.CRITICAL
    assert r.regimen.id == profile.neuro_loading
    tests = {(lab.test, lab.note) for lab in r.labs}
    assert ("RETIC", LabNote.RESPONSE) in tests and ("CBC", LabNote.EIGHT_WEEKS) in tests


def test_r1_silent_when_already_treated():
    assert "R1" not in fired(record(PA, NEURO, LOW_B12, order(), *doses(10, 40)))


def test_r2_irreversible_cause_standard_loading_with_oral_option_in_us():
    r = only(record(PA, LOW_B12, lab(LabKind.HB, 12.5)))
    assert r.rule == "R2-start-standard-loading"
    assert r.regimen.id == "US_LOAD_STD" and r.alternative.id == "ORAL_HIGH"
    assert only(record(PA, LOW_B12), UK).alternative is None


def test_r2_unknown_cause_orders_intrinsic_factor_antibody():
    r = only(record(LOW_B12))
    assert "IF_AB" in {x.test for x in r.labs}
    assert "IF_AB" not in {x.test for x in only(record(PA, LOW_B12)).labs}


def test_r2_functional_marker_alone_is_deficiency():
    r = only(record(lab(LabKind.B12, 300), lab(LabKind.MMA, 0.6)))
    assert r.rule == "R2-start-standard-loading"


def test_r3_dietary_cause_oral_unless_marked_anaemia():
    vegan = finding(Finding.DIETARY_DEFICIENCY)
    assert only(record(vegan, LOW_B12, lab(LabKind.HB, 12.4)), UK).regimen.id == "UK_DIET_ORAL"
    assert only(record(vegan, LOW_B12)).regimen.id == "ORAL_HIGH"
    assert fired(record(vegan, LOW_B12, lab(LabKind.HB, 9.5))) == {"R2": Indicator.WARNING}


def test_r4_metformin_cause_treats_and_never_stops_metformin():
    r = only(
        record(
            metformin(),
            LOW_B12,
            lab(
                LabKind.HB,
                13.5,
            ),
            sex="male",
        )
    )
    assert r.rule == "R4-medication-cause"
    assert r.regimen.id == "ORAL_HIGH" and r.facts["drug"] == Agents((Product.METFORMIN,))
    assert "S7" in r.safety
    anaemic = only(record(metformin(), LOW_B12, lab(LabKind.HB, 12.0), sex="male"))
    assert anaemic.regimen.id == "US_LOAD_STD" and anaemic.indicator is Indicator.WARNING


def test_r4_needs_four_months_of_metformin():
    assert "R4" not in fired(record(metformin(days=60), LOW_B12))


def test_r5_indeterminate_with_risk_orders_mma():
    r = only(record(lab(LabKind.B12, 250), metformin(), sex="male"))
    assert r.rule == "R5-indeterminate-order-mma"
    assert {x.test for x in r.labs} == {"MMA", "HCY"}
    assert {x.test for x in only(record(lab(LabKind.B12, 250), metformin()), UK).labs} == {"MMA"}


def test_r5_silent_without_risk_or_when_mma_resulted():
    assert fired(record(lab(LabKind.B12, 250), age=40)) == {}
    assert fired(record(lab(LabKind.B12, 250), lab(LabKind.MMA, 0.2), metformin())) == {}


def test_r6_indeterminate_with_neuro_is_treated_as_r1():
    r = only(record(lab(LabKind.B12, 260), NEURO))
    assert r.rule == "R6-indeterminate-neuro" and r.indicator is Indicator.CRITICAL
    assert r.regimen.id == "US_LOAD_NEURO"


def test_r7_severe_anaemia_is_critical_with_potassium():
    recs = fired(record(PA, LOW_B12, lab(LabKind.HB, 7.2)))
    assert recs == {"R2": Indicator.CRITICAL, "R7": Indicator.CRITICAL}
    r7 = next(r for r in evaluate(record(lab(LabKind.HB, 7.2)), US, AS_OF).recommendations)
    assert [x.note for x in r7.labs if x.test == "POTASSIUM"] == ["baseline", "48h"]


def _uk_loading(*extra, retic: float = 1.0):
    given = doses(12, 10, 8, 5, 3, ingredient="hydroxocobalamin")
    return record(
        PA,
        order(THREE_A_WEEK, days=13),
        *given,
        lab(LabKind.RETIC, retic, days=2, ref_low=0.5, ref_high=2.5),
        *extra,
    )


def test_r8_no_retic_rise_by_day_ten():
    r = only(_uk_loading(), UK)
    assert r.rule == "R8-suboptimal-response"
    assert {x.test for x in r.labs} >= {"FERRITIN", "FOLATE", "TSH"}
    assert fired(_uk_loading(retic=4.2), UK) == {}


def _neuro_course(*extra):
    return record(
        PA,
        NEURO,
        order(ALTERNATE_DAYS, days=22),
        *doses(*range(22, 0, -2), ingredient="hydroxocobalamin"),
        *extra,
    )


def test_r9_switch_to_maintenance_during_uk_neuro_course():
    maint = order(Timing(1, 2, 3, "mo"), days=0, ingredient="hydroxocobalamin")
    r = only(_neuro_course(draft_med(maint)), UK)
    assert r.rule == "R9-neuro-loading-continue"
    assert r.draft_id == "MedicationRequest/draft-1" and r.regimen.id == "UK_LOAD_NEURO"
    assert fired(_neuro_course(), UK) == {}
    assert "R9" not in fired(_neuro_course(draft_med(maint)), US)


def test_r10_loading_complete_without_maintenance_order():
    rec = record(
        PA,
        order(THREE_A_WEEK, days=16, status="completed"),
        *doses(15, 13, 11, 8, 6, 4, ingredient="hydroxocobalamin"),
    )
    r = only(rec, UK)
    assert r.rule == "R10-start-maintenance" and r.regimen.id == "UK_MAINT_STD"
    assert r.start_on > AS_OF  # first maintenance dose falls one interval after the last dose
    incomplete = record(PA, *doses(8, 6, 4, ingredient="hydroxocobalamin"))
    assert fired(incomplete, UK) == {}


def test_r10_us_course_alternate_days_then_weekly():
    rec = record(PA, *doses(40, 38, 36, 34, 27, 20, 13, 6))
    r = only(rec)
    assert r.rule == "R10-start-maintenance" and r.regimen.id == "US_MAINT"
    assert r.alternative.id == "ORAL_HIGH"


def test_r11_overdue_monthly_dose():
    r = only(record(PA, order(), *doses(45, 75, 105, 135)))
    assert r.rule == "R11-maintenance-overdue" and r.indicator is Indicator.WARNING
    assert r.facts["days_overdue"] == 15
    # the active order stands: the suggestion is the one dose, today
    assert r.regimen.id == "DOSE_NOW" and r.regimen.steps[0].count == 1


def test_r11_grace_period_and_reversible_cause_is_info():
    assert fired(record(PA, order(), *doses(36, 66))) == {}
    assert fired(record(order(), *doses(40, 70))) == {"R11": Indicator.INFO}


def test_r12_two_missed_doses_irreversible():
    r = only(record(finding(Finding.GASTRECTOMY), order(), *doses(75, 105, 135)))
    assert r.rule == "R12-missed-doses" and r.facts["missed_doses"] == 2
    assert {x.test for x in r.labs} == {"CBC", "MMA"}


def test_r13_recurrence_on_adherent_maintenance_shortens_one_step():
    rec = record(
        PA,
        order(THREE_MONTHLY, ingredient="hydroxocobalamin"),
        *doses(60, 145, 230, 315, ingredient="hydroxocobalamin"),
        finding(Finding.NEURO, days=20),
    )
    r = only(rec, UK)
    assert r.rule == "R13-intensify-interval" and r.indicator is Indicator.CRITICAL  # S8
    assert r.regimen.steps[0].interval_days == 60
    assert r.regimen.drug.ingredient == "hydroxocobalamin"


def test_r13_not_when_non_adherent():
    rec = record(PA, order(THREE_MONTHLY), *doses(150, 300), finding(Finding.NEURO, days=20))
    assert "R13" not in fired(rec, UK)


def test_r14_hb_falling_and_mcv_rising():
    rec = record(
        PA,
        order(),
        *doses(14, 44, 74, 104, 134),
        lab(LabKind.HB, 13.8, days=200),
        lab(LabKind.HB, 11.4),
        lab(LabKind.MCV, 96, days=200),
        lab(LabKind.MCV, 103),
    )
    r = only(rec)
    assert r.rule == "R14-lab-drift"
    hb, mcv = r.facts["drift"].items
    assert (hb.kind, hb.direction, hb.start.value, hb.end.value) == (
        LabKind.HB,
        Direction.FELL,
        13.8,
        11.4,
    )
    assert (mcv.kind, mcv.direction, mcv.end.value) == (LabKind.MCV, Direction.ROSE, 103)
    # §7.7: every 2-3 weeks is offered only as a clinician-judged option, never the default
    assert r.regimen.steps[0].period_max == 3 and r.regimen.steps[0].period_unit == "wk"
    assert r.judged
    assert {x.test for x in r.labs} >= {"FERRITIN", "FOLATE", "TSH"}


def test_r14_uk_step_within_the_product_information_is_the_default():
    rec = record(
        PA,
        order(THREE_MONTHLY, ingredient="hydroxocobalamin"),
        *doses(60, 150, 240, 330, ingredient="hydroxocobalamin"),
        lab(LabKind.HB, 13.8, days=300),
        lab(LabKind.HB, 11.4),
    )
    r = only(rec, UK)
    assert r.rule == "R14-lab-drift" and r.regimen.steps[0].interval_days == 60
    assert not r.judged


def test_r13_us_every_2_3_weeks_is_never_the_default():
    rec = record(PA, order(), *doses(14, 44, 74, 104, 134), finding(Finding.NEURO, days=10))
    r = only(rec, US)  # S8, §7.7: neurological signs back re-load; 2-3-weekly is no default
    assert r.rule == "R13-intensify-interval" and r.regimen.id == US.neuro_loading
    assert not r.judged


def test_r13_uk_shortening_one_step_is_the_default():
    rec = record(
        PA,
        order(THREE_MONTHLY, ingredient="hydroxocobalamin"),
        *doses(60, 145, 230, 315, ingredient="hydroxocobalamin"),
        finding(Finding.NEURO, days=20),
    )
    assert not only(rec, UK).judged


def test_r14_drift_names_the_results_its_flag_was_read_from():
    """Evaluated on an earlier date, a later Hb on file is not part of the trend: the flag
    is read from the results up to as_of, and the card must list those two."""
    rec = record(
        PA,
        order(),
        *doses(14, 44, 74, 104, 134),
        lab(LabKind.HB, 13.8, days=200),
        lab(LabKind.HB, 11.4),
        lab(LabKind.HB, 14.2, days=-20),
    )
    r = only(rec)
    assert r.rule == "R14-lab-drift"
    (hb,) = r.facts["drift"].items
    assert (hb.start.value, hb.end.value, hb.end.on) == (13.8, 11.4, ago(3))


def test_r15_b12_order_on_maintenance_profiles_differ():
    rec = record(PA, order(), *doses(20, 50, 80), draft_lab())
    assert only(rec, UK).draft_id == "ServiceRequest/draft-1"
    assert fired(rec, US) == {}
    soon = record(PA, order(), *doses(6, 36, 66), draft_lab())
    assert fired(soon, US) == {"R15": Indicator.INFO}


def test_r16_drug_stopped_consider_stopping():
    stopped = metformin(status="stopped", end=ago(300))
    rec = record(stopped, order(), *doses(20, 50, 80), lab(LabKind.B12, 420, days=60))
    r = only(rec)
    assert r.rule == "R16-consider-stop"
    assert r.facts["resolved"] == Stopped(Product.METFORMIN, ago(300))


def test_r16_never_for_pernicious_anaemia_even_with_b12_1500():
    stopped = metformin(status="stopped", end=ago(300))
    rec = record(PA, stopped, order(), *doses(20, 50, 80), lab(LabKind.B12, 1500, days=30))
    ev = evaluate(rec, UK, AS_OF)
    assert ev.recommendations == ()
    assert all(r.kind.value != "CONSIDER_STOP" for r in ev.recommendations)


def test_r17_long_term_metformin_without_b12():
    r = only(record(metformin(days=5 * 365, dose_mg=500), lab(LabKind.HB, 13.9), sex="male"))
    assert r.rule == "R17-metformin-screening" and r.facts["metformin_years"] == Years(5 * 365)
    assert "S7" in r.safety
    assert fired(record(metformin(days=5 * 365), lab(LabKind.B12, 400, days=100))) == {}


def test_r18_ppi_elderly():
    ppi = order(
        Timing(1, 1, None, "d"),
        days=800,
        product=Product.ACID_SUPPRESSANT,
        ingredient=None,
        dose_mg=40,
        route=Route.ORAL,
    )
    assert only(record(ppi, age=81)).rule == "R18-acid-suppressant-screening"
    assert fired(record(ppi, age=50)) == {}


def test_r19_bariatric_prophylaxis_per_profile():
    rec = record(finding(Finding.BARIATRIC_BYPASS, days=1000), lab(LabKind.B12, 400, days=180))
    assert only(rec).regimen.id == "BARIATRIC_PROPH"
    assert only(rec, UK).regimen.id == "UK_MAINT_STD"
    assert fired(record(finding(Finding.BARIATRIC_BYPASS), order(), *doses(10, 40))) == {}


def test_r19_uk_yearly_check_has_no_serum_b12_that_r15_advises_against():
    rec = record(finding(Finding.BARIATRIC_BYPASS, days=1000), lab(LabKind.B12, 400, days=180))
    assert UK.b12_test_on_replacement_not_needed  # R15: not routinely needed on replacement
    assert {x.test for x in only(rec, UK).labs} == {"CBC"}
    assert {x.test for x in only(rec, US).labs} == {"B12", "CBC"}


def _folate(**kw):
    return order(
        Timing(1, 1, None, "d"),
        product=Product.FOLIC_ACID,
        ingredient=None,
        dose_mg=5,
        route=Route.ORAL,
        **kw,
    )


def test_r20_folate_draft_with_macrocytosis_and_no_b12():
    r = only(record(lab(LabKind.MCV, 109), draft_med(_folate(days=0))))
    assert r.rule == "R20-folate-without-b12" and r.indicator is Indicator.CRITICAL
    assert {x.test for x in r.labs} == {"B12", "FOLATE"}
    assert "S3" in r.safety


def test_r20_silent_when_recent_normal_b12():
    assert (
        fired(
            record(
                lab(LabKind.MCV, 109), lab(LabKind.B12, 500, days=30), draft_med(_folate(days=0))
            )
        )
        == {}
    )


def test_r21_leber_switches_draft_to_hydroxocobalamin():
    leber = finding(Finding.LEBER)
    rec = record(leber, lab(LabKind.B12, 400, days=5), draft_med(order(MONTHLY, days=0)))
    r = only(rec)
    assert r.rule == "R21-cyanocobalamin-contraindicated"
    assert r.regimen.drug.ingredient == "hydroxocobalamin"
    assert r.draft_id == "MedicationRequest/draft-1"
    assert r.regimen.steps[0].period == 1 and r.regimen.steps[0].period_unit == "mo"


def test_r21_allergy_withholds_every_product():
    rec = record(finding(Finding.COBALT_B12_ALLERGY), PA, order(), *doses(10, 40))
    r = only(rec)
    assert r.indicator is Indicator.CRITICAL and r.regimen is None and "S5" in r.safety
