"""A result no living patient can have (a unit slip: an Hb of 75 sent as g/dL, meant g/L)
is unreadable (IMPLAUSIBLE): said by R25 and in the notes, never used by a rule."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cds_b12.clinical import evaluate
from cds_b12.clinical.assess import assess
from cds_b12.clinical.bands import Anaemia, by_kind
from cds_b12.clinical.plausible import plausible, set_aside
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.record import (
    Finding,
    Lab,
    LabKind,
    Timing,
    Unreadable,
    UnreadableResult,
)

from .records import AS_OF, doses, finding, lab, order, record

PROFILES = pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])


@PROFILES
@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (LabKind.HB, 75),  # g/L sent as g/dL: 7.5 g/dL, severe anaemia
        (LabKind.HB, 0.1),
        (LabKind.POTASSIUM, 35),
        (LabKind.MCV, 9),
        (LabKind.B12, 9_000_000),
        (LabKind.PLATELETS, 250_000),  # per uL sent as 10*9/L
        (LabKind.WBC, 7_500),
    ],
)
def test_an_implausible_result_is_unreadable_and_never_used(profile, kind, value):
    implausible = lab(kind, value)
    a = assess(record(implausible), profile, AS_OF)
    assert a.labs == () and kind not in a.by_kind
    expected = UnreadableResult(
        kind, implausible.resource_id, implausible.on, Unreadable.IMPLAUSIBLE, implausible
    )
    assert a.unreadable == (expected,)
    assert expected in a.notes


@PROFILES
@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (LabKind.HB, 1.8),
        (LabKind.HB, 24.5),
        (LabKind.MCV, 50),
        (LabKind.MCV, 150),
        (LabKind.POTASSIUM, 1.2),
        (LabKind.POTASSIUM, 9.5),
        (LabKind.B12, 2000),
        (LabKind.B12, 60_000),  # days after a 1 mg injection
        (LabKind.HOLOTC, 256),
        (LabKind.MMA, 150),
        (LabKind.HCY, 300),
        (LabKind.FOLATE, 45),
        (LabKind.FERRITIN, 150_000),  # haemophagocytic lymphohistiocytosis
        (LabKind.WBC, 500),  # leukaemic hyperleukocytosis
        (LabKind.NEUTROPHILS, 0),
        (LabKind.PLATELETS, 3_000),
        (LabKind.RETIC, 40),
        (LabKind.EGFR, 180),
    ],
)
def test_extreme_but_real_results_are_used(profile, kind, value):
    a = assess(record(lab(kind, value)), profile, AS_OF)
    assert [x.value for x in a.labs] == [value] and a.unreadable == ()


def test_every_analyte_has_wide_limits_in_every_profile():
    for profile in (US, UK):
        limits = dict((kind, (low, high)) for kind, low, high in profile.plausible_limits)
        assert set(limits) == set(LabKind)
        assert all(0 <= low < high for low, high in limits.values())


def test_hb_75_g_dl_is_not_read_as_no_anaemia_and_r25_says_it():
    """Today's gap: 75 "g/dL" read as 75 g/dL, not anaemic; the severe anaemia was missed."""
    rec = record(lab(LabKind.B12, 150), lab(LabKind.MCV, 112), lab(LabKind.HB, 75))
    a = assess(rec, US, AS_OF)
    assert a.hb is None and a.anaemia is Anaemia.NA
    rules = {r.rule for r in evaluate(rec, US, AS_OF).recommendations}
    assert "R25-unreadable-result" in rules


def test_an_implausible_newest_hb_does_not_hide_behind_an_older_plausible_one():
    older, newest = lab(LabKind.HB, 11.5, days=40), lab(LabKind.HB, 75, days=3)
    ev = evaluate(record(older, newest), UK, AS_OF)
    assert ev.assessment.hb == older  # as for any unreadable result: the older one is used
    (r25,) = [r for r in ev.recommendations if r.rule == "R25-unreadable-result"]
    (said,) = r25.facts["unreadable"].items
    assert (said.resource, said.reason) == (newest.resource_id, Unreadable.IMPLAUSIBLE)
    assert [x.test for x in r25.labs] == ["CBC"]


def test_a_plausible_result_as_new_keeps_r25_silent():
    rec = record(lab(LabKind.HB, 75, days=3), lab(LabKind.HB, 12.5, days=3))
    assert not [r for r in evaluate(rec, US, AS_OF).recommendations if r.rule.startswith("R25")]


def _us_loading(hb_before: float):
    """Day 30 of an unfinished US loading course (7 of 8 doses) with an Hb before it."""
    return record(
        finding(Finding.PERNICIOUS_ANAEMIA),
        order(Timing(1, 1, None, "wk"), days=31),
        *doses(30, 28, 26, 24, 17, 10, 3),
        lab(LabKind.HB, hb_before, days=35),
        lab(LabKind.HB, 9.0, days=2),
    )


def test_r8_does_not_compare_the_response_with_an_implausible_hb():
    def rules(rec):
        return {r.rule for r in evaluate(rec, US, AS_OF).recommendations}

    assert "R8-suboptimal-response" in rules(_us_loading(9.5))  # flat: 9.5 then 9.0
    assert "R8-suboptimal-response" not in rules(_us_loading(95))  # 95 "g/dL": no baseline


def test_a_card_resting_on_an_older_b12_names_the_newer_implausible_one():
    older, newest = lab(LabKind.B12, 150, days=20), lab(LabKind.B12, 9_000_000, days=3)
    ev = evaluate(record(older, newest, lab(LabKind.MCV, 108)), US, AS_OF)
    (r2,) = [r for r in ev.recommendations if r.rule == "R2-start-standard-loading"]
    fact = r2.facts["b12"]
    assert fact.lab == older
    assert [(u.resource, u.reason) for u in fact.unread.items] == [
        (newest.resource_id, Unreadable.IMPLAUSIBLE)
    ]


# A card resting on an MCV or a potassium says when a newer one could not be read.


def _card(rec, rule, profile=US):
    return next(r for r in evaluate(rec, profile, AS_OF).recommendations if r.rule == rule)


@PROFILES
def test_a_card_resting_on_an_older_mcv_names_the_newer_implausible_one(profile):
    """b12-clinical.md §2.6: "MCV: macrocytosis >100 fL". The older readable MCV still
    decides macrocytosis; an MCV of 9 fL since is no patient's, and the card that quotes
    the older one says a newer one could not be read, as for a B12 (§2.8)."""
    older, newest = lab(LabKind.MCV, 108, days=20), lab(LabKind.MCV, 9, days=3)
    rec = record(lab(LabKind.B12, 150, days=5), lab(LabKind.HB, 12.5, days=5), older, newest)
    fact = _card(rec, "R2-start-standard-loading", profile).facts["mcv"]
    assert fact.lab == older
    assert [(u.resource, u.reason) for u in fact.unread.items] == [
        (newest.resource_id, Unreadable.IMPLAUSIBLE)
    ]


@PROFILES
def test_a_card_with_only_an_implausible_mcv_says_it_could_not_be_read(profile):
    """§2.6: a normal MCV does not exclude deficiency, so the card cannot say "none on
    file" when there is one it could not trust: it names it."""
    newest = lab(LabKind.MCV, 250, days=3)
    rec = record(lab(LabKind.B12, 150, days=5), lab(LabKind.HB, 12.5, days=5), newest)
    fact = _card(rec, "R2-start-standard-loading", profile).facts["mcv"]
    assert [(u.resource, u.reason) for u in fact.items] == [
        (newest.resource_id, Unreadable.IMPLAUSIBLE)
    ]


@PROFILES
def test_r7_resting_on_an_older_low_potassium_names_the_newer_implausible_one(profile):
    """§5 S6: "suggest K⁺ at baseline and within 48 h"; the low baseline R7 quotes is the
    newest readable one: a potassium of 35 mmol/L since is no patient's, and R7 says so."""
    low, newest = lab(LabKind.POTASSIUM, 3.1, days=2), lab(LabKind.POTASSIUM, 35, days=1)
    untreated = (
        finding(Finding.PERNICIOUS_ANAEMIA),
        lab(LabKind.B12, 90, days=3),
        lab(LabKind.HB, 7.2, days=3),
    )
    fact = _card(record(*untreated, low, newest), "R7-severe-anaemia", profile).facts["potassium"]
    assert fact.lab == low
    assert [(u.resource, u.reason) for u in fact.unread.items] == [
        (newest.resource_id, Unreadable.IMPLAUSIBLE)
    ]


_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**7), 10**7),
    st.sampled_from([0, 0.0, 0.5, 30, 30.0, 10**6, 1e6, 1_000_000.5, -0.0]),  # at the limits
)


@given(
    st.lists(st.tuples(st.sampled_from(list(LabKind)), _VALUES, st.integers(0, 30)), max_size=8),
    st.sampled_from((US, UK)),
)
@example([(LabKind.HB, math.nan, 0)], US)  # no number: not within any limits
def test_set_aside_agrees_with_asking_each_result(rows, profile):
    """The whole-record check (float limits, one loop) sets aside exactly the results that
    ``plausible`` refuses one by one, and returns the record as it came when none."""
    labs = tuple(
        Lab(k, v, AS_OF - timedelta(d), f"Observation/{i}") for i, (k, v, d) in enumerate(rows)
    )
    of = {kind: tuple(results) for kind, results in by_kind(labs).items()}
    kept, kept_of, unread = set_aside(labs, of, profile)
    outside = [lab for lab in labs if not plausible(lab, profile)]
    assert [u.lab for u in unread] == outside
    assert kept == tuple(lab for lab in labs if lab not in outside)
    if not outside:
        assert kept is labs and kept_of is of
    limits = {k: (low, high) for k, low, high in profile.plausible_limits}  # as declared
    for result in labs:
        low, high = limits.get(result.kind, (-math.inf, math.inf))
        assert plausible(result, profile) is (low <= result.value <= high)
