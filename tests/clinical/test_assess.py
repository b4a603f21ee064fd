"""Derived inputs of §6.1: bands at their edges, anaemia by sex, phase and interval."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cds_b12.clinical.assess import Anaemia, Band, Cause, Functional, Phase, assess
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.record import Finding, LabKind, Product, Route

from .records import AS_OF, THREE_A_WEEK, Timing, doses, finding, lab, metformin, order, record


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (179.9, Band.DEFICIENT),
        (180, Band.INDETERMINATE),
        (350, Band.INDETERMINATE),
        (350.1, Band.NORMAL),
        (None, Band.NA),
    ],
)
def test_b12_bands_at_the_edges(value, band):
    items = [] if value is None else [lab(LabKind.B12, value)]
    for profile in (US, UK):
        assert assess(record(*items), profile, AS_OF).b12_band is band


def test_lab_reference_range_wins_over_profile_band():
    local = lab(LabKind.B12, 160, ref_low=145, ref_high=900)
    assert assess(record(local), UK, AS_OF).b12_band is Band.INDETERMINATE
    flagged = lab(LabKind.B12, 200, interpretation="L")
    assert assess(record(flagged), US, AS_OF).b12_band is Band.DEFICIENT


def test_holotranscobalamin_bands():
    assert assess(record(lab(LabKind.HOLOTC, 24)), UK, AS_OF).b12_band is Band.DEFICIENT
    assert assess(record(lab(LabKind.HOLOTC, 50)), UK, AS_OF).b12_band is Band.INDETERMINATE


def test_mma_cutoff_differs_by_profile():
    rec = record(lab(LabKind.MMA, 0.42))
    assert assess(rec, US, AS_OF).functional is Functional.ABNORMAL
    assert assess(rec, UK, AS_OF).functional is Functional.NORMAL


@pytest.mark.parametrize(
    ("sex", "hb", "grade"),
    [
        ("male", 12.9, Anaemia.MILD),
        ("male", 13.0, Anaemia.NONE),
        ("female", 11.9, Anaemia.MILD),
        ("female", 12.0, Anaemia.NONE),
        ("female", 10.9, Anaemia.MODERATE),
        ("male", 7.9, Anaemia.SEVERE),
    ],
)
def test_who_anaemia_by_sex(sex, hb, grade):
    assert assess(record(lab(LabKind.HB, hb), sex=sex), US, AS_OF).anaemia is grade


def test_pregnancy_anaemia_threshold():
    rec = record(lab(LabKind.HB, 11.5), finding(Finding.PREGNANCY, days=50))
    assert assess(rec, UK, AS_OF).anaemia is Anaemia.NONE


def test_cause_precedence_and_inactive_pernicious_anaemia_still_irreversible():
    rec = record(
        finding(Finding.PERNICIOUS_ANAEMIA, active=False),
        metformin(),
        finding(Finding.DIETARY_DEFICIENCY),
    )
    assert assess(rec, US, AS_OF).cause is Cause.IRREVERSIBLE_MALABSORPTION
    assert (
        assess(record(metformin(), finding(Finding.DIETARY_DEFICIENCY)), US, AS_OF).cause
        is Cause.MEDICATION
    )
    assert assess(record(finding(Finding.COELIAC)), US, AS_OF).cause is Cause.POSSIBLY_REVERSIBLE_GI
    assert (
        assess(record(finding(Finding.SLEEVE_GASTRECTOMY)), US, AS_OF).cause
        is Cause.IRREVERSIBLE_MALABSORPTION
    )


def test_phase_from_orders_and_administrations():
    assert assess(record(), US, AS_OF).phase is Phase.NONE
    a = assess(record(order(THREE_A_WEEK, days=5), *doses(4, 2)), UK, AS_OF)
    assert a.phase is Phase.LOADING and not a.loading_complete
    a = assess(record(order(Timing(1, 2, 3, "mo")), *doses(30, 120)), UK, AS_OF)
    assert a.phase is Phase.MAINTENANCE and a.interval_days == 90 and a.grace_days == 14
    a = assess(record(*doses(30, 60, 90)), US, AS_OF)
    assert a.phase is Phase.MAINTENANCE and a.interval_days == 30 and a.grace_days == 7
    oral = order(Timing(1, 1, None, "d"), product=Product.B12_ORAL_HIGH, route=Route.ORAL)
    assert assess(record(oral), US, AS_OF).phase is Phase.ORAL
    assert assess(record(*doses(400, 430)), US, AS_OF).phase is Phase.NONE


def test_trends():
    a = assess(
        record(
            lab(LabKind.HB, 13.0, days=100),
            lab(LabKind.HB, 11.0),
            lab(LabKind.MCV, 98, days=100),
            lab(LabKind.MCV, 104),
        ),
        US,
        AS_OF,
    )
    assert a.hb_falling and a.mcv_rising


def test_each_kind_reads_its_own_results_whatever_the_order_and_the_other_kinds():
    """Results of several kinds, same days, given out of date order: each kind's newest
    (the later given of a same-day pair) and its trend come from its own results only."""
    hb_old, mcv_old = lab(LabKind.HB, 12.5, days=40), lab(LabKind.MCV, 95, days=40)
    hb_new, mcv_new = lab(LabKind.HB, 12.2, days=2), lab(LabKind.MCV, 104, days=2)
    same_day = replace(lab(LabKind.HB, 9.5, days=2), resource_id="Observation/hb-2-again")
    a = assess(record(mcv_new, hb_new, mcv_old, same_day, hb_old), US, AS_OF)
    assert a.labs == (mcv_old, hb_old, mcv_new, hb_new, same_day)
    assert a.hb is same_day and a.mcv is mcv_new
    assert a.hb_falling and a.mcv_rising


def test_has_asks_of_active_findings_only():
    """``has`` (the rules' and rails' question: Leber's, a B12 allergy) reads the findings
    recorded active; a resolved one, or another finding, does not count."""
    a = assess(
        record(
            finding(Finding.LEBER),
            finding(Finding.COBALT_B12_ALLERGY, active=False),
            finding(Finding.PREGNANCY),
        ),
        US,
        AS_OF,
    )
    assert a.has(Finding.LEBER)
    assert a.has(Finding.COBALT_B12_ALLERGY, Finding.LEBER)
    assert not a.has(Finding.COBALT_B12_ALLERGY)
    assert not a.has(Finding.BREASTFEEDING)
    assert a.pregnant and not a.breastfeeding
