"""Nitrous oxide (S12, SP-9; NICE NG239): a normal B12 does not exclude deficiency, so
homocysteine is drawn; stopping is advised; neurological signs are treated urgently; the
cause is known and reversible, so no antibody tests and no lifelong maintenance."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, LabNote, Variant
from cds_b12.clinical.record import Finding, LabKind

from .records import AS_OF, finding, lab, record

PROFILES = pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
N2O = finding(Finding.NITROUS_OXIDE, days=200)
TINGLING = finding(Finding.NEURO, days=20)


def recs(*items, profile=US):
    return evaluate(record(*items, sex="male", age=25), profile, AS_OF).recommendations


def only(*items, profile=US):
    found = recs(*items, profile=profile)
    assert len(found) == 1, [r.rule for r in found]
    return found[0]


def ordered(rec):
    return {lab.test for lab in rec.labs}


@PROFILES
def test_b12_320_with_paraesthesia_and_nitrous_oxide(profile):
    r = only(lab(LabKind.B12, 320), TINGLING, N2O, profile=profile)
    assert r.rule == "R6-indeterminate-neuro"
    assert r.indicator is Indicator.CRITICAL
    assert "HCY" in ordered(r)  # homocysteine (NICE: first for nitrous oxide)
    hcy = next(lab for lab in r.labs if lab.test == "HCY")
    assert hcy.note is LabNote.BASELINE and hcy.due_from == AS_OF
    assert not {"IF_AB", "PCA"} & ordered(r)  # a known cause: no antibody tests
    assert r.regimen is not None
    assert (r.regimen.lifelong, r.regimen.then) == (False, None)  # no "then monthly for life"
    assert {"S8", "S12"} <= set(r.safety)  # urgent advice; advise stopping nitrous oxide


@PROFILES
def test_a_normal_b12_with_nitrous_oxide_and_neurological_signs_is_treated_urgently(profile):
    r = only(lab(LabKind.B12, 480), TINGLING, N2O, profile=profile)
    assert (r.rule, r.indicator, r.variant) == (
        "R6-indeterminate-neuro",
        Indicator.CRITICAL,
        Variant.NITROUS_OXIDE,
    )


@PROFILES
def test_a_normal_b12_with_nitrous_oxide_orders_homocysteine_as_a_warning(profile):
    r = only(lab(LabKind.B12, 450), N2O, profile=profile)
    assert (r.rule, r.indicator, r.variant) == (
        "R5-indeterminate-order-mma",
        Indicator.WARNING,
        Variant.NITROUS_OXIDE,
    )
    assert "HCY" in ordered(r)
    assert "S12" in r.safety


def test_a_normal_homocysteine_excludes_it():
    assert recs(lab(LabKind.B12, 450), lab(LabKind.HCY, 9), N2O) == ()


def test_a_raised_homocysteine_is_the_deficiency_treated_as_a_reversible_drug_cause():
    r = only(lab(LabKind.B12, 450), lab(LabKind.HCY, 40), N2O)
    assert r.rule == "R4-medication-cause"
    assert "S12" in r.safety
    assert not (r.regimen and r.regimen.lifelong)


def test_past_nitrous_oxide_use_alone_changes_nothing():
    assert recs(lab(LabKind.B12, 450), finding(Finding.NITROUS_OXIDE, active=False)) == ()


def test_an_irreversible_cause_as_well_keeps_lifelong_injections_and_s1():
    r = only(lab(LabKind.B12, 120), finding(Finding.PERNICIOUS_ANAEMIA), N2O)
    assert r.rule == "R2-start-standard-loading"
    assert r.regimen is not None and r.regimen.then is not None
    assert {"S1", "S12"} <= set(r.safety)
