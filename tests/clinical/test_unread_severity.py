"""A blood count newer than the one the assessment uses that could not be read leaves
severity open (a "75 g/dL" Hb was 7.5 g/dL): no oral-first card, no oral alternative."""

from __future__ import annotations

import pytest

from cds_b12.clinical import evaluate
from cds_b12.clinical.profiles import UK, US
from cds_b12.clinical.recommendation import Indicator, Kind, LabNote
from cds_b12.clinical.record import Finding, LabKind, Unreadable, UnreadableResult
from cds_b12.clinical.safety import s9_severe_anaemia

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


# Severe anaemia not ruled out: the S6 and S9 advice is given conditionally, never as a claim.


@PROFILES
@NEWER_HB
def test_an_unreadable_newest_hb_gives_the_potassium_advice_without_claiming_severity(
    profile, newer
):
    """b12-clinical.md US-2 (FDA label): "Monitor serum K⁺ closely for the first 48 h in
    pernicious anaemia"; §5 S6: "When loading starts and Hb <8 g/dL (or severe megaloblastic
    anaemia/pancytopenia), suggest K⁺ at baseline and within 48 h." An Hb that could not be
    read does not rule Hb <8 out, so the loading card checks potassium at baseline and at
    48 hours, with its own line (S6-severity-open), not S6's "Severe anaemia" line."""
    r2 = by_rule(record(LOW_B12, OLD_HB, newer), profile)["R2-start-standard-loading"]
    assert "S6-severity-open" in r2.safety and "S6" not in r2.safety
    potassium = [(x.test, x.note) for x in r2.labs if x.test == "POTASSIUM"]
    assert potassium == [("POTASSIUM", LabNote.BASELINE), ("POTASSIUM", LabNote.AT_48_HOURS)]


@PROFILES
@NEWER_HB
def test_an_unreadable_newest_hb_gives_the_admission_advice_conditionally(profile, newer):
    """b12-clinical.md §5 S9: "Severe anaemia (Hb <8 g/dL) or pancytopenia: urgent
    assessment or admission." Not ruled out is not present: the card says it as a
    condition (S9-severity-open), stays a warning, and R7 (which names severe anaemia as
    the patient's finding) does not fire."""
    ev = evaluate(record(LOW_B12, OLD_HB, newer), profile, AS_OF)
    found = {r.rule: r for r in ev.recommendations}
    r2 = found["R2-start-standard-loading"]
    # the loading card's S6-severity-open line carries S9's advice (one line, not two)
    assert "S9" not in r2.safety and "S9-severity-open" not in r2.safety
    assert r2.indicator is Indicator.WARNING
    assert "R7-severe-anaemia" not in found
    other_start = r2.with_changes(kind=Kind.START_MAINTENANCE, safety=())
    said = s9_severe_anaemia(other_start, ev.assessment, profile)
    assert said.safety == ("S9-severity-open",) and said.indicator is Indicator.WARNING


@PROFILES
def test_an_unreadable_platelet_count_with_anaemia_gives_the_conditional_advice(profile):
    """§5 S6 and S9 name pancytopenia beside Hb <8: an unreadable count with anaemia leaves
    it open (``severity_open``)."""
    moderate = lab(LabKind.HB, 9.5, days=9)
    rec = record(LOW_B12, moderate, no_unit(LabKind.PLATELETS))
    r2 = by_rule(rec, profile)["R2-start-standard-loading"]
    assert "S6-severity-open" in r2.safety and "S6" not in r2.safety


@PROFILES
def test_a_readable_newest_hb_gives_no_conditional_advice(profile):
    found = by_rule(record(LOW_B12, lab(LabKind.HB, 12.4, days=1), no_unit()), profile)
    r2 = found["R2-start-standard-loading"]
    assert not {"S6-severity-open", "S9-severity-open"} & set(r2.safety)
    assert not [x for x in r2.labs if x.test == "POTASSIUM"]


@PROFILES
def test_a_known_severe_hb_keeps_the_plain_lines(profile):
    """An older readable Hb below 8 already decides: S6 and S9 as before, not the open ones."""
    severe = lab(LabKind.HB, 7.2, days=9)
    r2 = by_rule(record(LOW_B12, severe, no_unit()), profile)["R2-start-standard-loading"]
    assert {"S6", "S9"} <= set(r2.safety)
    assert not {"S6-severity-open", "S9-severity-open"} & set(r2.safety)
