"""The timeline lays out what the assessment knows: doses, phases, plan and reference bands."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from cds_b12.clinical import evaluate, get_profile
from cds_b12.clinical.assess import Phase
from cds_b12.clinical.timeline import timeline
from cds_b12.fhir.read import read_record
from cds_b12.hooks.fixtures import find_fixture
from cds_b12.hooks.response import respond
from cds_b12.render.timeline import timeline_json

from ..scenarios import AS_OF, scenarios
from ..test_cli import R1  # noqa: F401  (keeps the fixture path helpers in one place)

US = get_profile("us")


def _timeline(patient_id: str, profile=US):
    resources, _ = find_fixture(patient_id).data(AS_OF)
    record = read_record(resources)
    return timeline(record, evaluate(record, profile, AS_OF), profile, AS_OF)


def test_maintenance_patient_has_its_doses_one_band_and_the_next_dose_due():
    t = _timeline("r11-monthly-overdue")
    assert len(t.doses) == 5 and t.doses == tuple(sorted(t.doses))
    (band,) = t.phases
    assert band.phase is Phase.MAINTENANCE
    assert (band.start, band.end) == (t.doses[0], AS_OF)
    assert t.planned_doses == (AS_OF,)  # overdue: due today


def test_loading_then_suggested_maintenance_start():
    t = _timeline("r10-loading-complete", get_profile("uk"))  # a UK loading course
    assert [b.phase for b in t.phases] == [Phase.LOADING]
    assert t.phases[0].end == AS_OF
    assert t.planned_doses and all(d >= AS_OF for d in t.planned_doses)


def test_series_are_in_one_unit_with_the_rules_reference_bands():
    t = _timeline("r14-hb-falling")
    by_kind = {s.kind.value: s for s in t.series}
    assert [s.kind.value for s in t.series] == ["B12", "MMA", "HB", "MCV"]
    assert by_kind["HB"].unit == "g/dL" and len(by_kind["HB"].points) >= 2
    assert by_kind["B12"].normal_low == US.b12_indeterminate_below_ng_l
    assert by_kind["MCV"].normal_high == US.macrocytosis_above_fl
    assert by_kind["MMA"].normal_high == US.mma_upper_umol_l


def test_due_labs_come_from_the_recommendations():
    t = _timeline("r1-pa-neuro-low-b12")
    assert t.due_labs and {lab.test for lab in t.due_labs} >= {"CBC", "RETIC"}
    assert all(lab.due_from >= AS_OF - timedelta(days=1) for lab in t.due_labs)


def test_a_patient_without_therapy_has_no_bands_or_plan():
    t = _timeline("r17-metformin-no-b12")
    assert t.doses == () and t.phases == () and t.planned_doses == ()
    assert t.as_of == AS_OF


def _with_leber(patient_id: str) -> list[dict]:
    """``patient_id``'s fixture with the Leber's disease Condition of R21's fixture added."""
    resources, _ = find_fixture(patient_id).data(AS_OF)
    leber, _ = find_fixture("r21-leber-cyanocobalamin").data(AS_OF)
    conditions = [copy.deepcopy(r) for r in leber if r["resourceType"] == "Condition"]
    for condition in conditions:
        condition["subject"] = {"reference": f"Patient/{patient_id}"}
    return [*resources, *conditions]


def test_a_new_product_on_a_running_schedule_starts_when_the_next_dose_is_due():
    """Issue 11 §5: last monthly dose 20 days ago, the card swaps the product: the next dose
    is in 10 days on the timeline and in the card's order, not "today"."""
    resources = _with_leber("r11-on-time")
    result = respond(resources, profile=US, as_of=AS_OF)
    a = result.evaluation.assessment
    assert a.last_dose == AS_OF - timedelta(days=20)
    t = timeline(a.record, result.evaluation, US, AS_OF)
    assert t.next_dose is not None and not t.next_dose.overdue
    assert t.next_dose.on == a.last_dose + timedelta(days=30) == date(2026, 12, 1)
    assert t.planned_doses == (t.next_dose.on,)  # the old schedule's next dose is replaced
    starts = {
        action["resource"]["dispenseRequest"]["validityPeriod"]["start"]
        for card in result.body["cards"]
        for s in card.get("suggestions", [])
        for action in s["actions"]
        if action["type"] == "create" and action["resource"]["resourceType"] == "MedicationRequest"
    }
    assert starts == {t.next_dose.on.isoformat()}


def test_an_overdue_dose_is_today_and_says_since_when():
    t = _timeline("r11-monthly-overdue")
    assert t.next_dose is not None and t.next_dose.overdue
    assert t.next_dose.on == AS_OF and t.next_dose.due == AS_OF - timedelta(days=15)
    body = timeline_json(t, patient_id="r11-monthly-overdue", profile="US")
    assert body["nextDose"] == {
        "on": AS_OF.isoformat(),
        "due": t.next_dose.due.isoformat(),
        "overdue": True,
    }


def test_every_suggested_regimen_starts_on_a_planned_dose_of_the_timeline():
    """The timeline's planned doses come from the same assessment as the cards."""
    for scenario in scenarios():
        if scenario.hook != "patient-view":
            continue
        resources, _ = scenario.data()
        profile = get_profile(scenario.profile)
        result = respond(resources, profile=profile, as_of=AS_OF)
        t = timeline(result.evaluation.assessment.record, result.evaluation, profile, AS_OF)
        for rec in result.evaluation.recommendations:
            if rec.regimen is not None:
                assert (rec.start_on or AS_OF) in t.planned_doses, scenario.id
        if t.next_dose is not None and not t.next_dose.overdue:
            assert t.next_dose.on >= AS_OF, scenario.id


def test_the_timeline_names_units_as_the_profiles_cards_do():
    t = _timeline("r14-hb-falling")
    us = {s["kind"]: s["unit"] for s in timeline_json(t, patient_id="p", profile="US")["series"]}
    uk = {s["kind"]: s["unit"] for s in timeline_json(t, patient_id="p", profile="UK")["series"]}
    assert us["B12"] == "pg/mL" and uk["B12"] == "ng/L" and us["HB"] == "g/dL"


def test_no_adult_hb_line_is_drawn_for_a_child():
    """Below the adult age the rules apply no WHO adult Hb cut-off, so neither does the
    picture; an adult's Hb series keeps the WHO line."""
    child = {s.kind.value: s for s in _timeline("r23-child-low-b12").series}
    assert child["HB"].points and child["HB"].normal_low is None
    adult = {s.kind.value: s for s in _timeline("r14-hb-falling").series}
    assert adult["HB"].normal_low is not None


def test_a_result_no_patient_can_have_is_not_drawn():
    """The newest Hb, 75 "g/dL" (meant g/L), is R25's: the picture shows only the older one."""
    hb = next(s for s in _timeline("r25-hb-g-per-l").series if s.kind.value == "HB")
    assert [value for _, value in hb.points] == [12.4]
