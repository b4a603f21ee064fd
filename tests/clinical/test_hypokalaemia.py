"""S6: a low potassium in the first days of loading with severe anaemia is a finding: R7 is
raised, critical, says so and quotes the value (FDA label)."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, LabNote, Variant
from cds_b12.clinical.record import Finding, LabKind

from .records import (
    ALTERNATE_DAYS,
    AS_OF,
    PA,
    THREE_A_WEEK,
    Timing,
    ago,
    doses,
    draft_med,
    finding,
    lab,
    order,
    record,
)

LOADING = (PA, lab(LabKind.B12, 90, days=5), order(THREE_A_WEEK, days=3), *doses(2))
SEVERE_BEFORE = lab(LabKind.HB, 7.2, days=3)
LOW_K = lab(LabKind.POTASSIUM, 3.1, days=1)


def r7(rec, profile=US):
    ev = evaluate(rec, profile, AS_OF)
    return next((r for r in ev.recommendations if r.rule == "R7-severe-anaemia"), None)


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_low_potassium_in_the_first_days_of_loading_raises_r7_and_says_so(profile):
    r = r7(record(*LOADING, SEVERE_BEFORE, LOW_K), profile)
    assert r.indicator is Indicator.CRITICAL and r.variant is Variant.LOW_POTASSIUM
    assert r.facts["potassium"] == LOW_K and r.facts["loading_start"] == ago(2)
    assert "S6-low-loading" in r.safety and "S6" not in r.safety
    # potassium now, not a "baseline before the first injection" for a dose already given
    assert [(x.test, x.note) for x in r.labs if x.test == "POTASSIUM"] == [
        ("POTASSIUM", LabNote.NOW)
    ]


def test_it_fires_even_when_hb_has_risen_above_the_severe_cut_off():
    rising = lab(LabKind.HB, 8.4, days=0)
    assert r7(record(*LOADING, SEVERE_BEFORE, rising)) is None
    assert r7(record(*LOADING, SEVERE_BEFORE, rising, LOW_K)).variant is Variant.LOW_POTASSIUM


def test_the_labs_own_lower_limit_decides():
    in_range = lab(LabKind.POTASSIUM, 3.3, days=1, ref_low=3.2, ref_high=5.0)
    assert r7(record(*LOADING, SEVERE_BEFORE, in_range)).variant is None
    below = lab(LabKind.POTASSIUM, 3.6, days=1, ref_low=3.8, ref_high=5.0)
    assert r7(record(*LOADING, SEVERE_BEFORE, below)).variant is Variant.LOW_POTASSIUM


def test_a_corrected_potassium_ends_the_finding():
    corrected = lab(LabKind.POTASSIUM, 4.1, days=0)
    assert r7(record(*LOADING, SEVERE_BEFORE, LOW_K, corrected)).variant is None


@pytest.mark.parametrize(
    "extra",
    [
        (lab(LabKind.HB, 10.2, days=3), LOW_K),  # no severe anaemia
        (SEVERE_BEFORE, lab(LabKind.POTASSIUM, 3.1, days=4), lab(LabKind.POTASSIUM, 4.0, days=1)),
    ],
    ids=["moderate-anaemia", "corrected-since-loading"],
)
def test_not_a_loading_hypokalaemia(extra):
    r = r7(record(*LOADING, *extra))
    assert r is None or r.variant is None


def test_only_in_the_first_days_of_the_course():
    late = (PA, order(THREE_A_WEEK, days=13), *doses(12, 10, 8), SEVERE_BEFORE)
    k = lab(LabKind.POTASSIUM, 3.1, days=0)
    late_hb = lab(LabKind.HB, 7.5, days=13)
    r = r7(record(*late[:-1], late_hb, k))
    assert r is not None and r.variant is None
    assert [x.test for x in r.labs] == ["RETIC"]


def test_a_loading_order_with_no_dose_recorded_yet_starts_the_course():
    ordered = (PA, order(THREE_A_WEEK, days=2), SEVERE_BEFORE, LOW_K)
    r = r7(record(*ordered))
    assert r.variant is Variant.LOW_POTASSIUM and r.facts["loading_start"] == ago(2)


def test_an_old_course_does_not_hide_a_new_loading_order():
    ordered = (PA, *doses(900, 898), order(THREE_A_WEEK, days=2), SEVERE_BEFORE, LOW_K)
    assert r7(record(*ordered)).variant is Variant.LOW_POTASSIUM


def test_a_treatment_card_in_those_first_days_is_critical_too():
    neuro = finding(Finding.NEURO, days=30)
    course = (order(ALTERNATE_DAYS, days=5), *doses(5, 3, 1, ingredient="hydroxocobalamin"))
    maint = draft_med(order(Timing(1, 2, 3, "mo"), days=0, ingredient="hydroxocobalamin"))
    before = lab(LabKind.HB, 7.2, days=6)
    ev = evaluate(record(PA, neuro, *course, maint, before, LOW_K), UK, AS_OF)
    r9 = next(r for r in ev.recommendations if r.rule == "R9-neuro-loading-continue")
    # the potassium is low now: the line says correct and monitor it, not a baseline check
    assert r9.indicator is Indicator.CRITICAL and "S6-low-loading" in r9.safety
    assert "S6" not in r9.safety
    calm = evaluate(record(PA, neuro, *course, maint, before), UK, AS_OF)
    r9 = next(r for r in calm.recommendations if r.rule == "R9-neuro-loading-continue")
    assert "S6" not in r9.safety


UNTREATED = (PA, lab(LabKind.B12, 90, days=3), SEVERE_BEFORE)


def _potassium_labs(ev):
    return [(r.rule, x.note) for r in ev.recommendations for x in r.labs if x.test == "POTASSIUM"]


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_a_low_baseline_potassium_before_loading_is_said_on_r7(profile):
    ev = evaluate(record(*UNTREATED, LOW_K), profile, AS_OF)
    r = next(r for r in ev.recommendations if r.rule == "R7-severe-anaemia")
    assert r.indicator is Indicator.CRITICAL and r.variant is Variant.BASELINE_LOW_POTASSIUM
    assert r.facts["potassium"] == LOW_K and "S6-low-baseline" in r.safety
    # the baseline is on file and low: a recheck within 48 h, once, not a second baseline
    assert _potassium_labs(ev) == [("R7-severe-anaemia", LabNote.AT_48_HOURS)]
    loading = next(r for r in ev.recommendations if r.rule == "R2-start-standard-loading")
    assert loading.indicator is Indicator.CRITICAL
    # its S6 line is the low-baseline one (correct, recheck), never "check at baseline"
    assert "S6-low-baseline" in loading.safety and "S6" not in loading.safety


def test_a_low_potassium_before_the_first_dose_with_none_since_is_said():
    before = lab(LabKind.POTASSIUM, 3.1, days=4)
    r = r7(record(*LOADING, SEVERE_BEFORE, before))
    assert r.variant is Variant.BASELINE_LOW_POTASSIUM and r.facts["potassium"] == before
    assert [(x.test, x.note) for x in r.labs if x.test == "POTASSIUM"] == [
        ("POTASSIUM", LabNote.NOW)
    ]


@pytest.mark.parametrize(
    "extra",
    [
        (lab(LabKind.POTASSIUM, 4.2, days=1),),  # normal baseline
        (lab(LabKind.POTASSIUM, 3.1, days=40),),  # too old to be the baseline
        (LOW_K, lab(LabKind.POTASSIUM, 4.0, days=0)),  # corrected
    ],
    ids=["normal", "old", "corrected"],
)
def test_no_low_baseline_potassium_keeps_the_routine_checks(extra):
    ev = evaluate(record(*UNTREATED, *extra), US, AS_OF)
    r = next(r for r in ev.recommendations if r.rule == "R7-severe-anaemia")
    assert r.variant is None
    assert _potassium_labs(ev) == [
        ("R7-severe-anaemia", LabNote.BASELINE),
        ("R7-severe-anaemia", LabNote.AT_48_HOURS),
    ]


def test_a_low_potassium_without_severe_anaemia_is_not_this_finding():
    ev = evaluate(record(PA, lab(LabKind.B12, 90), lab(LabKind.HB, 10.2), LOW_K), US, AS_OF)
    assert all(r.rule != "R7-severe-anaemia" for r in ev.recommendations)
