"""Whom the guidance is for (R23, deceased, no birth date) and a raised B12 (R22)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.facts import AdultLimit
from cds_b12.clinical.plan import plan
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, Kind, Variant
from cds_b12.clinical.record import Finding, LabKind, MedSource, Product, Route

from .records import (
    AS_OF,
    MONTHLY,
    PA,
    ago,
    dose,
    draft_med,
    finding,
    lab,
    order,
    record,
)

LOW_B12 = lab(LabKind.B12, 120)


def rules(rec, profile=US) -> set[str]:
    return {r.rule for r in evaluate(rec, profile, AS_OF).recommendations}


# ---- R23 and the adult age ----


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_a_child_with_a_low_b12_gets_no_adult_regimen_only_paediatric_advice(profile):
    ev = evaluate(record(PA, LOW_B12, lab(LabKind.HB, 10.0), age=6), profile, AS_OF)
    (r23,) = ev.recommendations
    assert (r23.rule, r23.indicator, r23.kind) == ("R23-not-adult", Indicator.INFO, Kind.REVIEW)
    assert (r23.facts["age"], r23.facts["adult_age"]) == (6, profile.adult_age_years)
    assert r23.regimen is None and r23.alternative is None and r23.labs == ()


@pytest.mark.parametrize(
    ("age", "profile", "adult"), [(16, UK, True), (16, US, False), (17, US, False), (18, US, True)]
)
def test_the_adult_age_is_the_profiles(age, profile, adult):
    fired = rules(record(PA, LOW_B12, age=age), profile)
    assert ("R2-start-standard-loading" in fired) is adult
    assert ("R23-not-adult" in fired) is not adult


def test_no_adult_hb_cut_off_for_a_child():
    # Hb 7 g/dL is severe anaemia by the WHO adult cut-off; without the lab's range no
    # adult threshold decides anything for a child.
    assert rules(record(LOW_B12, lab(LabKind.HB, 7.0), age=6)) == {"R23-not-adult"}


def test_a_childs_pancytopenia_by_the_labs_ranges_still_needs_urgent_assessment():
    counts = (
        lab(LabKind.HB, 8.9, ref_low=11.5),
        lab(LabKind.WBC, 2.1, ref_low=4.5),
        lab(LabKind.PLATELETS, 58, ref_low=150),
    )
    ev = evaluate(record(LOW_B12, *counts, age=8), US, AS_OF)
    assert {r.rule for r in ev.recommendations} == {"R7-severe-anaemia", "R23-not-adult"}
    # without the lab's ranges the adult cut-offs are not applied
    bare = (lab(LabKind.HB, 8.9), lab(LabKind.WBC, 2.1), lab(LabKind.PLATELETS, 58))
    assert rules(record(LOW_B12, *bare, age=8)) == {"R23-not-adult"}


def test_prescribing_safety_applies_at_any_age_without_an_adult_regimen():
    leber = finding(Finding.LEBER)
    cyano = draft_med(order(MONTHLY, days=0, status="draft"))
    ev = evaluate(record(leber, LOW_B12, cyano, age=10), US, AS_OF)
    r21 = next(r for r in ev.recommendations if r.rule == "R21-cyanocobalamin-contraindicated")
    assert r21.regimen is None
    assert "R23-not-adult" in {r.rule for r in ev.recommendations}


def test_a_child_without_a_b12_question_gets_no_card():
    assert rules(record(lab(LabKind.B12, 450), lab(LabKind.HB, 12.5), age=9)) == set()


def test_no_birth_date_is_read_as_an_adult():
    rec = record(PA, LOW_B12)
    rec = replace(rec, patient=replace(rec.patient, birth_date=None))
    assert rules(rec) == {"R2-start-standard-loading"}


# ---- the deceased ----


def _dead(rec, on=None):
    return replace(rec, patient=replace(rec.patient, deceased=True, deceased_on=on))


def test_a_patient_who_has_died_gets_no_recommendations():
    overdue = record(PA, order(MONTHLY, days=400), dose(75), dose(105))
    assert "R12-missed-doses" in rules(overdue)
    assert rules(_dead(overdue)) == set()
    assert rules(_dead(overdue, ago(20))) == set()


def test_nothing_is_planned_for_a_patient_who_has_died():
    on_schedule = record(PA, order(MONTHLY, days=400), dose(20), dose(50))
    assert plan(evaluate(on_schedule, US, AS_OF), AS_OF).doses
    dead = plan(evaluate(_dead(on_schedule, ago(5)), US, AS_OF), AS_OF)
    assert (dead.doses, dead.labs) == ((), ())


def test_a_death_after_the_evaluation_date_is_not_yet():
    assert rules(_dead(record(PA, LOW_B12), date(2026, 6, 1))) == {"R2-start-standard-loading"}


# ---- R22 raised B12 ----

RAISED = (lab(LabKind.B12, 1380, days=90), lab(LabKind.B12, 1450, days=3))


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_a_persistently_raised_b12_without_supplements_asks_for_review(profile):
    ev = evaluate(record(*RAISED), profile, AS_OF)
    (r22,) = ev.recommendations
    assert (r22.rule, r22.indicator, r22.kind) == ("R22-raised-b12", Indicator.INFO, Kind.REVIEW)
    assert r22.facts["b12"] == RAISED[1] and r22.facts["earlier_b12"] == RAISED[0]
    assert r22.regimen is None and r22.labs == ()


@pytest.mark.parametrize(
    "b12s",
    [
        (lab(LabKind.B12, 1450, days=3),),
        (lab(LabKind.B12, 640, days=90), lab(LabKind.B12, 1450, days=3)),
        (lab(LabKind.B12, 1450, days=90), lab(LabKind.B12, 900, days=3)),
        (lab(LabKind.B12, 1000, days=90), lab(LabKind.B12, 1450, days=3)),
        (lab(LabKind.B12, 1380, days=800), lab(LabKind.B12, 1450, days=500)),
        (lab(LabKind.HOLOTC, 1380, days=90), lab(LabKind.HOLOTC, 1450, days=3)),
    ],
    ids=["once", "raised-once", "fell", "at-the-cut-off", "old", "active-b12"],
)
def test_not_persistently_raised_is_silent(b12s):
    assert "R22-raised-b12" not in rules(record(*b12s))


def _statement(product, route, **kw):
    return replace(
        order(None, days=200, product=product, route=route, **kw), source=MedSource.STATEMENT
    )


@pytest.mark.parametrize(
    "supplement",
    [
        _statement(Product.B12_ORAL_HIGH, Route.ORAL),
        _statement(Product.B12_ORAL_LOW, Route.ORAL, dose_mg=0.05),
        _statement(Product.B12_NASAL, Route.NASAL),
        order(MONTHLY, days=200),
        dose(200),
        replace(dose(300), product=Product.CYANOKIT, ingredient="hydroxocobalamin"),
        _statement(Product.B12_ORAL_HIGH, Route.ORAL, status="completed", end=ago(60)),
    ],
    ids=["oral", "low-dose", "nasal", "im-order", "injection", "cyanokit", "stopped-recently"],
)
def test_never_for_a_patient_on_any_b12_product(supplement):
    assert "R22-raised-b12" not in rules(record(*RAISED, supplement))


def test_a_result_within_the_post_injection_window_does_not_count():
    # the dose is over a year before today, so only the S2 window keeps the first result out
    old = (lab(LabKind.B12, 1500, days=400), lab(LabKind.B12, 1450, days=3))
    assert "R22-raised-b12" in rules(record(*old))
    assert "R22-raised-b12" not in rules(record(*old, dose(405)))


@pytest.mark.parametrize("value", [2000, 1000], ids=["above-range", "at-the-cut-off"])
def test_a_b12_reported_above_a_value_counts_when_the_value_is_the_cut_off_or_more(value):
    """ ">2000" or ">1000": the true value is above 1000, so it is raised; the card keeps
    the sign (the fact is the Lab as reported)."""
    censored = (
        lab(LabKind.B12, value, days=90, comparator=">"),
        lab(LabKind.B12, value, days=3, comparator=">"),
    )
    (r22,) = evaluate(record(*censored), US, AS_OF).recommendations
    assert r22.rule == "R22-raised-b12" and r22.facts["b12"].comparator == ">"


@pytest.mark.parametrize(
    "newer", [("<", 1200), (">=", 1000)], ids=["below", "at-least-the-cut-off"]
)
def test_a_censored_b12_that_may_not_be_raised_does_not_count(newer):
    comparator, value = newer
    b12s = (RAISED[0], lab(LabKind.B12, value, days=3, comparator=comparator))
    assert "R22-raised-b12" not in rules(record(*b12s))


# ---- R7 below the adult age: the lab's own critical flag, no adult cut-off ----


def _r7_child(*labs_):
    rec = record(lab(LabKind.B12, 110), *labs_, age=9)
    return {r.rule: r for r in evaluate(rec, US, AS_OF).recommendations}


def test_a_child_whose_hb_the_lab_flags_critically_low_gets_urgent_assessment():
    fired = _r7_child(lab(LabKind.HB, 5.8, interpretation="LL"))
    r7 = fired["R7-severe-anaemia"]
    assert r7.indicator is Indicator.CRITICAL and r7.variant is Variant.CHILD
    assert r7.facts["hb"].value == 5.8 and r7.facts["age"] == 9
    assert "R23-not-adult" in fired


@pytest.mark.parametrize("flag", [None, "L"])
def test_no_adult_cut_off_makes_a_childs_hb_severe(flag):
    assert "R7-severe-anaemia" not in _r7_child(lab(LabKind.HB, 7.5, interpretation=flag))


# ---- R7 potassium in a child: the lab's range or flag; else the adult limit, said so ----
# b12-clinical.md gives no paediatric potassium or Hb value: WHO's Hb cut-offs are for
# "Men ≥15 y" and "Non-pregnant women ≥15 y" (§2.6), and NICE NG239 is for over-16s (UK-9:
# "vitamin-b12-deficiency-in-over-16s"). §5 S6 names no potassium number.


def test_a_childs_potassium_judged_by_the_adult_limit_says_so():
    low_k = lab(LabKind.POTASSIUM, 3.2, days=1)
    r7 = _r7_child(lab(LabKind.HB, 5.8, interpretation="LL"), low_k)["R7-severe-anaemia"]
    assert r7.variant is Variant.BASELINE_LOW_POTASSIUM
    assert r7.facts["potassium"] == AdultLimit(low_k, US.hypokalaemia_below_mmol_l)


@pytest.mark.parametrize(
    "kw", [{"ref_low": 3.4}, {"interpretation": "L"}], ids=["lab-range", "lab-flag"]
)
def test_a_childs_potassium_below_the_labs_range_or_flagged_is_quoted_as_the_lab_judged(kw):
    low_k = lab(LabKind.POTASSIUM, 3.2, days=1, **kw)
    r7 = _r7_child(lab(LabKind.HB, 5.8, interpretation="LL"), low_k)["R7-severe-anaemia"]
    assert r7.facts["potassium"] == low_k


def test_an_adults_potassium_judged_by_the_profile_limit_is_quoted_plainly():
    low_k = lab(LabKind.POTASSIUM, 3.2, days=1)
    rec = record(lab(LabKind.B12, 110), lab(LabKind.HB, 6.8), low_k)
    (r7,) = [r for r in evaluate(rec, US, AS_OF).recommendations if r.rule.startswith("R7")]
    assert r7.facts["potassium"] == low_k
