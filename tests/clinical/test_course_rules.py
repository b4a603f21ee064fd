"""Issue 12 (§2, §5, §9): the course actually given, the route actually prescribed, and
what a relapse on it means, on hand-built records."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.assess import Phase, assess
from cds_b12.clinical.facts import Interval
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, Kind, Variant
from cds_b12.clinical.record import (
    ClinicalFinding,
    Finding,
    LabKind,
    Medication,
    MedSource,
    Product,
    Route,
)
from cds_b12.clinical.regimens import CATALOGUE

from .records import (
    AS_OF,
    MONTHLY,
    PA,
    THREE_MONTHLY,
    Timing,
    ago,
    doses,
    draft_med,
    finding,
    lab,
    order,
    record,
)

DAILY = Timing(1, 1, None, "d")
TWO_MONTHLY = Timing(1, 2, None, "mo")
H = "hydroxocobalamin"


def rules(rec, profile=US) -> dict[str, object]:
    return {r.rule: r for r in evaluate(rec, profile, AS_OF).recommendations}


def statement(start: int = 300) -> Medication:
    """As the reader gives one: ``on`` is the effective start (dateAsserted only without it)."""
    return Medication(
        MedSource.STATEMENT,
        Product.B12_INJECTION,
        "MedicationStatement/s1",
        "active",
        "cyanocobalamin",
        on=ago(start),
        start=ago(start),
        dose_mg=1.0,
        route=Route.IM,
        timing=MONTHLY,
    )


def oral_order(days: int = 200, **kw) -> Medication:
    return order(DAILY, days, product=Product.B12_ORAL_HIGH, route=Route.ORAL, **kw)


# ---- §5: a MedicationStatement (or an order) is not a dosing record ----


def test_a_statement_alone_counts_no_missed_doses_and_asks_for_the_dates():
    rec = record(PA, statement())
    a = assess(rec, US, AS_OF)
    assert a.last_dose is None and a.missed_doses == 0
    (r,) = evaluate(rec, US, AS_OF).recommendations
    assert r.rule == "R11-maintenance-overdue" and r.variant is Variant.NO_DOSE_DATES
    assert r.kind is Kind.CHECK_RECORD and r.indicator is Indicator.INFO
    assert r.regimen is None and r.overdue_since is None
    assert r.facts["on_regimen_since"] == ago(300)


def test_new_paraesthesia_on_a_statement_alone_still_re_loads():
    (r,) = evaluate(record(PA, statement(), finding(Finding.NEURO, 10)), US, AS_OF).recommendations
    assert r.rule == "R11-maintenance-overdue" and r.variant is Variant.RELOAD
    assert r.indicator is Indicator.CRITICAL and r.regimen.id == US.neuro_loading


def test_an_order_alone_is_not_a_dose_either():
    rec = record(finding(Finding.GASTRECTOMY), order(MONTHLY, days=280))
    found = rules(rec)
    assert set(found) == {"R11-maintenance-overdue"}
    assert found["R11-maintenance-overdue"].variant is Variant.NO_DOSE_DATES


def test_a_new_order_without_doses_is_not_yet_a_question():
    assert rules(record(PA, order(MONTHLY, days=20))) == {}


def test_missed_doses_still_count_from_administrations():
    rec = record(PA, statement(), *doses(75, 105, 135))
    found = rules(rec)
    assert found["R12-missed-doses"].facts["missed_doses"] == 2


# ---- §9: an oral regimen is a regimen ----


def test_stable_on_high_dose_oral_after_injections_is_the_oral_phase():
    rec = record(PA, order(MONTHLY, days=700, status="completed"), oral_order(), *doses(230, 260))
    assert assess(rec, US, AS_OF).phase is Phase.ORAL
    assert rules(rec) == {}


def test_an_oral_order_older_than_the_injections_does_not_hide_them():
    rec = record(PA, oral_order(days=700), order(MONTHLY, days=400), *doses(75, 105, 135))
    assert assess(rec, US, AS_OF).phase is Phase.MAINTENANCE
    assert "R12-missed-doses" in rules(rec)


def test_a_dietary_supplement_beside_injections_does_not_change_the_phase():
    low = order(DAILY, 30, product=Product.B12_ORAL_LOW, route=Route.ORAL, dose_mg=0.1)
    rec = record(PA, order(THREE_MONTHLY, days=400), low, *doses(60, 150, 240))
    assert assess(rec, UK, AS_OF).phase is Phase.MAINTENANCE


# ---- §2: a neurological relapse on maintenance means re-loading (S8) ----


def test_months_without_injections_and_new_paraesthesia_orders_the_neuro_loading_course():
    rec = record(PA, order(MONTHLY), *doses(120, 150, 180, 210), finding(Finding.NEURO, days=10))
    (r,) = evaluate(rec, US, AS_OF).recommendations
    assert r.rule == "R12-missed-doses" and r.variant is Variant.RELOAD
    assert r.indicator is Indicator.CRITICAL and r.kind is Kind.START_LOADING
    assert r.regimen.id == US.neuro_loading and r.start_on == AS_OF
    assert "MMA" not in {x.test for x in r.labs}  # S8: no waiting for MMA


def test_one_dose_overdue_with_new_paraesthesia_re_loads_too():
    rec = record(
        PA,
        order(THREE_MONTHLY, ingredient=H),
        *doses(120, 210, 300, ingredient=H),
        finding(Finding.NEURO, days=10),
    )
    (r,) = evaluate(rec, UK, AS_OF).recommendations
    assert r.rule == "R11-maintenance-overdue" and r.variant is Variant.RELOAD
    assert r.regimen.id == UK.neuro_loading and r.regimen.drug.ingredient == H


def test_uk_monthly_with_recurring_paraesthesia_re_loads_when_no_shorter_step_is_left():
    rec = record(
        PA,
        order(MONTHLY, ingredient=H),
        *doses(20, 50, 80, 110, ingredient=H),
        finding(Finding.NEURO, days=10),
    )
    (r,) = evaluate(rec, UK, AS_OF).recommendations
    assert r.rule == "R13-intensify-interval" and r.variant is Variant.RELOAD
    assert r.kind is Kind.START_LOADING and r.indicator is Indicator.CRITICAL
    assert r.regimen.id == UK.neuro_loading
    assert "new_interval" not in r.facts


def _follow_on_days(regimen) -> float:
    """The interval of the maintenance a re-loading course hands over to."""
    then = regimen.then
    return (CATALOGUE[then] if isinstance(then, str) else then).maintenance_interval_days


def test_re_loading_after_a_relapse_on_monthly_returns_to_monthly_not_every_2_months():
    """S1: symptoms came back on monthly injections; every 2 months after the course
    would lengthen the interval that already failed, for an irreversible cause."""
    rec = record(
        PA,
        order(MONTHLY, ingredient=H),
        *doses(20, 50, 80, 110, ingredient=H),
        finding(Finding.NEURO, days=10),
    )
    (r,) = evaluate(rec, UK, AS_OF).recommendations
    assert r.variant is Variant.RELOAD
    assert _follow_on_days(r.regimen) == 30
    assert r.regimen.drug.ingredient == H


def test_re_loading_after_missed_monthly_doses_never_returns_to_a_longer_interval():
    rec = record(PA, order(MONTHLY), *doses(120, 150, 180, 210), finding(Finding.NEURO, days=10))
    (r,) = evaluate(rec, UK, AS_OF).recommendations
    assert r.rule == "R12-missed-doses" and r.variant is Variant.RELOAD
    assert _follow_on_days(r.regimen) == 30


def test_re_loading_from_3_monthly_keeps_the_neuro_maintenance_interval():
    rec = record(
        PA,
        order(THREE_MONTHLY, ingredient=H),
        *doses(120, 210, 300, ingredient=H),
        finding(Finding.NEURO, days=10),
    )
    (r,) = evaluate(rec, UK, AS_OF).recommendations
    assert r.variant is Variant.RELOAD
    assert r.regimen.then == "UK_MAINT_NEURO"


def test_monthly_doses_without_an_order_are_monthly_maintenance():
    rec = record(PA, *doses(20, 50, 80, 110, ingredient=H), finding(Finding.NEURO, days=10))
    assert assess(rec, UK, AS_OF).interval_days == 30
    (r,) = evaluate(rec, UK, AS_OF).recommendations  # not "shorten" to every 2 months
    assert r.rule == "R13-intensify-interval" and r.variant is Variant.RELOAD


def test_the_suggested_interval_is_the_one_the_order_carries():
    rec = record(
        PA,
        order(THREE_MONTHLY, ingredient=H),
        *doses(60, 145, 230, 315, ingredient=H),
        finding(Finding.NEURO, days=20),
    )
    (r,) = evaluate(rec, UK, AS_OF).recommendations
    step = r.regimen.steps[0]
    assert r.facts["new_interval"] == Interval(step.interval_days, step.interval_max_days)


# ---- Seed 2: symptoms recurring before the next dose is due ----


def _uk_on(timing, *days, symptom=Finding.FATIGUE):
    return record(
        PA, order(timing, ingredient=H), *doses(*days, ingredient=H), finding(symptom, 20)
    )


def test_tiredness_before_the_dose_is_due_shortens_uk_3_monthly_to_2_monthly():
    (r,) = evaluate(_uk_on(THREE_MONTHLY, 60, 145, 230, 315), UK, AS_OF).recommendations
    assert r.rule == "R13-intensify-interval" and r.indicator is Indicator.INFO
    assert r.regimen.steps[0].interval_days == 60 and r.facts["new_interval"] == Interval(60, 60)


def test_glossitis_counts_as_well():
    rec = _uk_on(THREE_MONTHLY, 60, 145, 230, 315, symptom=Finding.GLOSSITIS)
    assert set(rules(rec, UK)) == {"R13-intensify-interval"}


def test_symptoms_alone_go_no_shorter_than_the_profile_allows():
    assert rules(_uk_on(TWO_MONTHLY, 20, 80, 140), UK) == {}
    us = record(PA, order(MONTHLY), *doses(20, 50, 80, 110), finding(Finding.FATIGUE, days=10))
    assert rules(us, US) == {}


def test_symptoms_without_confirmed_adherence_do_not_shorten():
    rec = record(PA, order(THREE_MONTHLY), *doses(150, 300), finding(Finding.FATIGUE, days=20))
    assert "R13-intensify-interval" not in rules(rec, UK)


# ---- UK-2: maintenance after neurological involvement is every 2 months ----


def _neuro_history(*items):
    past = finding(Finding.NEURO, days=400, active=False)
    return record(
        PA, past, order(TWO_MONTHLY, ingredient=H), *doses(20, 80, 140, ingredient=H), *items
    )


def test_signing_3_monthly_after_neurological_involvement_gets_a_card():
    draft = draft_med(order(THREE_MONTHLY, days=0, ingredient=H))
    (r,) = evaluate(_neuro_history(draft), UK, AS_OF).recommendations
    assert r.rule == "R10-start-maintenance" and r.variant is Variant.NEURO_MAINTENANCE
    assert r.indicator is Indicator.WARNING and r.draft_id == draft.resource_id
    assert r.regimen.id == UK.neuro_maintenance and r.regimen.steps[0].interval_max_days == 60
    assert r.facts["draft_schedule"] == Interval(90, 90)
    assert [s.finding for s in r.facts["neuro_history"].items] == [Finding.NEURO]


def test_signing_2_monthly_after_neurological_involvement_is_fine():
    assert rules(_neuro_history(draft_med(order(TWO_MONTHLY, days=0, ingredient=H))), UK) == {}


def test_3_monthly_without_neurological_involvement_is_fine():
    draft = draft_med(order(THREE_MONTHLY, days=0, ingredient=H))
    rec = record(PA, order(THREE_MONTHLY, ingredient=H), *doses(20, 110, ingredient=H), draft)
    assert rules(rec, UK) == {}


# ---- §9: breastfeeding follows the pregnancy review rule (UK-8) ----


def test_breastfeeding_is_reviewed_at_1_month_and_the_card_says_why():
    rec = record(PA, finding(Finding.BREASTFEEDING, days=30), lab(LabKind.B12, 120))
    (r,) = evaluate(rec, UK, AS_OF).recommendations
    assert r.facts["review_date"] == AS_OF + timedelta(days=UK.pregnancy_review_days)
    assert "S11-breastfeeding" in r.safety and "S11" not in r.safety
    assert not assess(rec, UK, AS_OF).pregnant  # the pregnancy Hb cut-off does not apply


# ---- §9: an interrupted course is not a finished one (R26) ----


def _uk_partial(*days, before=110):
    started = order(Timing(3, 1, None, "wk"), days=70, status="completed", ingredient=H)
    return record(PA, lab(LabKind.B12, before, days=80), started, *doses(*days, ingredient=H))


def test_a_loading_course_stopped_after_3_of_6_doses_orders_the_other_3():
    (r,) = evaluate(_uk_partial(60, 58, 56), UK, AS_OF).recommendations
    assert r.rule == "R26-interrupted-course" and r.kind is Kind.START_LOADING
    assert (r.facts["doses_given"], r.facts["doses_due"], r.facts["doses_remaining"]) == (3, 6, 3)
    assert r.variant is None  # the rest of the course
    (step,) = r.regimen.steps
    assert step.count == 3 and step.frequency == 3 and r.regimen.then == UK.maintenance


def test_two_stray_doses_and_a_b12_weeks_later_are_not_repletion():
    rec = record(lab(LabKind.B12, 140, days=200), *doses(150, 148), lab(LabKind.B12, 420, days=120))
    a = assess(rec, US, AS_OF)
    assert a.phase is Phase.LOADING and a.interrupted
    (r,) = evaluate(rec, US, AS_OF).recommendations
    assert r.rule == "R26-interrupted-course"
    assert r.facts["b12_before"].value == 140
    # a break longer than the profile's restart value: the whole course again
    assert r.facts["doses_remaining"] == 8 and r.regimen.steps == CATALOGUE[US.loading].steps
    # worded as the whole course again, not "the rest of the course"
    assert r.variant is Variant.RESTART


def test_one_stray_dose_is_not_maintenance():
    rec = record(finding(Finding.B12_DEFICIENCY), *doses(40))
    found = rules(rec)
    assert set(found) == {"R26-interrupted-course"}  # not R11 "maintenance dose overdue"
    assert found["R26-interrupted-course"].facts["doses_remaining"] == 7


def test_a_course_still_under_way_or_without_a_reason_is_left_alone():
    assert rules(_uk_partial(6, 4, 2), UK) == {}
    assert rules(record(lab(LabKind.B12, 600, days=100), *doses(60)), US) == {}
    # a low B12 from years before the dose says nothing about the stores then
    assert rules(record(lab(LabKind.B12, 120, days=1500), *doses(60)), US) == {}


def test_an_interrupted_course_with_neurological_signs_is_critical_and_neuro():
    rec = record(PA, finding(Finding.NEURO, days=70), *doses(60, 58, 56, ingredient=H))
    (r,) = evaluate(rec, UK, AS_OF).recommendations
    assert r.rule == "R26-interrupted-course" and r.indicator is Indicator.CRITICAL
    assert r.regimen.id == UK.neuro_loading and r.facts["doses_due"] is None


# ---- §9: a relapse on oral therapy escalates to IM loading (R27) ----


def test_new_paraesthesia_on_oral_b12_escalates_to_neuro_loading():
    rec = record(PA, oral_order(), finding(Finding.NEURO, days=10))
    (r,) = evaluate(rec, US, AS_OF).recommendations
    assert r.rule == "R27-oral-relapse" and r.indicator is Indicator.CRITICAL
    assert r.regimen.id == US.neuro_loading and r.regimen.is_injection
    assert r.facts["oral_since"] == ago(200)


def test_a_low_b12_on_oral_b12_escalates_to_im_loading():
    (r,) = evaluate(record(PA, oral_order(), lab(LabKind.B12, 130)), UK, AS_OF).recommendations
    assert r.rule == "R27-oral-relapse" and r.indicator is Indicator.WARNING
    assert r.regimen.id == UK.loading


def test_a_relapse_on_oral_b12_is_no_time_to_consider_stopping():
    stopped_ppi = order(DAILY, 900, product=Product.ACID_SUPPRESSANT, ingredient=None)
    stopped_ppi = replace(stopped_ppi, status="stopped", end=ago(400))
    rec = record(stopped_ppi, oral_order(), finding(Finding.FATIGUE, days=10))
    assert set(rules(rec, UK)) == {"R27-oral-relapse"}


def test_findings_from_before_the_oral_start_are_not_a_relapse():
    rec = record(PA, oral_order(), finding(Finding.FATIGUE, days=300), lab(LabKind.B12, 500))
    assert rules(rec, UK) == {}


# ---- a recurrence is new since treatment began, not a symptom already there ----

UK_MAINT = (PA, order(THREE_MONTHLY, ingredient=H), *doses(60, 145, 230, 315, ingredient=H))


def _again(f: Finding, days: int, rid: str = "Condition/again", **kw) -> ClinicalFinding:
    """The same symptom written again at a later visit, as its own Condition."""
    return ClinicalFinding(f, rid, True, ago(days), **kw)


@pytest.mark.parametrize("symptom", [Finding.NEURO, Finding.FATIGUE])
def test_a_symptom_present_at_loading_and_written_again_is_not_a_recurrence(symptom):
    rec = record(*UK_MAINT, finding(symptom, days=400), _again(symptom, 20))
    a = assess(rec, UK, AS_OF)
    assert a.neuro_recurrence == () and a.symptom_recurrence == ()
    assert "R13-intensify-interval" not in rules(rec, UK)


def test_a_recorded_recurrence_of_a_symptom_present_at_loading_still_counts():
    rec = record(
        *UK_MAINT, finding(Finding.NEURO, days=400), _again(Finding.NEURO, 20, recurrence=True)
    )
    assert "R13-intensify-interval" in rules(rec, UK)


def test_a_symptom_that_resolved_and_came_back_is_a_recurrence():
    resolved = finding(Finding.NEURO, days=400, active=False, resolved_on=ago(200))
    rec = record(*UK_MAINT, resolved, _again(Finding.NEURO, 20))
    assert "R13-intensify-interval" in rules(rec, UK)


def test_worse_signs_after_a_milder_one_at_loading_are_a_recurrence():
    rec = record(*UK_MAINT, finding(Finding.NEURO, days=400), _again(Finding.NEURO_SEVERE, 20))
    assert "R13-intensify-interval" in rules(rec, UK)


def test_us_monthly_with_neurological_signs_back_re_loads_rather_than_every_2_3_weeks():
    """S8: "Start or escalate to neuro loading without waiting for MMA"; §7.7: the "every
    2-3 weeks" step "is supported only as a clinician-judged intensification ... never
    default". Adherent monthly cyanocobalamin, paraesthesia back: the neuro loading course,
    then monthly again (S1), not the off-label step."""
    rec = record(PA, order(MONTHLY), *doses(10, 40, 70, 100, 130), finding(Finding.NEURO, days=5))
    (r,) = evaluate(rec, US, AS_OF).recommendations
    assert r.rule == "R13-intensify-interval" and r.variant is Variant.RELOAD
    assert r.kind is Kind.START_LOADING and r.regimen.id == US.neuro_loading
    assert not r.judged and _follow_on_days(r.regimen) == 30
