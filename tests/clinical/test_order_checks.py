"""R28 (dose, unit and frequency errors) and R29 (over-treatment) on B12 drafts, and the one
plan a response offers when a treatment card fires beside them."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, Kind, Variant
from cds_b12.clinical.record import Finding, LabKind, Quantity

from .records import (
    AS_OF,
    MONTHLY,
    PA,
    Timing,
    doses,
    draft_med,
    finding,
    lab,
    order,
    record,
)

DAILY = Timing(1, 1, None, "d")
EVERY_2_WEEKS = Timing(1, 2, None, "wk")
EVERY_3_WEEKS = Timing(1, 3, None, "wk")
ON_MONTHLY = (PA, order(MONTHLY), *doses(6, 36, 66))


def _recs(rec, profile=US):
    return {r.rule.split("-")[0]: r for r in evaluate(rec, profile, AS_OF).recommendations}


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_r28_thousandfold_mg_for_micrograms_is_critical_and_keeps_the_schedule(profile):
    draft = draft_med(order(MONTHLY, days=0, dose_mg=1000, dose_written=Quantity(1000, "mg")))
    r = _recs(record(*ON_MONTHLY, draft), profile)["R28"]
    assert r.indicator is Indicator.CRITICAL and r.variant is Variant.THOUSANDFOLD
    assert r.draft_id == "MedicationRequest/draft-1" and r.kind is Kind.CORRECT_ORDER
    assert r.regimen.dose * (1 if r.regimen.dose_unit == "mg" else 0.001) == 1
    assert (r.regimen.steps[0].period, r.regimen.steps[0].period_unit) == (1, "mo")


def test_r28_volume_where_a_mass_is_meant():
    draft = draft_med(order(MONTHLY, days=0, dose_mg=1000, dose_written=Quantity(1000, "mL")))
    assert _recs(record(*ON_MONTHLY, draft))["R28"].variant is Variant.VOLUME


def test_r28_above_the_largest_dose():
    draft = draft_med(order(MONTHLY, days=0, dose_mg=5000, dose_written=Quantity(5, "g")))
    assert _recs(record(*ON_MONTHLY, draft))["R28"].variant is Variant.ABOVE_MAX
    # 5 mg is not mg for micrograms: 5 micrograms is no B12 dose
    draft = draft_med(order(MONTHLY, days=0, dose_mg=5, dose_written=Quantity(5, "mg")))
    assert _recs(record(*ON_MONTHLY, draft))["R28"].variant is Variant.ABOVE_MAX


def test_r28_a_large_volume_of_a_product_of_unknown_strength():
    draft = draft_med(order(MONTHLY, days=0, dose_mg=None, dose_written=Quantity(1000, "mL")))
    assert _recs(record(*ON_MONTHLY, draft))["R28"].variant is Variant.VOLUME
    draft = draft_med(order(MONTHLY, days=0, dose_mg=None, dose_written=Quantity(1, "mL")))
    assert "R28" not in _recs(record(*ON_MONTHLY, draft))


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_r28_daily_injections_with_no_end_for_maintenance_go_back_to_maintenance(profile):
    r = _recs(record(*ON_MONTHLY, draft_med(order(DAILY, days=0))), profile)["R28"]
    assert r.variant is Variant.OPEN_ENDED
    assert r.regimen.steps[-1].interval_days >= 28


def test_r28_silent_for_a_plausible_order_and_for_a_course_with_an_end():
    assert "R28" not in _recs(record(*ON_MONTHLY, draft_med(order(MONTHLY, days=0))))
    bounded = Timing(1, 1, None, "d", bounded=True)
    assert "R28" not in _recs(record(*ON_MONTHLY, draft_med(order(bounded, days=0))))


def test_r28_uk_neuro_course_is_open_ended_by_design():
    alternate = Timing(1, 2, None, "d")
    neuro = finding(Finding.NEURO, days=5)
    rec = record(PA, lab(LabKind.B12, 120), neuro, draft_med(order(alternate, days=0)))
    assert "R28" not in _recs(rec, UK)
    assert "R28" in _recs(rec, US)  # the US neuro course is bounded


def test_r28_beside_a_loading_card_carries_the_loading_plan_once():
    draft = draft_med(order(MONTHLY, days=0, dose_mg=1000, dose_written=Quantity(1000, "mg")))
    recs = _recs(record(PA, lab(LabKind.B12, 120), draft))
    r28, r2 = recs["R28"], recs["R2"]
    assert r28.regimen == r2.regimen and r28.regimen.steps[0].period_unit == "d"
    assert r2.plan_on == "R28-order-dose-error" and r28.plan_on is None


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_r29_dietary_cause_normal_labs_fortnightly_injections_become_the_dietary_regimen(
    profile,
):
    vegan = finding(Finding.DIETARY_DEFICIENCY)
    labs = (lab(LabKind.B12, 420), lab(LabKind.MMA, 0.2), lab(LabKind.HB, 13.5))
    r = _recs(record(vegan, *labs, draft_med(order(EVERY_2_WEEKS, days=0))), profile)["R29"]
    assert r.indicator is Indicator.WARNING and r.regimen.id == profile.dietary
    assert r.draft_id == "MedicationRequest/draft-1"


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_r29_normal_b12_and_mma_loading_course_asks_to_confirm_the_diagnosis(profile):
    course = Timing(1, 2, None, "d", bounded=True)
    labs = (lab(LabKind.B12, 480), lab(LabKind.MMA, 0.18))
    r = _recs(record(*labs, draft_med(order(course, days=0))), profile)["R29"]
    assert r.variant is Variant.CONFIRM_FIRST and r.regimen is None
    assert r.draft_id == "MedicationRequest/draft-1"


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_r29_without_an_mma_on_file_asks_for_the_mma(profile):
    """A normal homocysteine alone: the card asks for MMA; with a normal MMA on file it says
    what that shows instead (variant confirm_first), never asking for it again."""
    course = Timing(1, 2, None, "d", bounded=True)
    labs = (lab(LabKind.B12, 480), lab(LabKind.HCY, 9))
    r = _recs(record(*labs, draft_med(order(course, days=0))), profile)["R29"]
    assert r.variant is Variant.CONFIRM_FIRST_NO_MMA and r.regimen is None


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_r29_confirm_first_keeps_the_breastfeeding_review(profile):
    """The card asks for the confirming test: the 1-month review when breastfeeding (S11)
    applies to it as to any testing card (metformin makes the cause a medication and
    pregnancy silences R29, so S7 and S11's pregnancy line do not arise here)."""
    course = Timing(1, 2, None, "d", bounded=True)
    labs = (lab(LabKind.B12, 480), lab(LabKind.MMA, 0.18), finding(Finding.BREASTFEEDING, 60))
    r = _recs(record(*labs, draft_med(order(course, days=0))), profile)["R29"]
    assert r.variant is Variant.CONFIRM_FIRST and "S11-breastfeeding" in r.safety


def test_r29_silent_without_a_normal_mma_or_for_an_irreversible_cause_or_leber():
    course = draft_med(order(Timing(1, 2, None, "d", bounded=True), days=0))
    assert "R29" not in _recs(record(lab(LabKind.B12, 480), course))
    assert "R29" not in _recs(record(PA, lab(LabKind.B12, 480), lab(LabKind.MMA, 0.1), course))
    leber = finding(Finding.LEBER)
    assert "R29" not in _recs(record(leber, lab(LabKind.B12, 480), lab(LabKind.MMA, 0.1), course))


def test_r29_maintenance_draft_more_frequent_than_the_current_schedule():
    r = _recs(record(*ON_MONTHLY, draft_med(order(EVERY_3_WEEKS, days=0))))["R29"]
    assert r.regimen.steps[-1].interval_days == 30 and r.variant is None
    relapse = finding(Finding.NEURO, days=3)
    assert "R29" not in _recs(record(*ON_MONTHLY, relapse, draft_med(order(EVERY_3_WEEKS, days=0))))


def test_r29_silent_when_symptoms_recur_before_the_next_dose():
    tired = finding(Finding.FATIGUE, days=3)
    draft = draft_med(order(EVERY_3_WEEKS, days=0))
    assert "R29" not in _recs(record(*ON_MONTHLY, tired, draft))


def test_nothing_fires_on_patient_view_without_drafts():
    assert not {"R28", "R29"} & set(_recs(record(*ON_MONTHLY)))


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_a_draft_timing_of_no_doses_per_period_is_no_schedule_to_keep(profile):
    """``Timing.frequency`` below 1 gives no interval (``to_days``); the reader never makes
    one, but the core must not divide by it: the profile's own schedule is offered instead."""
    never = Timing(0, 1, None, "wk")
    draft = draft_med(order(never, days=0, dose_mg=1000, dose_written=Quantity(1000, "mg")))
    recs = _recs(record(*ON_MONTHLY, draft), profile)
    assert recs["R28"].variant is Variant.THOUSANDFOLD
    assert all(step.frequency >= 1 for step in recs["R28"].regimen.steps)
    # the over-treatment check reads the same draft schedule
    assert "R29" not in _recs(record(*ON_MONTHLY, draft_med(order(never, days=0))), profile)
