"""A blood count newer than the one the assessment uses that could not be read leaves
severity open (a "75 g/dL" Hb was 7.5 g/dL): no oral-first card, no oral alternative."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Kind
from cds_b12.clinical.record import Finding, LabKind, Unreadable, UnreadableResult

from .records import AS_OF, ago, finding, lab, metformin, record

PROFILES = pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
LOW_B12 = lab(LabKind.B12, 120, days=9)
OLD_HB = lab(LabKind.HB, 12.4, days=9)
DIETARY = finding(Finding.DIETARY_DEFICIENCY)


def no_unit(kind: LabKind = LabKind.HB, days: int = 2) -> UnreadableResult:
    return UnreadableResult(
        kind, f"Observation/{kind.value.lower()}-x", ago(days), Unreadable.NO_UNIT
    )


NEWER_HB = pytest.mark.parametrize(
    "newer", [no_unit(), lab(LabKind.HB, 75, days=2)], ids=["no-unit", "implausible"]
)


def by_rule(rec, profile):
    return {r.rule: r for r in evaluate(rec, profile, AS_OF).recommendations}


@NEWER_HB
def test_us_loading_offers_no_oral_alternative_when_the_newest_hb_is_unreadable(newer):
    found = by_rule(record(LOW_B12, OLD_HB, newer), US)
    assert found["R2-start-standard-loading"].alternative is None
    assert "R25-unreadable-result" in found


def test_us_loading_offers_the_oral_alternative_when_the_unreadable_hb_is_superseded():
    found = by_rule(record(LOW_B12, lab(LabKind.HB, 12.4, days=1), no_unit()), US)
    assert found["R2-start-standard-loading"].alternative is not None


@PROFILES
@NEWER_HB
def test_a_dietary_cause_is_not_treated_orally_first_when_the_newest_hb_is_unreadable(
    profile, newer
):
    found = by_rule(record(DIETARY, LOW_B12, OLD_HB, newer), profile)
    assert "R3-dietary-oral" not in found
    r2 = found["R2-start-standard-loading"]
    assert r2.kind is Kind.START_LOADING and r2.alternative is None


@PROFILES
def test_a_drug_cause_is_not_treated_orally_first_when_the_newest_hb_is_unreadable(profile):
    found = by_rule(record(metformin(), LOW_B12, OLD_HB, no_unit()), profile)
    assert "R4-medication-cause" not in found
    assert found["R2-start-standard-loading"].alternative is None


@PROFILES
def test_an_unreadable_platelet_count_with_anaemia_leaves_pancytopenia_open(profile):
    mild = lab(LabKind.HB, 11.5, days=9)
    found = by_rule(record(DIETARY, LOW_B12, mild, no_unit(LabKind.PLATELETS)), profile)
    assert "R3-dietary-oral" not in found
    assert found["R2-start-standard-loading"].alternative is None


@PROFILES
def test_an_unreadable_platelet_count_without_anaemia_changes_nothing(profile):
    found = by_rule(record(DIETARY, LOW_B12, OLD_HB, no_unit(LabKind.PLATELETS)), profile)
    assert "R3-dietary-oral" in found
