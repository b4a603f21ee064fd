"""R7/S9: pancytopenia is read from the blood count and is never routine repletion."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, Kind
from cds_b12.clinical.record import Finding, LabKind

from .records import AS_OF, PA, finding, lab, record

LOW_B12 = lab(LabKind.B12, 120)
HB = lab(LabKind.HB, 9.6)
WBC = lab(LabKind.WBC, 2.3)
NEUTROPHILS = lab(LabKind.NEUTROPHILS, 0.9)
PLATELETS = lab(LabKind.PLATELETS, 62)


def by_rule(rec, profile=US):
    return {r.rule.split("-")[0]: r for r in evaluate(rec, profile, AS_OF).recommendations}


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_pancytopenia_with_moderate_anaemia_is_critical_same_day_assessment(profile):
    recs = by_rule(record(PA, LOW_B12, HB, WBC, NEUTROPHILS, PLATELETS), profile)
    r7 = recs["R7"]
    assert r7.indicator is Indicator.CRITICAL and r7.kind is Kind.URGENT_ASSESSMENT
    assert (r7.facts["wbc"], r7.facts["neutrophils"], r7.facts["platelets"]) == (
        WBC,
        NEUTROPHILS,
        PLATELETS,
    )
    # the loading card is no longer routine either (S9), and checks potassium (S6)
    assert recs["R2"].indicator is Indicator.CRITICAL
    assert {"S6", "S9"} <= set(recs["R2"].safety)


def test_neutropenia_stands_for_the_white_cells():
    assert "R7" in by_rule(record(PA, LOW_B12, HB, lab(LabKind.WBC, 4.5), NEUTROPHILS, PLATELETS))


@pytest.mark.parametrize(
    "counts",
    [
        (WBC, NEUTROPHILS),  # platelets not measured
        (WBC, lab(LabKind.PLATELETS, 210)),
        (lab(LabKind.WBC, 6.0), lab(LabKind.NEUTROPHILS, 3.2), PLATELETS),
    ],
    ids=["no-platelets", "normal-platelets", "normal-white-cells"],
)
def test_one_or_two_low_lines_are_not_pancytopenia(counts):
    recs = by_rule(record(PA, LOW_B12, HB, *counts))
    assert "R7" not in recs
    assert recs["R2"].indicator is Indicator.WARNING


def test_the_labs_own_range_wins_over_the_profile_cut_off():
    narrow = lab(LabKind.PLATELETS, 140, ref_low=120, ref_high=400)
    assert "R7" not in by_rule(record(PA, LOW_B12, HB, WBC, narrow))
    strict = lab(LabKind.WBC, 4.2, ref_low=4.5, ref_high=11)
    assert "R7" in by_rule(record(PA, LOW_B12, HB, strict, PLATELETS))


def test_normal_hb_is_not_pancytopenia():
    assert "R7" not in by_rule(record(LOW_B12, lab(LabKind.HB, 13.5), WBC, PLATELETS))


def test_old_counts_do_not_describe_the_patient_now():
    old = (lab(LabKind.WBC, 2.3, days=500), lab(LabKind.PLATELETS, 62, days=500))
    assert "R7" not in by_rule(record(PA, LOW_B12, HB, *old))


def test_a_count_the_lab_flags_low_is_low_when_it_sends_no_range():
    flagged = lab(LabKind.PLATELETS, 160, interpretation="L")
    assert "R7" in by_rule(record(PA, LOW_B12, HB, WBC, flagged))


def test_no_oral_alternative_to_loading_with_pancytopenia():
    """US-4 (BMJ BP): pancytopenia is severe haematological disease, treated urgently with
    injections; oral B12 is only for the adherent patient who is not severely ill (US-5)."""
    r2 = by_rule(record(PA, LOW_B12, HB, WBC, NEUTROPHILS, PLATELETS), US)["R2"]
    assert r2.regimen.is_injection and r2.alternative is None


@pytest.mark.parametrize("profile", [US, UK], ids=["US", "UK"])
def test_a_dietary_cause_with_pancytopenia_is_loaded_with_injections_not_tablets(profile):
    vegan = finding(Finding.DIETARY_DEFICIENCY)
    recs = by_rule(
        record(vegan, LOW_B12, lab(LabKind.HB, 11.5), WBC, NEUTROPHILS, PLATELETS), profile
    )
    assert "R3" not in recs
    assert recs["R2"].regimen.is_injection and recs["R2"].alternative is None
