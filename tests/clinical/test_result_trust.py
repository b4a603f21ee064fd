"""Values that cannot be trusted are said: censored results (R5/R2 bands) and unreadable
ones (R25), never read as a plain number nor dropped in silence."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.assess import assess
from cds_b12.clinical.bands import Band, Functional
from cds_b12.clinical.facts import BeforeUnreadable
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator
from cds_b12.clinical.record import (
    Finding,
    LabKind,
    UndecidedResult,
    Unreadable,
    UnreadableResult,
)

from .records import AS_OF, ago, finding, lab, record

PROFILES = pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])


@PROFILES
@pytest.mark.parametrize(
    ("comparator", "value", "band", "undecided"),
    [
        ("<", 150, Band.DEFICIENT, False),  # the whole range is below 180
        ("<", 180, Band.DEFICIENT, False),
        ("<=", 180, Band.INDETERMINATE, True),  # 180 itself is indeterminate
        ("<", 200, Band.INDETERMINATE, True),  # deficient or indeterminate: not decided
        ("<", 1000, Band.INDETERMINATE, True),
        (">", 2000, Band.NORMAL, False),
        (">", 350, Band.NORMAL, False),
        (">=", 350, Band.INDETERMINATE, True),
        (">", 300, Band.INDETERMINATE, True),  # indeterminate or normal
        (">", 100, Band.INDETERMINATE, True),
        (None, 200, Band.INDETERMINATE, False),
    ],
)
def test_a_censored_b12_decides_a_band_only_when_its_whole_range_falls_in_it(
    profile, comparator, value, band, undecided
):
    a = assess(record(lab(LabKind.B12, value, comparator=comparator)), profile, AS_OF)
    assert a.b12_band is band
    notes = [n for n in a.notes if isinstance(n, UndecidedResult)]
    assert bool(notes) is undecided
    if undecided:
        assert notes[0].kind is LabKind.B12


@pytest.mark.parametrize(
    ("comparator", "value", "functional"),
    [
        (">", 0.5, Functional.ABNORMAL),
        ("<", 0.2, Functional.NORMAL),
        ("<", 0.8, Functional.NA),
        (">", 0.1, Functional.NA),
    ],
)
def test_a_censored_mma_decides_only_when_its_whole_range_is_one_side(
    comparator, value, functional
):
    a = assess(record(lab(LabKind.MMA, value, comparator=comparator)), US, AS_OF)
    assert a.functional is functional
    assert any(isinstance(n, UndecidedResult) for n in a.notes) is (functional is Functional.NA)


def test_less_than_200_is_no_longer_read_as_200_and_orders_the_confirming_test():
    macrocytic = lab(LabKind.MCV, 104)
    fired = evaluate(record(lab(LabKind.B12, 200, comparator="<"), macrocytic), US, AS_OF)
    assert [r.rule for r in fired.recommendations] == ["R5-indeterminate-order-mma"]
    below = evaluate(record(lab(LabKind.B12, 150, comparator="<"), macrocytic), US, AS_OF)
    assert [r.rule for r in below.recommendations] == ["R2-start-standard-loading"]


def unreadable(kind=LabKind.B12, days=5, reason=Unreadable.NO_UNIT):
    return UnreadableResult(kind, f"Observation/{kind.value.lower()}-x", ago(days), reason)


def rules(rec, profile=US):
    return {r.rule: r.indicator for r in evaluate(rec, profile, AS_OF).recommendations}


@PROFILES
def test_an_only_b12_that_cannot_be_read_gets_a_card(profile):
    fired = rules(record(unreadable(), lab(LabKind.MCV, 107)), profile)
    assert fired == {"R25-unreadable-result": Indicator.WARNING}


@pytest.mark.parametrize("reason", list(Unreadable))
def test_every_reason_a_result_cannot_be_read_is_said(reason):
    assert rules(record(unreadable(reason=reason))) == {"R25-unreadable-result": Indicator.INFO}


def test_r25_asks_for_the_test_again_once():
    rec = evaluate(
        record(unreadable(), unreadable(days=6), unreadable(LabKind.HB)), UK, AS_OF
    ).recommendations
    (r25,) = [r for r in rec if r.rule == "R25-unreadable-result"]
    assert sorted(lab.test for lab in r25.labs) == ["B12", "CBC"]


def test_r25_silent_when_a_readable_result_is_as_new():
    assert rules(record(unreadable(days=20), lab(LabKind.B12, 500, days=20))) == {}
    assert rules(record(unreadable(days=40), lab(LabKind.B12, 500, days=10))) == {}


def test_r25_silent_for_an_old_unreadable_result_or_an_analyte_that_decides_nothing():
    assert rules(record(unreadable(days=US.current_lab_days + 1))) == {}
    assert rules(record(unreadable(LabKind.FERRITIN))) == {}


def test_r25_warns_with_neurological_signs():
    rec = record(unreadable(LabKind.MMA), finding(Finding.NEURO, days=10))
    assert rules(rec)["R25-unreadable-result"] is Indicator.WARNING


@PROFILES
def test_a_card_resting_on_an_older_b12_names_the_newer_one_it_could_not_read(profile):
    """§6: loading started on a B12 that an unreadable newer one may supersede says so:
    the card names the older result it rests on and the newer one to check (R25 beside
    it asks for the report or a repeat), rather than holding back treatment."""
    newer = unreadable(days=2)
    rec = record(lab(LabKind.B12, 120, days=9), lab(LabKind.MCV, 104, days=9), newer)
    found = {r.rule: r for r in evaluate(rec, profile, AS_OF).recommendations}
    assert set(found) == {"R2-start-standard-loading", "R25-unreadable-result"}
    b12 = found["R2-start-standard-loading"].facts["b12"]
    assert isinstance(b12, BeforeUnreadable)
    assert b12.lab.value == 120 and b12.unread.items == (newer,)
    assert found["R25-unreadable-result"].facts["b12"].value == 120  # said once, there


def test_a_b12_newer_than_the_unreadable_one_needs_no_such_words():
    rec = record(lab(LabKind.B12, 120, days=2), lab(LabKind.MCV, 104, days=2), unreadable(days=9))
    (r,) = evaluate(rec, US, AS_OF).recommendations
    assert r.facts["b12"].value == 120
